/**
 * Query latency of the emulator's exact search over 100k vectors of dimension 768, over
 * loopback, one query at a time (p50 / p99), for a few query shapes. The emulator runs in
 * a child process; its index is filled directly through the store (the ingest path has
 * its own benchmark), with a metadata field for the filtered queries.
 *
 *   npx tsx bench/emulator-query.ts [--vectors 100000] [--queries 100]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const DIM = 768;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function serve(): Promise<void> {
  const { startLocalServer } = await import('../src/local.js');
  const { seededRandom } = await import('../src/resilience/clock.js');
  const count = Number(arg('vectors', '100000'));
  const server = await startLocalServer({ indexes: [{ name: 'query', dimension: DIM, metric: 'cosine' }] });
  const random = seededRandom(1);
  const ns = server.emulator.require('query').store.namespaceForWrite('');
  const batch = 1000;
  for (let start = 0; start < count; start += batch) {
    const records = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const values = new Float32Array(DIM);
      for (let d = 0; d < DIM; d++) values[d] = random() * 2 - 1;
      records.push({ id: `doc-${i}`, values, metadata: { bucket: i % 10, title: `document ${i}` } });
    }
    ns.upsert(records);
  }
  process.stdout.write(`${JSON.stringify({ host: server.indexHost('query'), count })}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const queries = Number(arg('queries', '100'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--server', ...process.argv.slice(2)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { host, count } = JSON.parse(line) as { host: string; count: number };
  const pool = new Pool(host, { connections: 1 });
  const vector = () => Array.from({ length: DIM }, () => Math.random() * 2 - 1);

  const scenarios: [string, () => object][] = [
    ['topK 10', () => ({ vector: vector(), topK: 10 })],
    ['topK 100 + metadata', () => ({ vector: vector(), topK: 100, includeMetadata: true })],
    ['topK 10, filter 10 %', () => ({ vector: vector(), topK: 10, filter: { bucket: { $eq: 3 } } })],
    ['topK 10, filter 50 %', () => ({ vector: vector(), topK: 10, filter: { bucket: { $lt: 5 } } })],
    ['topK 10 + values', () => ({ vector: vector(), topK: 10, includeValues: true })],
  ];
  const rows: string[][] = [];
  for (const [name, make] of scenarios) {
    const latencies: number[] = [];
    for (let i = 0; i < queries + 5; i++) {
      const body = JSON.stringify(make());
      const t0 = performance.now();
      const res = await pool.request({
        method: 'POST',
        path: '/query',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const json = (await res.body.json()) as { matches: unknown[] };
      if (res.statusCode !== 200 || json.matches.length === 0)
        throw new Error(`query answered ${res.statusCode}`);
      if (i >= 5) latencies.push(performance.now() - t0); // the first five warm up the JIT
    }
    latencies.sort((a, b) => a - b);
    const mean = latencies.reduce((s, x) => s + x, 0) / latencies.length;
    rows.push([
      name,
      String(latencies.length),
      percentile(latencies, 50).toFixed(1),
      percentile(latencies, 99).toFixed(1),
      (1000 / mean).toFixed(1),
    ]);
  }
  await pool.close();
  child.kill('SIGTERM');
  await once(child, 'exit');

  console.log(
    `Emulator exact search over loopback: ${count.toLocaleString('en-US')} vectors, dim ${DIM}, cosine, one query at a time`,
  );
  const header = ['query', 'n', 'p50 ms', 'p99 ms', 'queries/s'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(fmt(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(fmt(r));
}

if (process.argv.includes('--server')) await serve();
else await main();
