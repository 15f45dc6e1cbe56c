/**
 * What writing float32 values as shortest decimals costs a fetch response. A fetch of
 * 1000 records is built and serialised the way the emulator answers it (records to
 * JSON-ready objects, then `JSON.stringify`), with three ways of turning the stored
 * `Float32Array`s into numbers, side by side in one run:
 * - `widened`: `Array.from` (what the emulator did before; prints `0.4000000059604645`);
 * - `shortest`: `src/data/float32.ts` (what it does now; prints `0.4`);
 * - `toPrecision loop`: the obvious string approach, for scale (`toPrecision(p)` for
 *   p = 1, 2, ... until `Math.fround` reads the value back).
 * Each row also shows the body size and what a client pays to `JSON.parse` it. Last, a
 * real 1000-id fetch through the emulator over loopback (client parse included), and with
 * `--baseline <checkout>` the same through that checkout's emulator, alternately.
 *
 *   npx tsx bench/float32-json.ts [--records 1000] [--reps 9] [--baseline ../other-checkout]
 */
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { shortestFloat32Array } from '../src/data/float32.js';
import { startLocalServer } from '../src/local.js';
import { seededRandom } from '../src/resilience/clock.js';
import { arg } from './cli-table.js';

const RECORDS = Number(arg('records', '1000'));
const REPS = Number(arg('reps', '9'));

type Convert = (values: Float32Array) => number[];

function toPrecisionLoop(values: Float32Array): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const f = values[i]!;
    let d = f;
    for (let p = 1; p <= 9; p++) {
      const c = Number(f.toPrecision(p));
      if (Math.fround(c) === f) {
        d = c;
        break;
      }
    }
    out[i] = d;
  }
  return out;
}

const CONTENDERS: [string, Convert][] = [
  ['widened (before)', (v) => Array.from(v)],
  ['shortest (now)', shortestFloat32Array],
  ['toPrecision loop', toPrecisionLoop],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function dataset(dim: number): Float32Array[] {
  const random = seededRandom(dim);
  return Array.from({ length: RECORDS }, () => {
    const v = new Float32Array(dim);
    for (let d = 0; d < dim; d++) v[d] = random() * 2 - 1;
    return v;
  });
}

/** One fetch response: build, stringify and client-parse times (ms) and its size. */
function once(records: Float32Array[], convert: Convert) {
  const t0 = performance.now();
  const vectors: Record<string, unknown> = {};
  for (let i = 0; i < records.length; i++)
    vectors[`doc-${i}`] = { id: `doc-${i}`, values: convert(records[i]!) };
  const t1 = performance.now();
  const body = JSON.stringify({ vectors, namespace: '', usage: { readUnits: 100 } });
  const t2 = performance.now();
  JSON.parse(body);
  const t3 = performance.now();
  return { build: t1 - t0, stringify: t2 - t1, parse: t3 - t2, bytes: Buffer.byteLength(body) };
}

type Sample = ReturnType<typeof once>;

/**
 * Medians per contender, the contenders interleaved run by run so that a busy machine
 * slows them alike; the slow string contender runs one time in three.
 */
function measure(records: Float32Array[]) {
  const samples = CONTENDERS.map((): Sample[] => []);
  for (let rep = 0; rep < REPS + 2; rep++) {
    CONTENDERS.forEach(([name, convert], c) => {
      if (name === 'toPrecision loop' && rep % 3 !== 2) return;
      const sample = once(records, convert);
      if (rep >= 2) samples[c]!.push(sample);
    });
  }
  return CONTENDERS.map(([name], c) => {
    const runs = samples[c]!;
    const m = (pick: (s: Sample) => number) => median(runs.map(pick));
    return {
      name,
      build: m((s) => s.build),
      stringify: m((s) => s.stringify),
      parse: m((s) => s.parse),
      bytes: runs[0]!.bytes,
    };
  });
}

type Start = typeof startLocalServer;

/** A started emulator with one index of `dim` filled with the dataset, and its fetch path. */
async function fetchTarget(start: Start, dim: number) {
  const server = await start({ indexes: [{ name: 'fetch', dimension: dim, metric: 'cosine' }] });
  const records = dataset(dim);
  server.emulator
    .require('fetch')
    .store.namespaceForWrite('')
    .upsert(records.map((values, i) => ({ id: `d${i}`, values })));
  const pool = new Pool(server.indexHost('fetch'), { connections: 1 });
  const path = `/vectors/fetch?${records.map((_, i) => `ids=d${i}`).join('&')}`;
  return {
    async fetchOnce(): Promise<number> {
      const t0 = performance.now();
      const res = await pool.request({ method: 'GET', path });
      const json = (await res.body.json()) as { vectors: Record<string, unknown> };
      if (Object.keys(json.vectors).length !== records.length) throw new Error('short fetch');
      return performance.now() - t0;
    },
    async close() {
      await pool.close();
      await server.close();
    },
  };
}

/** Median fetch time (request to parsed response) of each emulator, run alternately. */
async function endToEnd(starts: Start[], dim: number): Promise<number[]> {
  const targets = await Promise.all(starts.map((start) => fetchTarget(start, dim)));
  const times = targets.map((): number[] => []);
  try {
    for (let rep = 0; rep < REPS + 2; rep++) {
      for (const [t, target] of targets.entries()) {
        const ms = await target.fetchOnce();
        if (rep >= 2) times[t]!.push(ms);
      }
    }
  } finally {
    for (const target of targets) await target.close();
  }
  return times.map(median);
}

const header = [
  'dim',
  'values to numbers',
  'build ms',
  'stringify ms',
  'server ms',
  'vs before',
  'MB',
  'client parse ms',
  'server + client ms',
  'vs before',
];
const rows: string[][] = [];
for (const dim of [768, 1536]) {
  const results = measure(dataset(dim));
  const before = results[0]!;
  const beforeServer = before.build + before.stringify;
  const beforeBoth = beforeServer + before.parse;
  for (const r of results) {
    const server = r.build + r.stringify;
    const both = server + r.parse;
    rows.push([
      String(dim),
      r.name,
      r.build.toFixed(1),
      r.stringify.toFixed(1),
      server.toFixed(1),
      `${(server / beforeServer).toFixed(2)}x`,
      (r.bytes / 1e6).toFixed(1),
      r.parse.toFixed(1),
      both.toFixed(1),
      `${(both / beforeBoth).toFixed(2)}x`,
    ]);
  }
}

console.log(
  `A fetch response of ${RECORDS} records, float32 values in [-1, 1], median of ${REPS} interleaved runs (in-process)`,
);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const fmt = (r: string[]) =>
  `| ${r.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
console.log(fmt(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(fmt(r));

// `--baseline <checkout>`: also fetch through the emulator of another checkout (e.g. one
// from before this change), alternately with this one.
const baseline = arg('baseline', '');
const starts: Start[] = [startLocalServer];
if (baseline) {
  const url = pathToFileURL(`${baseline.replace(/\/$/, '')}/src/local.ts`).href;
  starts.push(((await import(url)) as { startLocalServer: Start }).startLocalServer);
}
console.log(
  `\nThe emulator's REST fetch of ${RECORDS} ids over loopback (request to parsed response), median:`,
);
for (const dim of [768, 1536]) {
  const [now, before] = await endToEnd(starts, dim);
  const vs =
    before === undefined
      ? ''
      : `; baseline ${before.toFixed(1)} ms, now ÷ baseline ${(now! / before).toFixed(2)}x`;
  console.log(`  dim ${dim}: ${now!.toFixed(1)} ms${vs}`);
}
