/**
 * The chaos suite at full size (issue 12 §4): `test/chaos/chaos-run.ts` (same faults,
 * same settings, same checks) on 100 k vectors per transport, in real time, beside a
 * fault-free load of the same size for the ratio. Each row: wall time, what the emulator
 * saw, the SDK's retries, the accounting (stored = reported = intended), memory, and
 * what was left alive or unhandled. Any broken rule is printed and the exit code is 1.
 *
 *   npx tsx bench/chaos.ts [--vectors 100000] [--transport rest,grpc] [--runs 1] [--seed 12]
 *                          [--explain]
 *
 * `--explain` adds the rows that show what the time is spent on: the same faults without
 * Retry-After, and REST with the spec's default jitter cap (`maxWait` 60 s, as gRPC has).
 */

import {
  CHAOS_FAULTS,
  CHAOS_SETTINGS,
  type ChaosOptions,
  type ChaosReport,
  runChaos,
} from '../test/chaos/chaos-run.js';
import { arg, markdownTable } from './cli-table.js';

const vectors = Number(arg('vectors', '100000'));
const transports = arg('transport', 'rest,grpc').split(',') as ChaosOptions['transport'][];
const runs = Number(arg('runs', '1'));
const seed = Number(arg('seed', '12'));
const explain = process.argv.includes('--explain');

interface Scenario {
  name: string;
  options: Partial<ChaosOptions>;
  /** Only for this transport. */
  only?: ChaosOptions['transport'];
}

const scenarios: Scenario[] = [
  { name: 'fault-free', options: { faults: {} } },
  { name: '30 % faults', options: {} },
  ...(explain
    ? [
        {
          name: '30 % faults, no Retry-After',
          options: { faults: { ...CHAOS_FAULTS, errorRetryAfter: null } },
        },
        { name: '30 % faults, maxWait 60 s', options: { maxWait: 60 }, only: 'rest' as const },
      ]
    : []),
];

const fixed = (x: number, digits = 1) => x.toFixed(digits);

function row(transport: string, scenario: string, r: ChaosReport, baselineMs: number | undefined): string[] {
  const first = r.calls[0]!;
  const wallMs = r.calls.reduce((sum, c) => sum + c.wallMs, 0);
  const faults = r.requests - (r.outcomes['200'] ?? 0);
  const accounting = r.complete
    ? `${first.stored} = ${first.reported} = ${first.intended}`
    : `INCOMPLETE ${first.stored} / ${first.reported} / ${first.intended}`;
  return [
    transport,
    scenario,
    fixed(wallMs / 1000),
    baselineMs ? `${fixed(wallMs / baselineMs)}×` : '',
    fixed(first.intended / (wallMs / 1000), 0),
    `${r.requests} (${faults} faulted)`,
    String(r.retries.count),
    fixed(r.retries.totalDelay),
    fixed(r.retries.maxDelay),
    r.calls.length > 1 ? `${accounting}, ${r.calls.length} calls (${first.error})` : accounting,
    `${r.batchesHeld.max} / ${r.batchesHeld.bound}`,
    fixed(r.memory.peakRss, 0),
    fixed(r.memory.peakHeap, 0),
    r.leaks.length + r.unhandled.length === 0 ? 'none' : [...r.leaks, ...r.unhandled].join('; '),
  ];
}

const rows: string[][] = [];
const broken: string[] = [];
for (const transport of transports) {
  let baselineMs: number | undefined;
  for (const scenario of scenarios) {
    if (scenario.only && scenario.only !== transport) continue;
    for (let run = 0; run < (scenario.name === 'fault-free' ? 1 : runs); run++) {
      const report = await runChaos({ transport, vectors, seed: seed + run, ...scenario.options });
      if (scenario.name === 'fault-free') baselineMs = report.calls[0]!.wallMs;
      rows.push(
        row(transport, scenario.name, report, scenario.name === 'fault-free' ? undefined : baselineMs),
      );
      for (const v of report.violations) broken.push(`${transport} ${scenario.name}: ${v}`);
      process.stderr.write(`${rows.at(-1)!.slice(0, 4).join(' ')} s\n`);
    }
  }
}

const s = CHAOS_SETTINGS;
process.stdout.write(
  `Chaos: ${vectors} vectors per load (dimension ${s.dimension}, batches of ${s.batchSize}, maxConcurrency ${s.maxConcurrency}), ` +
    `timeout ${s.timeout} s, maxRetries ${s.maxRetries}, REST maxWait ${s.maxWait} s, seed ${seed}; emulator in-process, real time\n\n`,
);
process.stdout.write(
  `${markdownTable(
    [
      'transport',
      'faults',
      'wall s',
      '÷ fault-free',
      'vectors/s',
      'requests',
      'retries',
      'Σ retry delay s',
      'longest delay s',
      'stored = reported = intended',
      'batches held / bound',
      'peak RSS MiB',
      'peak heap MiB',
      'left alive / unhandled',
    ],
    rows,
  )}\n`,
);
if (broken.length > 0) {
  process.stdout.write(`\nBROKEN:\n${broken.map((b) => `- ${b}`).join('\n')}\n`);
  process.exitCode = 1;
}
