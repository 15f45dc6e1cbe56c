/**
 * One gRPC channel per host, reused by every gRPC index handle of one owner (a `Pinecone`
 * client, or a directly constructed `GrpcIndex`). This file does not load grpc-js: it
 * only keeps what a factory made, so the root entry point can hold a client's pool
 * before (or without) the gRPC entry point ever loading.
 */
import { PineconeError } from '../errors.js';

/** Anything that can be closed: a channel's transport. */
export interface Closeable {
  close(): void;
}

/** Channels keyed by host. */
export class ChannelPool<T extends Closeable> {
  readonly #channels = new Map<string, T>();
  #closed = false;

  /** Whether {@link close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The channel of a host, made by `create` on first use. Throws once the pool is closed. */
  get(host: string, create: () => T): T {
    if (this.#closed) throw new PineconeError('This client is closed; its gRPC channels are released');
    let channel = this.#channels.get(host);
    if (!channel) {
      channel = create();
      this.#channels.set(host, channel);
    }
    return channel;
  }

  /** Close every channel; later `get`s throw. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const channel of this.#channels.values()) channel.close();
    this.#channels.clear();
  }
}

/** What a pool owner must offer: a way to be told to close. */
export interface PoolOwner {
  registerCloser(close: () => Promise<void>): void;
}

const pools = new WeakMap<PoolOwner, ChannelPool<Closeable>>();

/**
 * The channel pool of a client, created on first use and closed by the client's
 * `close()`. Keyed weakly: a client that is garbage-collected takes its pool with it.
 */
export function channelPoolOf<T extends Closeable>(owner: PoolOwner): ChannelPool<T> {
  let pool = pools.get(owner);
  if (!pool) {
    pool = new ChannelPool<Closeable>();
    owner.registerCloser(() => (pool as ChannelPool<Closeable>).close());
    pools.set(owner, pool);
  }
  return pool as ChannelPool<T>;
}
