/**
 * Exhaustive check of the REST encoder's number writer (`src/data/json-number.ts`): every
 * float32 in its exact fast range [1e-4, 1e9), each compared byte for byte with
 * `JSON.stringify` (V8's own formatter), plus the time each takes. Outside that range the
 * writer calls JSON.stringify itself. The unit tests sample the same space; this walks
 * all of it (about 370 million values, a minute or two).
 *
 *   npx tsx bench/json-number-check.ts [--every 1] [--negative]
 */
import { writeJsonNumber } from '../src/data/json-number.js';
import { arg } from './cli-table.js';

const every = Number(arg('every', '1'));
const sign = process.argv.includes('--negative') ? -1 : 1;
const buf = Buffer.alloc(64);
const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

f32[0] = 1e-4;
const first = u32[0]! + (f32[0] < 1e-4 ? 1 : 0);
f32[0] = 1e9;
const last = u32[0]! - (f32[0] >= 1e9 ? 1 : 0);

let checked = 0;
let bad = 0;
const started = performance.now();
for (let b = first; b <= last; b += every) {
  u32[0] = b;
  const x = sign * f32[0]!;
  const end = writeJsonNumber(buf, view, 0, x);
  const ours = buf.toString('latin1', 0, end);
  const theirs = JSON.stringify(x);
  checked++;
  if (ours !== theirs && bad++ < 20) console.log(`MISMATCH ${theirs} written as ${ours}`);
  if ((b - first) % (1 << 25) < every) {
    const done = (b - first) / (last - first);
    process.stderr.write(`\r${(done * 100).toFixed(0)}% checked ${checked}`);
  }
}
const seconds = (performance.now() - started) / 1000;
process.stderr.write('\n');
console.log(
  `float32 in [1e-4, 1e9) ${sign < 0 ? 'negated ' : ''}every ${every}: ${checked} checked, ${bad} differ from JSON.stringify (${seconds.toFixed(0)} s)`,
);
process.exitCode = bad > 0 ? 1 : 0;
