/**
 * The emulator for `bench/adaptive-regimes.ts`, in a child process of its own (so its CPU
 * does not delay the client's timers and sockets), driven over loopback through the
 * control plane and the `/admin` endpoints, as any client would. Run directly with
 * `--serve`, it starts the emulator and prints `{"controllerHost": ...}` on one line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FaultConfig, IndexStatsSnapshot } from '../../src/local.js';

/** A running emulator process and the admin calls the benchmark needs. */
export interface EmulatorProcess {
  readonly controllerHost: string;
  /** Create a dense cosine index, Ready at once; resolves to its REST host. */
  createIndex(name: string, dimension: number): Promise<string>;
  /** Replace the index's faults (this restarts its token bucket with one token). */
  setFaults(name: string, faults: FaultConfig): Promise<void>;
  stats(name: string): Promise<IndexStatsSnapshot>;
  deleteIndex(name: string): Promise<void>;
  close(): Promise<void>;
}

async function call<T>(url: string, method: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', 'api-key': 'bench' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Start the emulator in a child process (`node --import tsx`), seeded. */
export async function startEmulatorProcess(seed: number): Promise<EmulatorProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', String(seed)],
    // stdin is a lifeline: the child exits when it closes, so a crashed benchmark leaves no server.
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { controllerHost } = JSON.parse(line) as { controllerHost: string };
  const admin = (name: string) => `${controllerHost}/admin/indexes/${encodeURIComponent(name)}`;
  return {
    controllerHost,
    async createIndex(name, dimension) {
      const model = await call<{ host: string }>(`${controllerHost}/indexes`, 'POST', {
        name,
        dimension,
        metric: 'cosine',
        spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
      });
      return model.host;
    },
    async setFaults(name, faults) {
      await call(`${admin(name)}/faults`, 'POST', faults);
    },
    stats: (name) => call<IndexStatsSnapshot>(`${admin(name)}/stats`, 'GET'),
    async deleteIndex(name) {
      await call(`${controllerHost}/indexes/${encodeURIComponent(name)}`, 'DELETE');
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serve(seed: number): Promise<void> {
  const { startLocalServer } = await import('../../src/local.js');
  const server = await startLocalServer({ host: '127.0.0.1', seed });
  process.stdout.write(`${JSON.stringify({ controllerHost: server.controllerHost })}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.stdin.once('end', stop);
  process.stdin.resume();
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv[2] === '--serve'
) {
  await serve(Number(process.argv[3] ?? 1));
}
