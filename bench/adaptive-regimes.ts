/**
 * Bulk upsert against the real emulator over loopback, wall clock: this SDK (ceilings 8
 * and 32), the spec's algorithm taken literally (on the SDK's machinery), a plain fixed
 * pool with exponential backoff, and the official client, each loading the same records
 * into a fresh index, in three regimes: a token bucket looser than one request per round
 * trip (binding at both ceilings), one tighter than one request per round trip, and a cap
 * on requests in flight. The emulator runs in its own process; every figure about what
 * happened (requests rejected, vectors stored) is the emulator's, not the client's.
 *
 *   npx tsx bench/adaptive-regimes.ts [--quick] [--vectors N] [--regime NAME[,NAME]]
 *                                     [--contenders NAME[,NAME]] [--latency MS] [--trace]
 *
 * Regimes: rate-loose, rate-tight, inflight-3 (`--vectors` sets every regime's size,
 * `--quick` divides the defaults by 4). Contenders: sdk-8, sdk-32, spec-8, spec-32,
 * fixed-8, official-8. References, run only when named in `--contenders`: fixed-3, sdk-3
 * (told the in-flight cap: what a client that knows the server achieves).
 * `--trace` prints, after the table, each limiter's transitions and limit over time and
 * the emulator's per-second timeline. About 1.5 minutes (`--quick`: 30 s).
 */
import os from 'node:os';
import { seededRandom } from '../src/resilience/clock.js';
import { startEmulatorProcess } from './adaptive/emulator.js';
import { REGIMES, type Regime } from './adaptive/regimes.js';
import { measureServiceTime } from './adaptive/service-time.js';
import { formatRow, type Row, TABLE_HEADER } from './adaptive/table.js';
import { fixedPoolContender } from './contenders/fixed-pool.js';
import { officialContender } from './contenders/official.js';
import { sdkContender } from './contenders/sdk.js';
import type { BenchVector, Contender } from './contenders/types.js';

const DIM = 32;
const BATCH = 50;

/** Contenders and the ceiling (requests in flight at most) their bound assumes. */
const CONTENDERS: [Contender, number][] = [
  [sdkContender('sdk-8', 8), 8],
  [sdkContender('sdk-32', 32), 32],
  [sdkContender('spec-8', 8, { literalSpec: true }), 8],
  [sdkContender('spec-32', 32, { literalSpec: true }), 32],
  [fixedPoolContender('fixed-8', 8), 8],
  [officialContender('official-8', 8), 8],
];

/**
 * References for the in-flight cap, run only when named in `--contenders`: clients told
 * the cap (never throttled there). (The slow-start and retry-wake experiments that were
 * here are now the SDK's own behaviour.)
 */
const EXPERIMENTS: [Contender, number][] = [
  [fixedPoolContender('fixed-3', 3), 3],
  [sdkContender('sdk-3', 3), 3],
];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function pick(names: string[], list: string | undefined, what: string): Set<string> {
  if (list === undefined) return new Set(names);
  for (const n of list.split(',')) {
    if (!names.includes(n)) throw new Error(`unknown ${what} ${n}; one of ${names.join(', ')}`);
  }
  return new Set(list.split(','));
}

const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const started = performance.now();
  const quick = process.argv.includes('--quick');
  const trace = process.argv.includes('--trace');
  const latencyMs = Number(arg('latency') ?? 8);
  const fixedVectors = arg('vectors') === undefined ? undefined : Number(arg('vectors'));
  const regimeNames = pick(
    REGIMES.map((r) => r.name),
    arg('regime'),
    'regime',
  );
  const regimes = REGIMES.filter((r) => regimeNames.has(r.name));
  const all = [...CONTENDERS, ...EXPERIMENTS];
  const contenderNames = arg('contenders')
    ? pick(
        all.map(([c]) => c.name),
        arg('contenders'),
        'contender',
      )
    : new Set(CONTENDERS.map(([c]) => c.name));
  const contenders = all.filter(([c]) => contenderNames.has(c.name));
  const sizeOf = (r: Regime) => fixedVectors ?? (quick ? r.vectors / 4 : r.vectors);

  // The same records for every contender (a regime takes a prefix), seeded.
  const random = seededRandom(20261129);
  const vectors: BenchVector[] = Array.from({ length: Math.max(...regimes.map(sizeOf), BATCH) }, (_, k) => ({
    id: `vec-${k}`,
    values: Array.from({ length: DIM }, () => Math.fround(random() * 2 - 1)),
  }));

  const emu = await startEmulatorProcess(42);
  const rows: Row[] = [];
  const services: string[] = [];
  try {
    // Warm-up: JIT and module loading for every contender, on an unthrottled index.
    for (const [c] of contenders) {
      const name = `warmup-${c.name}`;
      const host = await emu.createIndex(name, DIM);
      await emu.setFaults(name, { latency: { fixedMs: latencyMs } });
      await c.run({
        host,
        controllerHost: emu.controllerHost,
        vectors: vectors.slice(0, 20 * BATCH),
        batchSize: BATCH,
      });
      await emu.deleteIndex(name);
    }

    console.log(
      `# bench/adaptive-regimes.ts ${process.argv.slice(2).join(' ')}`.trimEnd() +
        ` — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cores ` +
        `(${os.cpus()[0]?.model.trim()}), dim ${DIM}, batch ${BATCH}`,
    );
    console.log(
      `# fixed latency ${latencyMs} ms; service time s = ${latencyMs} ms + measured overhead: the median of 50 ` +
        'sequential round trips of one pre-encoded batch (bare undici, unthrottled index), measured right ' +
        "before each regime's runs and listed below the table",
    );
    console.log(
      '# bound: token bucket (requests - burst) / rps + s; in-flight cap c: ceil(requests / c) x s;',
    );
    console.log(
      '#        never below ceil(requests / ceiling) x s. (x) in parentheses: not everything stored.',
    );
    for (const regime of regimes) {
      const n = sizeOf(regime);
      console.log(`# ${regime.name}: ${regime.label}, ${n} vectors = ${Math.ceil(n / BATCH)} requests`);
    }
    console.log(`# load average before the runs: ${loadAverage()}`);
    console.log('');
    for (const line of TABLE_HEADER) console.log(line);

    for (const regime of regimes) {
      const n = sizeOf(regime);
      const input = vectors.slice(0, n);
      // Measured per regime: the machine's load drifts over a run.
      const serviceMs = await measureServiceTime(emu, vectors.slice(0, BATCH), DIM, latencyMs);
      services.push(`${regime.name} ${serviceMs.toFixed(2)} ms`);
      for (const [contender, ceiling] of contenders) {
        const name = `${regime.name}-${contender.name}`;
        const host = await emu.createIndex(name, DIM);
        // Set just before the run: the bucket restarts with one token, the fault sequence from its seed.
        await emu.setFaults(name, regime.faults(latencyMs));
        const t0 = performance.now();
        const report = await contender.run({
          host,
          controllerHost: emu.controllerHost,
          vectors: input,
          batchSize: BATCH,
        });
        const wallMs = performance.now() - t0;
        const stats = await emu.stats(name);
        await emu.deleteIndex(name);
        const row: Row = {
          regime: regime.name,
          contender: contender.name,
          wallMs,
          boundMs: regime.bound(Math.ceil(n / BATCH), serviceMs, ceiling),
          rejected: stats.requests.total ? stats.requests.rejected / stats.requests.total : 0,
          stored: stats.vectors.total / n,
          report,
          stats,
        };
        rows.push(row);
        console.log(formatRow(row));
      }
    }
  } finally {
    await emu.close();
  }

  console.log(`\n# service time s: ${services.join(', ')}`);
  if (trace) {
    for (const r of rows) {
      console.log(`\n## ${r.regime} / ${r.contender}: ${r.stats.requests.total} requests`);
      for (const line of r.report.trace ?? []) console.log(`  ${line}`);
      for (const p of r.stats.timeline) {
        console.log(
          `  t=${p.t}s accepted ${p.accepted} rejected ${p.rejected} vectors ${p.vectorsUpserted} inFlightMax ${p.inFlightMax}`,
        );
      }
    }
  }
  console.log(
    `\n# total ${((performance.now() - started) / 1000).toFixed(0)} s; load average after: ${loadAverage()}`,
  );
}

await main();
