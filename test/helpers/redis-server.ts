/**
 * A real `redis-server` (Debian's package) for tests and benchmarks: started on a free
 * loopback port with no persistence in a temporary directory, waited for until it answers
 * PING, and controlled the way the fail-open tests need: frozen (SIGSTOP), thawed
 * (SIGCONT), killed, restarted on the same port.
 *
 * Where no `redis-server` is installed, {@link redisMissing} says why the suites are
 * skipped; in CI (`process.env.CI`) a missing server is an error, never a skip: `.ci/run`
 * installs it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of `redis-server`, or `undefined` when it is not installed. */
export function redisServerPath(): string | undefined {
  try {
    const found = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
    return found || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why the Redis suites cannot run here, or `undefined` when they can. Throws in CI, where
 * the server must be present.
 */
export function redisMissing(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (redisServerPath()) return undefined;
  const why = 'redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)';
  if (env.CI) throw new Error(`${why}: the coordination tests must run in CI`);
  return why;
}

/** A free TCP port on 127.0.0.1 (redis-server has no `--port 0`). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The first line the server at `port` answers to PING within `timeoutMs`, if any. */
export function ping(port: number, timeoutMs = 200): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (line: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(line);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      const end = reply.indexOf('\r\n');
      if (end >= 0) done(reply.slice(0, end));
    });
    socket.on('error', () => done(undefined));
  });
}

/** Options of {@link startRedis}. */
export interface RedisOptions {
  /** Port to listen on; default a free one. */
  port?: number;
  /** `requirepass`: clients must authenticate with this password. */
  password?: string;
}

/** A running redis-server and the controls the tests need. */
export interface RedisProcess {
  readonly port: number;
  /** `redis://[:password@]127.0.0.1:port` */
  readonly url: string;
  readonly pid: number;
  /** SIGSTOP: the TCP connection stays open, nothing is answered. */
  freeze(): void;
  /** SIGCONT after {@link freeze}. */
  thaw(): void;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** Start it again on the same port (after {@link kill}); resolves once it answers. */
  restart(): Promise<void>;
  /** Kill it (if running) and remove its directory. */
  stop(): Promise<void>;
}

const START_WAIT_MS = 10_000;

async function spawnRedis(binary: string, port: number, dir: string, password?: string) {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', dir, '--daemonize', 'no', '--loglevel', 'warning');
  if (password !== undefined) args.push('--requirepass', password);
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${stderr}`);
    // Without the password PING answers -NOAUTH, which still proves the server is up.
    const reply = await ping(port);
    if (reply === '+PONG' || reply?.startsWith('-NOAUTH')) return child;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on port ${port} within ${START_WAIT_MS} ms: ${stderr}`);
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Start a redis-server on loopback (a free port unless given). */
export async function startRedis(options: RedisOptions = {}): Promise<RedisProcess> {
  const binary = redisServerPath();
  if (!binary) throw new Error('redis-server is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'pinecone-redis-'));
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  // Another process may take the free port between the probe and redis binding it: retry.
  for (let attempt = 0; child === undefined; attempt++) {
    try {
      child = await spawnRedis(binary, port, dir, options.password);
    } catch (error) {
      if (attempt >= 2 || options.port !== undefined) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  let current: ChildProcess = child;
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    get pid() {
      return current.pid ?? -1;
    },
    freeze: () => void current.kill('SIGSTOP'),
    thaw: () => void current.kill('SIGCONT'),
    kill: () => killChild(current),
    async restart() {
      await killChild(current);
      current = await spawnRedis(binary, port, dir, options.password);
    },
    async stop() {
      // SIGKILL works on a stopped (frozen) process too.
      await killChild(current);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
