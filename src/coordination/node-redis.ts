/**
 * The connection `redisCoordinator({ url })` opens: `@redis/client` (the official client,
 * an optional peer dependency), imported only when the first connection is made, so the
 * SDK loads nothing of Redis unless coordination is configured.
 *
 * The client's own reconnection is off: its retry timers would hold the process open.
 * This connection reconnects lazily instead, on the next command after the socket closed
 * (the fail-open guard's probes drive that while Redis is away). The socket is unref'd,
 * and commands are refused at once while disconnected (no offline queue), so a dead Redis
 * never holds a request or the process.
 */
import { type ScriptClient, scriptClientOver } from './script-client.js';

/** What this file uses of an `@redis/client` client (its types stay out of our .d.ts). */
interface NodeRedisClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  destroy(): void;
  unref(): void;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  sendCommand(args: string[]): Promise<unknown>;
}

interface NodeRedisModule {
  createClient(options: object): NodeRedisClient;
  /** The client class bare (5.x and later): no command methods attached. */
  RedisClient?: new (
    options: object,
  ) => NodeRedisClient;
}

/**
 * A client for `sendCommand` alone. `createClient` first builds a class with a method for
 * each of Redis's commands (about 60 ms of CPU, again for every new set of options: half a
 * second before the first request when eight processes started at once on two cores); the
 * bare class (2 ms) sends commands all the same.
 */
function newClient(module: NodeRedisModule, options: object): NodeRedisClient {
  return typeof module.RedisClient === 'function'
    ? new module.RedisClient(options)
    : module.createClient(options);
}

/** Thrown when `@redis/client` is not installed. */
export const MISSING_CLIENT_MESSAGE =
  'redisCoordinator({ url }) needs the package @redis/client (an optional peer dependency): npm install @redis/client';

let loading: Promise<NodeRedisModule> | undefined;

function loadNodeRedis(): Promise<NodeRedisModule> {
  loading ??= import('@redis/client').then(
    (module) => module as unknown as NodeRedisModule,
    (error: unknown) => {
      loading = undefined;
      throw new Error(MISSING_CLIENT_MESSAGE, { cause: error });
    },
  );
  return loading;
}

/** Destroy a client that may already be closed (older clients throw then). */
function destroy(client: NodeRedisClient | undefined): void {
  try {
    client?.destroy();
  } catch {
    // already closed: nothing left to release
  }
}

/** Options of {@link NodeRedisConnection}. */
export interface NodeRedisConnectionOptions {
  /** `redis://` or `rediss://` URL (credentials, database number and TLS as the client reads them). */
  url: string;
  /** Bound on one connection attempt (TCP, TLS, handshake), ms. */
  connectTimeoutMs: number;
}

/** A lazily (re)connecting `@redis/client` connection as a {@link ScriptClient}. */
export class NodeRedisConnection implements ScriptClient {
  readonly #options: NodeRedisConnectionOptions;
  readonly #commands: ScriptClient;
  #client: NodeRedisClient | undefined;
  #connecting: Promise<NodeRedisClient> | undefined;
  #closed = false;

  constructor(options: NodeRedisConnectionOptions) {
    this.#options = options;
    this.#commands = scriptClientOver(async (args) => (await this.#connected()).sendCommand(args));
  }

  evalScriptBySha(sha: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.#commands.evalScriptBySha(sha, keys, args);
  }

  evalScript(source: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.#commands.evalScript(source, keys, args);
  }

  serverTime(): Promise<number> {
    return this.#commands.serverTime();
  }

  /** Load `@redis/client` (once): the part of connecting that is not a wait on Redis. */
  async load(): Promise<void> {
    await loadNodeRedis();
  }

  /** Drop the connection (e.g. one that stopped answering); the next command opens another. */
  reset(): void {
    const client = this.#client;
    this.#client = undefined;
    destroy(client);
  }

  /** Close for good: the socket now, commands after this reject. */
  async close(): Promise<void> {
    this.#closed = true;
    this.reset();
  }

  #connected(): Promise<NodeRedisClient> {
    if (this.#closed) return Promise.reject(new Error('the coordinator is disposed'));
    if (this.#client?.isReady) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<NodeRedisClient> {
    this.reset();
    const module = await loadNodeRedis();
    const timeout = this.#options.connectTimeoutMs;
    const client = newClient(module, {
      url: this.#options.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: timeout, reconnectStrategy: false },
    });
    // Failures reach the callers as rejected commands; without a listener an 'error'
    // event would crash the process.
    client.on('error', () => {});
    client.unref();
    let timer: NodeJS.Timeout | undefined;
    const connecting = client.connect();
    connecting.catch(() => {}); // it may reject after our bound ran out; that is handled below
    try {
      // Our own bound: the client's connect timeout covers the TCP connect, not a
      // handshake a frozen server never answers.
      await Promise.race([
        connecting,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`connecting took over ${timeout} ms`)), timeout);
          timer.unref();
        }),
      ]);
    } catch (error) {
      destroy(client);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (this.#closed) {
      destroy(client);
      throw new Error('the coordinator is disposed');
    }
    this.#client = client;
    return client;
  }
}
