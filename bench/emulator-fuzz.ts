/**
 * The emulator fuzz suite at scale: the generated malformed and hostile requests of
 * `test/local/fuzz.test.ts` (same generators, same judgement), as many per plane as asked,
 * then a table of what came back and how fast. Any broken rule stops the run with
 * fast-check's counterexample and the seed that replays it.
 *
 *   npx tsx bench/emulator-fuzz.ts [--runs 2000] [--seed 15]
 */

import {
  fuzzController,
  fuzzDataPlane,
  fuzzGrpc,
  type PlaneReport,
  startFuzzTarget,
} from '../test/local/fuzz-run.js';
import { arg, markdownTable, percentile, tallyCell } from './cli-table.js';

function row(r: PlaneReport, seconds: number): string[] {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const answers = tallyCell(r.answers);
  return [
    r.plane,
    String(r.cases),
    (r.cases / seconds).toFixed(0),
    percentile(sorted, 50).toFixed(1),
    percentile(sorted, 99).toFixed(1),
    (sorted[sorted.length - 1] ?? 0).toFixed(1),
    answers,
  ];
}

const runs = Number(arg('runs', '2000'));
const seed = Number(arg('seed', '15'));
const server = await startFuzzTarget();
const rows: string[][] = [];
try {
  for (const fuzz of [fuzzDataPlane, fuzzController, fuzzGrpc]) {
    const started = performance.now();
    const report = await fuzz(server, { numRuns: runs, seed });
    rows.push(row(report, (performance.now() - started) / 1000));
  }
} finally {
  await server.close();
}
process.stdout.write(
  `Emulator fuzz: ${runs} cases per plane, seed ${seed}; every case answered within 5 s, no 5xx, 4xx in Pinecone's shape\n\n`,
);
process.stdout.write(
  `${markdownTable(['plane', 'cases', 'cases/s', 'p50 ms', 'p99 ms', 'max ms', 'answers'], rows)}\n`,
);
