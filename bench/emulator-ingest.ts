/**
 * Upsert ingest rate the emulator sustains over loopback: dimension 1536, batches of 100,
 * at a few concurrency levels. The emulator runs in a child process (as it would beside
 * an SDK benchmark) and the load generator sends pre-serialized bodies through an undici
 * pool, so the figures are the server's, not the client's JSON encoder's.
 *
 *   npx tsx bench/emulator-ingest.ts [--seconds 4] [--levels 1,4,16]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { arg } from './cli-table.js';

const DIM = 1536;
const BATCH = 100;
/** Distinct ids cycled through, so memory stays bounded (overwrites cost what inserts do). */
const ID_SPACE = 20_000;

async function serve(): Promise<void> {
  const { startLocalServer } = await import('../src/local.js');
  const server = await startLocalServer({ indexes: [{ name: 'ingest', dimension: DIM, metric: 'cosine' }] });
  process.stdout.write(`${JSON.stringify({ host: server.indexHost('ingest') })}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '4'));
  const levels = arg('levels', '1,4,16').split(',').map(Number);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--server'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { host } = JSON.parse(line) as { host: string };

  // 200 distinct vectors as JSON text, full float precision (what a client sends for Float32 data).
  const valueTexts = Array.from({ length: 200 }, () =>
    JSON.stringify(Array.from({ length: DIM }, () => Math.fround(Math.random() * 2 - 1))),
  );
  let seq = 0;
  const nextBody = (): string => {
    const parts: string[] = [];
    for (let i = 0; i < BATCH; i++) {
      const n = seq++;
      parts.push(`{"id":"vec-${n % ID_SPACE}","values":${valueTexts[n % valueTexts.length]}}`);
    }
    return `{"vectors":[${parts.join(',')}],"namespace":"bench"}`;
  };
  const sampleBytes = Buffer.byteLength(nextBody());

  const pool = new Pool(host, { connections: Math.max(...levels), pipelining: 1 });
  const upsert = async (body: string): Promise<number> => {
    const t0 = performance.now();
    const res = await pool.request({
      method: 'POST',
      path: '/vectors/upsert',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`upsert answered ${res.statusCode}`);
    return performance.now() - t0;
  };

  // For scale: what a client spends encoding one such batch (JSON.stringify of Float32 data).
  const batch = Array.from({ length: BATCH }, (_, i) => ({
    id: `vec-${i}`,
    values: Array.from(Float32Array.from({ length: DIM }, () => Math.random() * 2 - 1)),
  }));
  JSON.stringify({ vectors: batch });
  const encodeStart = performance.now();
  for (let i = 0; i < 10; i++) JSON.stringify({ vectors: batch, namespace: 'bench' });
  const encodeMs = (performance.now() - encodeStart) / 10;

  const rows: string[][] = [];
  for (const concurrency of levels) {
    // Warm-up: JIT and connections.
    await Promise.all(Array.from({ length: concurrency }, () => upsert(nextBody())));
    const latencies: number[] = [];
    const start = performance.now();
    const deadline = start + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const body = nextBody();
          latencies.push(await upsert(body));
        }
      }),
    );
    const elapsed = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const requests = latencies.length;
    rows.push([
      String(concurrency),
      String(requests),
      Math.round((requests * BATCH) / elapsed).toLocaleString('en-US'),
      (requests / elapsed).toFixed(1),
      ((requests * sampleBytes) / elapsed / 1e6).toFixed(1),
      percentile(latencies, 50).toFixed(1),
      percentile(latencies, 99).toFixed(1),
    ]);
  }
  await pool.close();
  child.kill('SIGTERM');
  await once(child, 'exit');

  console.log(
    `Emulator upsert ingest over loopback: dim ${DIM}, batches of ${BATCH} (${(sampleBytes / 1e6).toFixed(2)} MB JSON each), ${seconds} s per level`,
  );
  const header = ['concurrency', 'requests', 'vectors/s', 'requests/s', 'MB/s', 'p50 ms', 'p99 ms'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => `| ${r.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  console.log(fmt(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(fmt(r));
  console.log(`Client-side JSON.stringify of one such batch, for comparison: ${encodeMs.toFixed(1)} ms`);
}

if (process.argv.includes('--server')) await serve();
else await main();
