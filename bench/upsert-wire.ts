/**
 * Unthrottled bulk upsert over loopback, side by side in one run: this SDK over REST and
 * over gRPC, the official `@pinecone-database/pinecone` client (REST, `concurrency`
 * workers each sending one batch per call), and a bare undici loop posting bodies encoded
 * before the clock starts (the floor: what sending alone costs). Dimension 1536, batches
 * of 100, the same float32 vectors for everyone, as plain number arrays (what the
 * official client takes).
 *
 *   npx tsx bench/upsert-wire.ts [--vectors 20000] [--concurrency 4] [--repeats 5]
 *                                [--values f32|f64|round4] [--only sdk-rest,sdk-grpc,official,undici]
 *                                [--server-prof DIR] [--verbose]
 *
 * The emulator runs in a child process, so the client's CPU is this process's alone
 * (`process.cpuUsage`, user + system) and the emulator's is read from the child. Runs are
 * interleaved (each repeat runs every client, in a rotating order) so a machine whose
 * load drifts treats them alike; the table gives medians. "busy" is CPU time over wall
 * time: near 100 % on the server column means the emulator's one thread bounds the rate.
 *
 * `--values f64` sends doubles that are not float32 (values computed in double precision),
 * where this SDK's REST encoder leaves the numbers to `JSON.stringify`; `--values round4`
 * rounds them to 4 decimals (short JSON numbers, REST's best case). `--concurrency 1,4`
 * runs each level in turn; `--verbose` prints every run.
 * Profile the client with `node --cpu-prof --import tsx bench/upsert-wire.ts ...`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { arg } from './cli-table.js';

const DIM = 1536;
const BATCH = 100;
const KINDS = ['sdk-rest', 'sdk-grpc', 'official', 'undici'] as const;
type Kind = (typeof KINDS)[number];

/** The emulator, in its own process: one index per client kind; CPU and request counts on demand. */
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
  clientCpuUs: number;
  serverCpuUs: number;
  clientBusy: number;
  serverBusy: number;
  requests: number;
}

type Row = { id: string; values: number[] };

async function main(): Promise<void> {
  const total = Number(arg('vectors', '20000'));
  const levels = arg('concurrency', '4').split(',').map(Number);
  const repeats = Number(arg('repeats', '5'));
  const valuesKind = arg('values', 'f32');
  const only = arg('only', KINDS.join(',')).split(',') as Kind[];
  const verbose = process.argv.includes('--verbose');

  const prof = arg('server-prof', '');
  const profArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(
    process.execPath,
    [...profArgs, '--import', 'tsx', fileURLToPath(import.meta.url), '--server'],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { hosts } = JSON.parse(line) as { hosts: Record<Kind, { rest: string; grpc: string }> };
  const serverState = async (name: Kind) => {
    child.send(name);
    const [msg] = (await once(child, 'message')) as [{ cpu: NodeJS.CpuUsage; requests: number }];
    return msg;
  };

  // float32 values widened to doubles (what an embedding model gives), plain doubles, or short decimals.
  const values: Record<string, () => number> = {
    f32: () => Math.fround(Math.random() * 2 - 1),
    f64: () => Math.random() * 2 - 1,
    round4: () => Math.round((Math.random() * 2 - 1) * 1e4) / 1e4,
  };
  const value = values[valuesKind];
  if (!value) throw new Error(`--values must be one of ${Object.keys(values).join(', ')}`);
  const vectors: Row[] = Array.from({ length: total }, (_, k) => ({
    id: `vec-${k}`,
    values: Array.from({ length: DIM }, value),
  }));

  const { Pinecone } = await import('../src/index.js');
  const official = await import('@pinecone-database/pinecone');
  const pc = new Pinecone({ apiKey: 'bench' });
  const opc = new official.Pinecone({ apiKey: 'bench', maxRetries: 0 });
  const pools: Pool[] = [];

  /** Batches of BATCH, `workers` at a time, each through `send`. */
  const workers = async (v: Row[], n: number, send: (start: number) => Promise<unknown>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: n }, async () => {
        while (next < v.length) {
          const start = next;
          next += BATCH;
          await send(start);
        }
      }),
    );
  };

  // The floor's bodies, encoded once, before any clock starts.
  const floorBodies = new Map<Row[], Buffer[]>();
  const bodiesOf = (v: Row[]) => {
    let bodies = floorBodies.get(v);
    if (!bodies) {
      bodies = [];
      for (let i = 0; i < v.length; i += BATCH) {
        bodies.push(Buffer.from(JSON.stringify({ vectors: v.slice(i, i + BATCH) })));
      }
      floorBodies.set(v, bodies);
    }
    return bodies;
  };

  const clients: Record<Kind, (v: Row[], n: number) => Promise<void>> = {
    'sdk-rest': async (v, n) => {
      await pc
        .index({ host: hosts['sdk-rest'].rest })
        .upsert({ vectors: v, batchSize: BATCH, maxConcurrency: n });
    },
    'sdk-grpc': async (v, n) => {
      await pc
        .index({ host: hosts['sdk-grpc'].grpc, grpc: true })
        .upsert({ vectors: v, batchSize: BATCH, maxConcurrency: n });
    },
    official: async (v, n) => {
      const index = opc.index({ host: hosts.official.rest });
      await workers(v, n, (start) => index.upsert({ records: v.slice(start, start + BATCH) }));
    },
    // A keep-alive pool of n connections posting the pre-encoded bodies: nothing but the wire.
    undici: async (v, n) => {
      const pool = new Pool(hosts.undici.rest, { connections: n, pipelining: 1 });
      pools.push(pool);
      const bodies = bodiesOf(v);
      await workers(v, n, async (start) => {
        const res = await pool.request({
          method: 'POST',
          path: '/vectors/upsert',
          headers: { 'content-type': 'application/json', 'api-key': 'bench' },
          body: bodies[start / BATCH],
        });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
      });
    },
  };

  const run = async (kind: Kind, v: Row[], concurrency: number): Promise<Sample> => {
    if (kind === 'undici') bodiesOf(v);
    const before = await serverState(kind);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await clients[kind](v, concurrency);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const after = await serverState(kind);
    const clientCpu = cpu.user + cpu.system;
    const serverCpu = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
    return {
      vectorsPerSecond: v.length / seconds,
      clientCpuUs: clientCpu / v.length,
      serverCpuUs: serverCpu / v.length,
      clientBusy: clientCpu / 1e6 / seconds,
      serverBusy: serverCpu / 1e6 / seconds,
      requests: after.requests - before.requests,
    };
  };

  // Warm-up: JIT, connections, channels (and the floor's first bodies).
  const warm = vectors.slice(0, 1000);
  for (const kind of only) await clients[kind](warm, Math.max(...levels));
  floorBodies.delete(warm);

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const rows: string[][] = [];
  const ratios: string[] = [];
  for (const concurrency of levels) {
    const samples = new Map<Kind, Sample[]>(only.map((k) => [k, []]));
    for (let r = 0; r < repeats; r++) {
      for (let i = 0; i < only.length; i++) {
        const kind = only[(i + r) % only.length]!;
        const sample = await run(kind, vectors, concurrency);
        samples.get(kind)!.push(sample);
        if (verbose) {
          console.log(
            `  ${kind} conc ${concurrency}: ${Math.round(sample.vectorsPerSecond)} vectors/s, client ${sample.clientCpuUs.toFixed(0)} us/vec (${pct(sample.clientBusy)}), server ${sample.serverCpuUs.toFixed(0)} us/vec (${pct(sample.serverBusy)})`,
          );
        }
      }
    }
    const med = new Map<Kind, Sample>();
    for (const [kind, ss] of samples) {
      med.set(kind, {
        vectorsPerSecond: median(ss.map((s) => s.vectorsPerSecond)),
        clientCpuUs: median(ss.map((s) => s.clientCpuUs)),
        serverCpuUs: median(ss.map((s) => s.serverCpuUs)),
        clientBusy: median(ss.map((s) => s.clientBusy)),
        serverBusy: median(ss.map((s) => s.serverBusy)),
        requests: median(ss.map((s) => s.requests)),
      });
    }
    const ref = med.get('official');
    for (const [kind, s] of med) {
      rows.push([
        String(concurrency),
        kind,
        String(Math.round(s.vectorsPerSecond)),
        ref ? `${(s.vectorsPerSecond / ref.vectorsPerSecond).toFixed(2)}x` : '-',
        s.clientCpuUs.toFixed(1),
        ref ? `${(s.clientCpuUs / ref.clientCpuUs).toFixed(2)}x` : '-',
        s.serverCpuUs.toFixed(1),
        pct(s.clientBusy),
        pct(s.serverBusy),
        String(s.requests),
      ]);
    }
    const rest = med.get('sdk-rest');
    const grpc = med.get('sdk-grpc');
    if (rest && grpc) {
      ratios.push(
        `concurrency ${concurrency}: sdk-grpc / sdk-rest ${(grpc.vectorsPerSecond / rest.vectorsPerSecond).toFixed(2)}x vectors/s`,
      );
    }
  }
  const header = [
    'conc',
    'client',
    'vectors/s',
    'vs official',
    'client CPU us/vec',
    'vs official',
    'server CPU us/vec',
    'client busy',
    'server busy',
    'requests',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(
    `upsert ${total} vectors, dim ${DIM}, batches of ${BATCH}, values ${valuesKind}, median of ${repeats}, node ${process.version}`,
  );
  console.log(fmt(header));
  for (const r of rows) console.log(fmt(r));
  for (const line of ratios) console.log(line);
  // The records themselves take about 250 MB of it (20,000 x 1536 doubles).
  console.log(`client peak RSS: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
  await pc.close();
  await Promise.all(pools.map((p) => p.close()));
  child.disconnect();
}

if (process.argv.includes('--server')) void serve();
else await main();
