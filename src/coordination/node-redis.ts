/**
 * The connection `redisCoordinator({ url })` opens: `@redis/client` (the official client,
 * an optional peer dependency), imported only when the first connection is made, so the
 * SDK loads nothing of Redis unless coordination is configured.
 *
 * The client's own reconnection is off: its retry timers would hold the process open.
 * This connection reconnects lazily instead, on the next command after the socket closed
 * (the fail-open guard's probes drive that while Redis is away). The socket is unref'd,
 * and commands are refused at once while disconnected (no offline queue), so a dead Redis
 * never holds a request or the process. A second connection, opened only once something
 * subscribes (`Coordinator.watch`), listens to channels; after it went down it is opened
 * again with a later command (one attempt a second at most).
 */
import { type ScriptClient, scriptClientOver } from './script-client.js';

/** What this file uses of an `@redis/client` client (its types stay out of our .d.ts). */
interface NodeRedisClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  destroy(): void;
  unref(): void;
  on(event: 'error' | 'end', listener: (error: unknown) => void): unknown;
  sendCommand(args: string[]): Promise<unknown>;
  SUBSCRIBE(channels: string, listener: (message: string) => void): Promise<void>;
  UNSUBSCRIBE(channels: string): Promise<void>;
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

/** The subscriber connection is opened again at most this often (ms) after it went down. */
const REVIVE_INTERVAL_MS = 1000;

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
  /** The second connection, in subscriber mode (only once something subscribed). */
  #subscriber: Promise<NodeRedisClient | undefined> | undefined;
  /** That connection once open. */
  #live: NodeRedisClient | undefined;
  /** Listeners per channel. */
  readonly #channels = new Map<string, Set<(message: string) => void>>();
  /** Not opened again before this time (ms since the epoch): at most one attempt a second. */
  #reviveAfter = 0;

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

  /**
   * Listen to `channel` on a connection of its own (a client subscribed to channels sends
   * no other commands), opened with the first subscription. Best effort: while it is down
   * messages are missed; a later command opens it again. Answers the function that stops
   * listening.
   */
  subscribe(channel: string, listener: (message: string) => void): () => void {
    if (this.#closed) return () => {};
    let listeners = this.#channels.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.#channels.set(channel, listeners);
      void this.#listen(channel);
    }
    listeners.add(listener);
    return () => {
      const set = this.#channels.get(channel);
      if (!set?.delete(listener) || set.size > 0) return;
      this.#channels.delete(channel);
      this.#live?.UNSUBSCRIBE(channel).catch(() => {});
    };
  }

  async #listen(channel: string): Promise<void> {
    const client = await this.#subscriberClient();
    if (!client || !this.#channels.has(channel)) return;
    try {
      await client.SUBSCRIBE(channel, (message) => {
        for (const listener of this.#channels.get(channel) ?? []) listener(message);
      });
    } catch {
      this.#dropSubscriber(client);
    }
  }

  #subscriberClient(): Promise<NodeRedisClient | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    if (!this.#subscriber) {
      const opening: Promise<NodeRedisClient | undefined> = this.#open().then(
        (client) => {
          if (this.#closed || this.#subscriber !== opening) {
            destroy(client);
            return undefined;
          }
          this.#live = client;
          const drop = () => this.#dropSubscriber(client);
          client.on('error', drop);
          client.on('end', drop);
          return client;
        },
        () => {
          if (this.#subscriber === opening) {
            this.#subscriber = undefined;
            this.#reviveAfter = Date.now() + REVIVE_INTERVAL_MS;
          }
          return undefined;
        },
      );
      this.#subscriber = opening;
    }
    return this.#subscriber;
  }

  /** Drop the subscriber connection `client` (or the current one); channels are listened to again with a later command. */
  #dropSubscriber(client?: NodeRedisClient): void {
    if (client !== undefined && client !== this.#live) {
      destroy(client);
      return;
    }
    const live = this.#live;
    this.#live = undefined;
    this.#subscriber = undefined;
    this.#reviveAfter = Date.now() + REVIVE_INTERVAL_MS;
    destroy(live);
  }

  /**
   * After the subscriber connection went down: open it again and listen to every channel
   * (not more than once a {@link REVIVE_INTERVAL_MS}: a server that refuses `SUBSCRIBE`,
   * e.g. by its ACL, must not get a connection per command).
   */
  #revive(): void {
    if (this.#subscriber || this.#closed || this.#channels.size === 0) return;
    if (Date.now() < this.#reviveAfter) return;
    for (const channel of this.#channels.keys()) void this.#listen(channel);
  }

  /** Close for good: the sockets now, commands after this reject. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
    this.reset();
    this.#dropSubscriber();
  }

  #connected(): Promise<NodeRedisClient> {
    if (this.#closed) return Promise.reject(new Error('the coordinator is disposed'));
    this.#revive();
    if (this.#client?.isReady) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<NodeRedisClient> {
    this.reset();
    const client = await this.#open();
    this.#client = client;
    return client;
  }

  /** A new connection, within the connect timeout. */
  async #open(): Promise<NodeRedisClient> {
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
    return client;
  }
}
