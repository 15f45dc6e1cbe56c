/**
 * Response fuzzing at scale (issue 12 §5): the generated server responses of
 * `test/fuzz/response-fuzz.test.ts` (same generators, same judgement), as many per
 * transport as asked, then a table of how the calls ended and how long they took. Any
 * broken rule stops the run with fast-check's counterexample and the seed that replays it
 * (exit code 1).
 *
 *   npx tsx bench/response-fuzz.ts [--runs 10000] [--seed 12] [--transport rest,grpc]
 */

import { fuzzGrpcResponses } from '../test/fuzz/grpc-fuzz-run.js';
import type { FuzzReport } from '../test/fuzz/outcome.js';
import { fuzzRestResponses } from '../test/fuzz/rest-fuzz-run.js';
import { arg, markdownTable, percentile, tallyCell } from './cli-table.js';

function row(r: FuzzReport, seconds: number): string[] {
  const outcomes = tallyCell(r.outcomes);
  return [
    r.plane,
    String(r.cases),
    seconds.toFixed(1),
    (r.cases / seconds).toFixed(0),
    percentile(r.latencies, 50).toFixed(1),
    percentile(r.latencies, 99).toFixed(1),
    (r.latencies.at(-1) ?? 0).toFixed(1),
    String(r.unhandled.length),
    outcomes,
  ];
}

const runs = Number(arg('runs', '10000'));
const seed = Number(arg('seed', '12'));
const transports = arg('transport', 'rest,grpc').split(',');
const engines = { rest: fuzzRestResponses, grpc: fuzzGrpcResponses } as const;

const rows: string[][] = [];
let unhandled = 0;
for (const transport of transports) {
  const fuzz = engines[transport as keyof typeof engines];
  if (!fuzz) throw new Error(`--transport: rest or grpc, not ${transport}`);
  const started = performance.now();
  const report = await fuzz({ numRuns: runs, seed });
  unhandled += report.unhandled.length;
  rows.push(row(report, (performance.now() - started) / 1000));
  process.stderr.write(`${rows.at(-1)!.slice(0, 4).join(' ')}\n`);
}
process.stdout.write(
  `Response fuzz: ${runs} generated cases per transport, seed ${seed}; each call ends in a typed PineconeError or a valid result, retried as its reply says, delays within maxWait, key never shown\n\n`,
);
process.stdout.write(
  `${markdownTable(['transport', 'cases', 'wall s', 'cases/s', 'p50 ms', 'p99 ms', 'max ms', 'unhandled', 'outcomes'], rows)}\n`,
);
if (unhandled > 0) process.exitCode = 1;
