/**
 * One gRPC channel per host, reused by every gRPC index handle of one owner (a `Pinecone`
 * client, or a directly constructed `GrpcIndex`). This file does not load grpc-js: it
 * only keeps what a factory made, so the root entry point can hold a client's pool
 * before (or without) the gRPC code ever loading.
 */
import { PineconeError } from '../errors.js';

/** Anything that can be closed: a channel's transport. */
export interface Closeable {
  close(): void;
}

/** Channels keyed by host (and whatever else tells two channels apart). */
export class ChannelPool {
  readonly #channels = new Map<string, Closeable>();
  #closed = false;

  /** Whether {@link close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The channel under `key`, made by `create` on first use. Throws once the pool is closed.
   * One key always holds channels of one kind (the caller's `T`).
   */
  get<T extends Closeable>(key: string, create: () => T): T {
    if (this.#closed) throw new PineconeError('This client is closed; its gRPC channels are released');
    let channel = this.#channels.get(key);
    if (!channel) {
      channel = create();
      this.#channels.set(key, channel);
    }
    return channel as T;
  }

  /** Close every channel; later `get`s throw. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const channel of this.#channels.values()) channel.close();
    this.#channels.clear();
  }
}
