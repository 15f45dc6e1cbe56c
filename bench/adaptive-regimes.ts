/**
 * Bulk upsert against the real emulator over loopback, wall clock: this SDK, the spec's
 * algorithm taken literally (on the SDK's machinery) and a naive loop (a fixed pool with
 * exponential backoff), all at a ceiling of 16, each loading the same records into a fresh
 * index, in the scenarios of issue 12: limits that depend on load (a token bucket of 40/s,
 * an in-flight cap of 4, a bucket of 2/s with a 300 ms round trip), judged against the
 * bound they allow, and faults that arrive whatever the load (random 429s on 5, 12 and
 * 25 %, random 503s with Retry-After, 30 % faults of every kind), judged against the same
 * contender's fault-free run. The emulator runs in its own process; every figure about
 * what happened (requests rejected, vectors stored) is the emulator's, not the client's.
 *
 *   npx tsx bench/adaptive-regimes.ts [--quick] [--vectors N] [--regime NAME[,NAME]]
 *                                     [--contenders NAME[,NAME]] [--trace]
 *
 * Regimes: bucket-40, inflight-4, rate-2, random-429-5, random-429-12, random-429-25,
 * random-503-ra, chaos-30 (default: all), and the earlier rate-loose, rate-tight,
 * inflight-3 when named. `--vectors` sets every regime's size, `--quick` divides the
 * defaults by 4. Contenders: sdk-16, spec-16, naive-16 (default); also sdk-8, sdk-32,
 * spec-8, spec-32, fixed-8, official-8 and the references fixed-3, sdk-3 (told the
 * in-flight cap) when named. `--trace` prints, after the table, each limiter's
 * transitions and the emulator's per-second timeline. About 6 minutes.
 */
import os from 'node:os';
import type { FaultConfig } from '../src/local.js';
import { seededRandom } from '../src/resilience/clock.js';
import { startEmulatorProcess } from './adaptive/emulator.js';
import { MORE_REGIMES, REGIMES, type Regime } from './adaptive/regimes.js';
import { measureServiceTime } from './adaptive/service-time.js';
import { formatRow, type Row, TABLE_HEADER } from './adaptive/table.js';
import { arg } from './cli-table.js';
import { fixedPoolContender } from './contenders/fixed-pool.js';
import { officialContender } from './contenders/official.js';
import { sdkContender } from './contenders/sdk.js';
import type { BenchVector, Contender } from './contenders/types.js';

const DIM = 32;
const BATCH = 50;

/** Contenders and the ceiling (requests in flight at most) their bound assumes. */
const CONTENDERS: [Contender, number][] = [
  [sdkContender('sdk-16', 16), 16],
  [sdkContender('spec-16', 16, { literalSpec: true }), 16],
  [fixedPoolContender('naive-16', 16), 16],
];

/** Run when named in `--contenders`. */
const OTHERS: [Contender, number][] = [
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
  const fixedVectors = arg('vectors') === undefined ? undefined : Number(arg('vectors'));
  const allRegimes = [...REGIMES, ...MORE_REGIMES];
  const regimeNames = arg('regime')
    ? pick(
        allRegimes.map((r) => r.name),
        arg('regime'),
        'regime',
      )
    : new Set(REGIMES.map((r) => r.name));
  const regimes = allRegimes.filter((r) => regimeNames.has(r.name));
  const all = [...CONTENDERS, ...OTHERS, ...EXPERIMENTS];
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
      await emu.setFaults(name, { latency: { fixedMs: 8 } });
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
      "# service time s = the regime's fixed latency + measured overhead: the median of 50 sequential " +
        'round trips of one pre-encoded batch (bare undici, unthrottled index), measured right ' +
        "before each regime's runs and listed below the table",
    );
    console.log(
      '# bound: token bucket (requests - burst) / rps + s; in-flight cap c: ceil(requests / c) x s;',
    );
    console.log(
      '#        never below ceil(requests / ceiling) x s. Faults that arrive whatever the load: the bound is',
    );
    console.log(
      "#        the same contender's wall on the same index without the faults (÷ fault-free). (x): not everything stored.",
    );
    for (const regime of regimes) {
      const n = sizeOf(regime);
      const retries = regime.retries
        ? `; every contender: maxRetries ${regime.retries.maxRetries}${regime.retries.timeout ? `, timeout ${regime.retries.timeout} s` : ''}`
        : '';
      console.log(
        `# ${regime.name}: ${regime.label}, ${n} vectors = ${Math.ceil(n / BATCH)} requests${retries}`,
      );
    }
    console.log(`# load average before the runs: ${loadAverage()}`);
    console.log('');
    for (const line of TABLE_HEADER) console.log(line);

    for (const regime of regimes) {
      const n = sizeOf(regime);
      const input = vectors.slice(0, n);
      // Measured per regime: the machine's load drifts over a run.
      const serviceMs = await measureServiceTime(emu, vectors.slice(0, BATCH), DIM, regime.latencyMs);
      services.push(`${regime.name} ${serviceMs.toFixed(2)} ms`);
      for (const [contender, ceiling] of contenders) {
        const run = async (name: string, faults: FaultConfig) => {
          const host = await emu.createIndex(name, DIM);
          // Set just before the run: the bucket restarts with one token, the fault sequence from its seed.
          await emu.setFaults(name, faults);
          const t0 = performance.now();
          const report = await contender.run({
            host,
            controllerHost: emu.controllerHost,
            vectors: input,
            batchSize: BATCH,
            retries: regime.retries,
          });
          const wallMs = performance.now() - t0;
          const stats = await emu.stats(name);
          await emu.deleteIndex(name);
          return { report, wallMs, stats };
        };
        const name = `${regime.name}-${contender.name}`;
        // Faults that arrive whatever the load: the contender's own fault-free run is the bound.
        const clean = regime.bound
          ? undefined
          : await run(`${name}-clean`, { latency: { fixedMs: regime.latencyMs } });
        const { report, wallMs, stats } = await run(name, regime.faults);
        const row: Row = {
          regime: regime.name,
          contender: contender.name,
          wallMs,
          boundMs: regime.bound ? regime.bound(Math.ceil(n / BATCH), serviceMs, ceiling) : clean!.wallMs,
          versusFaultFree: !regime.bound,
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
