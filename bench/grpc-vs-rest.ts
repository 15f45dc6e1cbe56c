/**
 * Unthrottled upsert throughput over loopback, this SDK over REST vs this SDK over gRPC
 * vs the official client (REST): dimension 1536, batches of 100, the same vectors for
 * all three. The emulator runs in a child process, so its CPU is not the client's; the
 * table shows client and server CPU per vector as well as vectors/s, and how many
 * requests each client needed (a JSON body may have to be split to stay under 2 MB).
 *
 *   npx tsx bench/grpc-vs-rest.ts [--vectors 6000] [--concurrency 1,4] [--repeats 3]
 *                                 [--precision full|4] [--only sdk-rest,sdk-grpc,official]
 *                                 [--server-prof DIR]
 *
 * `--precision full` (the default) sends float32 values at full precision, what an
 * embedding model gives; `--precision 4` rounds them to 4 decimals, which shortens JSON.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const DIM = 1536;
const BATCH = 100;
const KINDS = ['sdk-rest', 'sdk-grpc', 'official'] as const;
type Kind = (typeof KINDS)[number];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** The emulator, in its own process: one index per client kind, CPU and request counts on demand. */
async function serve(): Promise<void> {
  const { startLocalServer } = await import('../src/local.js');
  const server = await startLocalServer({
    indexes: KINDS.map((name) => ({ name, dimension: DIM, metric: 'cosine' as const })),
  });
  const hosts = Object.fromEntries(
    KINDS.map((k) => [k, { rest: server.indexHost(k), grpc: server.grpcHost(k) }]),
  );
  process.stdout.write(`${JSON.stringify({ hosts })}\n`);
  process.on('message', (name: string) => {
    const upserts = server.stats(name).operations.upsert ?? {};
    process.send?.({ cpu: process.cpuUsage(), requests: Object.values(upserts).reduce((a, b) => a + b, 0) });
  });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
}

interface Sample {
  vectorsPerSecond: number;
  clientCpuUsPerVector: number;
  serverCpuUsPerVector: number;
  requests: number;
}

async function main(): Promise<void> {
  const total = Number(arg('vectors', '6000'));
  const levels = arg('concurrency', '1,4').split(',').map(Number);
  const repeats = Number(arg('repeats', '3'));
  const precision = arg('precision', 'full');
  const only = arg('only', KINDS.join(',')).split(',') as Kind[];

  // `--server-prof DIR` writes the emulator's CPU profile there (profile the client with
  // `node --cpu-prof --import tsx bench/grpc-vs-rest.ts ...`).
  const prof = arg('server-prof', '');
  const profArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(
    process.execPath,
    [...profArgs, '--import', 'tsx', fileURLToPath(import.meta.url), '--server'],
    {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { hosts } = JSON.parse(line) as { hosts: Record<Kind, { rest: string; grpc: string }> };
  const serverState = async (name: Kind) => {
    child.send(name);
    const [msg] = (await once(child, 'message')) as [{ cpu: NodeJS.CpuUsage; requests: number }];
    return msg;
  };

  // The same vectors for everyone: plain number arrays (what JSON clients take).
  const round = precision === '4' ? (x: number) => Math.round(x * 1e4) / 1e4 : Math.fround;
  const vectors = Array.from({ length: total }, (_, k) => ({
    id: `vec-${k}`,
    values: Array.from({ length: DIM }, () => round(Math.random() * 2 - 1)),
  }));

  const { Pinecone } = await import('../src/index.js');
  const official = await import('@pinecone-database/pinecone');
  const pc = new Pinecone({ apiKey: 'bench' });
  const opc = new official.Pinecone({ apiKey: 'bench', maxRetries: 0 });
  const clients: Record<Kind, (batch: typeof vectors, concurrency: number) => Promise<void>> = {
    'sdk-rest': async (v, concurrency) => {
      await pc
        .index({ host: hosts['sdk-rest'].rest })
        .upsert({ vectors: v, batchSize: BATCH, maxConcurrency: concurrency });
    },
    'sdk-grpc': async (v, concurrency) => {
      await pc
        .index({ host: hosts['sdk-grpc'].grpc, grpc: true })
        .upsert({ vectors: v, batchSize: BATCH, maxConcurrency: concurrency });
    },
    // The official client sends one request per call: run `concurrency` workers over the batches.
    official: async (v, concurrency) => {
      const index = opc.index({ host: hosts.official.rest });
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < v.length) {
            const start = next;
            next += BATCH;
            await index.upsert({ records: v.slice(start, start + BATCH) });
          }
        }),
      );
    },
  };

  const run = async (kind: Kind, concurrency: number): Promise<Sample> => {
    const before = await serverState(kind);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await clients[kind](vectors, concurrency);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const after = await serverState(kind);
    const serverCpu = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
    return {
      vectorsPerSecond: total / seconds,
      clientCpuUsPerVector: (cpu.user + cpu.system) / total,
      serverCpuUsPerVector: serverCpu / total,
      requests: after.requests - before.requests,
    };
  };

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // Warm-up: JIT, connections, channels.
  for (const kind of only) await clients[kind](vectors.slice(0, 1000), 2);

  const rows: string[][] = [];
  for (const concurrency of levels) {
    const results = new Map<Kind, Sample>();
    for (const kind of only) {
      const samples: Sample[] = [];
      for (let r = 0; r < repeats; r++) samples.push(await run(kind, concurrency));
      results.set(kind, {
        vectorsPerSecond: median(samples.map((s) => s.vectorsPerSecond)),
        clientCpuUsPerVector: median(samples.map((s) => s.clientCpuUsPerVector)),
        serverCpuUsPerVector: median(samples.map((s) => s.serverCpuUsPerVector)),
        requests: median(samples.map((s) => s.requests)),
      });
    }
    const rest = results.get('sdk-rest');
    for (const [kind, s] of results) {
      rows.push([
        String(concurrency),
        kind,
        String(Math.round(s.vectorsPerSecond)),
        rest ? `${(s.vectorsPerSecond / rest.vectorsPerSecond).toFixed(2)}x` : '-',
        s.clientCpuUsPerVector.toFixed(1),
        s.serverCpuUsPerVector.toFixed(1),
        String(s.requests),
      ]);
    }
  }
  const header = [
    'conc',
    'client',
    'vectors/s',
    'vs sdk-rest',
    'client CPU us/vec',
    'server CPU us/vec',
    'requests',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(
    `upsert ${total} vectors, dim ${DIM}, batches of ${BATCH}, precision ${precision}, median of ${repeats}, node ${process.version}`,
  );
  console.log(fmt(header));
  for (const r of rows) console.log(fmt(r));
  await pc.close();
  child.disconnect();
}

if (process.argv.includes('--server')) void serve();
else await main();
