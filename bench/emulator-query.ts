/**
 * Exact query latency of the emulator, each way side by side in one run, on seeded random
 * data (10k × 768, 100k × 768 and 1M × 128 vectors by default):
 *
 * 1. The scan alone, in this process (no HTTP), top 10, per metric: the obvious JS loop
 *    (one accumulator, norms from the write), the store's plain-JS scan, and the store with
 *    the native kernel (usearch) on one thread (the default) and on every core.
 * 2. Through the emulator over loopback, one query at a time: the emulator runs in a child
 *    process with the native kernel, or with the plain-JS scan (PINECONE_EMULATOR_NATIVE=off),
 *    and reports its resident memory once filled and after the queries.
 *
 *   npx tsx bench/emulator-query.ts [--sizes 10000x768,100000x768,1000000x128] [--queries 20]
 *                                   [--only scan|http]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { Metric } from '../src/data/types.js';
import { createNativeKernel, type NativeKernel } from '../src/local/native-kernel.js';
import { NamespaceStore, type RecordInput } from '../src/local/store.js';
import { TopK } from '../src/local/top-k.js';
import { seededRandom } from '../src/resilience/clock.js';
import { arg } from './cli-table.js';

const METRICS: Metric[] = ['cosine', 'dotproduct', 'euclidean'];
const TOP_K = 10;
const WARM_UP = 3;

interface Size {
  count: number;
  dim: number;
}

const label = (s: Size) => `${s.count.toLocaleString('en-US')} × ${s.dim}`;
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

/** The rows of the benchmark: the same for every way and process (seed 1). */
function dataset({ count, dim }: Size): Float32Array {
  const random = seededRandom(1);
  const data = new Float32Array(count * dim);
  for (let i = 0; i < data.length; i++) data[i] = random() * 2 - 1;
  return data;
}

/** The queries (seed 2). */
function queries(dim: number, n: number): Float32Array[] {
  const random = seededRandom(2);
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => random() * 2 - 1));
}

/** Write the rows into a namespace in batches, as views (the store copies them). */
function fill(ns: NamespaceStore, data: Float32Array, { count, dim }: Size, metadata: boolean): void {
  for (let start = 0; start < count; start += 1000) {
    const batch: RecordInput[] = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      batch.push({
        id: `doc-${i}`,
        values: data.subarray(i * dim, i * dim + dim),
        metadata: metadata ? { bucket: i % 10, title: `document ${i}` } : undefined,
      });
    }
    ns.upsert(batch);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** p50 and p95 of the timings after the warm-up ones. */
function summary(ms: number[]): { p50: number; p95: number } {
  const sorted = ms.slice(WARM_UP).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

function printTable(title: string, header: string[], rows: string[][]): void {
  console.log(`\n${title}\n`);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    `| ${r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(fmt(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(fmt(r));
}

// ---------------------------------------------------------------- 1. the scan alone

/** The obvious exact scan: one accumulator per row, norms computed once beforehand. */
function obviousScan(data: Float32Array, norms: Float64Array, dim: number, q: Float32Array, metric: Metric) {
  const rows = norms.length;
  let qq = 0;
  for (const x of q) qq += x * x;
  const qNorm = Math.sqrt(qq);
  const heap = new TopK(TOP_K);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const off = r * dim;
    if (metric === 'euclidean') {
      for (let d = 0; d < dim; d++) s += (data[off + d]! - q[d]!) ** 2;
      heap.push(r, -s, s);
    } else {
      for (let d = 0; d < dim; d++) s += data[off + d]! * q[d]!;
      if (metric === 'cosine') s /= qNorm * norms[r]!;
      heap.push(r, s, s);
    }
  }
  return heap.result().map((m) => m.slot);
}

/** A kernel whose thread count the benchmark switches between runs. */
function switchableKernel(kernels: Record<string, NativeKernel>): {
  kernel: NativeKernel;
  use(name: string): void;
} {
  let current = Object.values(kernels)[0]!;
  return {
    use: (name) => {
      current = kernels[name]!;
    },
    kernel: {
      description: 'switchable',
      nearest: (...args) => current.nearest(...args),
      rankError: (...args) => current.rankError(...args),
    },
  };
}

async function scanTable(sizes: Size[], n: number): Promise<void> {
  const cores = availableParallelism();
  let native: ReturnType<typeof switchableKernel> | undefined;
  try {
    native = switchableKernel({
      one: createNativeKernel({ threads: 1 }),
      all: createNativeKernel({ threads: cores }),
    });
  } catch (err) {
    console.log(`usearch unavailable (${(err as Error).message}): native columns empty`);
  }
  const ways = [
    'obvious JS loop',
    'store, plain JS',
    'store, usearch 1 thread (default)',
    `store, usearch ${cores} threads`,
  ];
  const rows: string[][] = [];
  const differences: string[] = [];
  for (const size of sizes) {
    const data = dataset(size);
    const qs = queries(size.dim, n + WARM_UP);
    const times = new Map<string, number[]>();
    const answers = new Map<string, string>();
    const record = (way: string, metric: Metric, i: number, ms: number, ids: string) => {
      const key = `${way}|${metric}`;
      times.set(key, [...(times.get(key) ?? []), ms]);
      const reference = answers.get(`${metric}|${i}`);
      if (reference === undefined) answers.set(`${metric}|${i}`, ids);
      else if (reference !== ids) differences.push(`${way}, ${label(size)} ${metric} query ${i}`);
    };

    const norms = new Float64Array(size.count);
    for (let r = 0; r < size.count; r++) {
      let s = 0;
      for (let d = 0; d < size.dim; d++) s += data[r * size.dim + d]! ** 2;
      norms[r] = Math.sqrt(s);
    }
    for (const metric of METRICS) {
      qs.forEach((q, i) => {
        const t0 = performance.now();
        const slots = obviousScan(data, norms, size.dim, q, metric);
        record(ways[0]!, metric, i, performance.now() - t0, slots.map((s) => `doc-${s}`).join());
      });
    }

    // One store at a time, so the process holds at most the data and one copy of it.
    const stores: [string[], () => NamespaceStore, (way: string) => void][] = [
      [[ways[1]!], () => new NamespaceStore(size.dim, { kernel: null }), () => {}],
    ];
    if (native) {
      stores.push([
        [ways[2]!, ways[3]!],
        () => new NamespaceStore(size.dim, { kernel: native.kernel }),
        (way) => native.use(way === ways[2] ? 'one' : 'all'),
      ]);
    }
    for (const [storeWays, create, use] of stores) {
      const store = create();
      fill(store, data, size, false);
      for (const way of storeWays) {
        use(way);
        for (const metric of METRICS) {
          qs.forEach((q, i) => {
            const t0 = performance.now();
            const found = store.search({ dense: q }, TOP_K, metric);
            const ms = performance.now() - t0;
            record(way, metric, i, ms, found.map((m) => store.idAt(m.slot)).join());
          });
        }
      }
    }

    for (const metric of METRICS) {
      const cells = ways.map((way) => {
        const t = times.get(`${way}|${metric}`);
        if (!t) return '–';
        const { p50, p95 } = summary(t);
        return `${p50.toFixed(1)} / ${p95.toFixed(1)}`;
      });
      const js = times.get(`${ways[1]}|${metric}`);
      const fast = times.get(`${ways[2]}|${metric}`);
      const ratio = js && fast ? (summary(js).p50 / summary(fast).p50).toFixed(1) : '–';
      rows.push([label(size), metric, ...cells, ratio]);
    }
  }
  printTable(
    `Scan alone, in-process, top ${TOP_K}, ${n} queries after ${WARM_UP} warm-up: p50 / p95 ms`,
    ['vectors', 'metric', ...ways, 'plain JS ÷ usearch'],
    rows,
  );
  console.log(
    differences.length === 0
      ? '\nEvery way returned the same ids for every query.'
      : `\nAnswers that differ from the obvious loop's: ${differences.join('; ')}`,
  );
}

// ---------------------------------------------------------------- 2. over loopback

interface ServerReady {
  host: string;
  kernel: string;
  rssMb: number;
}

/** The child: an emulator with one filled index; answers `rss` messages. */
async function serve(): Promise<void> {
  const { startLocalServer } = await import('../src/local.js');
  const { nativeKernelStatus } = await import('../src/local/native-kernel.js');
  const size = { count: Number(arg('count', '0')), dim: Number(arg('dim', '0')) };
  const metric = arg('metric', 'cosine') as Metric;
  const server = await startLocalServer({ indexes: [{ name: 'query', dimension: size.dim, metric }] });
  let data: Float32Array | undefined = dataset(size);
  fill(server.emulator.require('query').store.namespaceForWrite(''), data, size, true);
  data = undefined;
  // Collect the generated rows and the store's outgrown arrays, so RSS shows what stays.
  for (let i = 0; i < 2; i++) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const ready: ServerReady = {
    host: server.indexHost('query'),
    kernel: nativeKernelStatus(),
    rssMb: mb(process.memoryUsage().rss),
  };
  process.send!(ready);
  process.on('message', (msg) => {
    if (msg === 'rss') process.send!({ rssMb: mb(process.memoryUsage().rss) });
    if (msg === 'close') void server.close().then(() => process.exit(0));
  });
}

interface HttpRun {
  size: Size;
  metric: Metric;
  native: boolean;
  scenarios: string[];
}

const SCENARIOS: Record<string, (vector: number[]) => object> = {
  'topK 10': (vector) => ({ vector, topK: 10 }),
  'topK 10, filter 50 %': (vector) => ({ vector, topK: 10, filter: { bucket: { $lt: 5 } } }),
  'topK 10, filter 10 %': (vector) => ({ vector, topK: 10, filter: { bucket: { $eq: 3 } } }),
  'topK 100 + metadata': (vector) => ({ vector, topK: 100, includeMetadata: true }),
};

async function httpTable(sizes: Size[], n: number): Promise<void> {
  const runs: HttpRun[] = sizes.flatMap((size) => [
    ...METRICS.map((metric) => ({
      size,
      metric,
      native: true,
      scenarios: metric === 'cosine' ? Object.keys(SCENARIOS) : ['topK 10'],
    })),
    { size, metric: 'cosine' as Metric, native: false, scenarios: ['topK 10', 'topK 10, filter 50 %'] },
  ]);
  const rows: string[][] = [];
  for (const run of runs) {
    const child = fork(
      fileURLToPath(import.meta.url),
      ['--server', '--count', String(run.size.count), '--dim', String(run.size.dim), '--metric', run.metric],
      {
        execArgv: ['--import', 'tsx', '--expose-gc'],
        env: { ...process.env, PINECONE_EMULATOR_NATIVE: run.native ? 'on' : 'off' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const [ready] = (await once(child, 'message')) as [ServerReady];
    const pool = new Pool(ready.host, { connections: 1 });
    const qs = queries(run.size.dim, n + WARM_UP).map((q) => Array.from(q));
    for (const scenario of run.scenarios) {
      const ms: number[] = [];
      for (const q of qs) {
        const body = JSON.stringify(SCENARIOS[scenario]!(q));
        const t0 = performance.now();
        const res = await pool.request({
          method: 'POST',
          path: '/query',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const json = (await res.body.json()) as { matches: unknown[] };
        if (res.statusCode !== 200 || json.matches.length === 0) {
          throw new Error(`query answered ${res.statusCode}`);
        }
        ms.push(performance.now() - t0);
      }
      const { p50, p95 } = summary(ms);
      rows.push([
        label(run.size),
        run.metric,
        scenario,
        run.native ? 'usearch' : 'plain JS',
        p50.toFixed(1),
        p95.toFixed(1),
        String(ready.rssMb),
      ]);
    }
    await pool.close();
    child.send('rss');
    const [after] = (await once(child, 'message')) as [{ rssMb: number }];
    for (let i = rows.length - run.scenarios.length; i < rows.length; i++) {
      rows[i]![6] = `${ready.rssMb} → ${after.rssMb}`;
    }
    child.send('close');
    await once(child, 'exit');
    if (run.native && !ready.kernel.startsWith('usearch')) console.log(`note: ${ready.kernel}`);
  }
  printTable(
    `Through the emulator over loopback, one query at a time, ${n} queries after ${WARM_UP} warm-up (ms); emulator RSS in MiB once filled → after the queries`,
    ['vectors', 'metric', 'query', 'scan', 'p50', 'p95', 'RSS MiB'],
    rows,
  );
}

async function main(): Promise<void> {
  const sizes = arg('sizes', '10000x768,100000x768,1000000x128')
    .split(',')
    .map((s) => {
      const [count, dim] = s.split('x').map(Number);
      return { count: count!, dim: dim! };
    });
  const n = Number(arg('queries', '20'));
  const only = arg('only', '');
  console.log(
    `Node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at start, ${new Date().toISOString()}`,
  );
  if (only !== 'http') await scanTable(sizes, n);
  if (only !== 'scan') await httpTable(sizes, n);
  console.log(`\nload average at the end: ${loadavg()[0]!.toFixed(1)}`);
}

if (process.argv.includes('--server')) await serve();
else await main();
