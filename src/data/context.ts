/**
 * What an index handle gets from its owner: the API key, logger, clock, random source,
 * log memory, adaptive limiters, pooled REST transports and gRPC channels, default
 * timeout and REST retry settings, and how to find an index's host by name.
 *
 * The owner is a `Pinecone` client, or a `GrpcIndex` constructed without one. Index
 * classes receive this object explicitly, never the client, so the data layer imports
 * nothing from `client.ts` (no import circle) and a directly constructed `GrpcIndex`
 * builds the same wiring for itself.
 */
import { inspect } from 'node:util';
import { Agent } from 'undici';
import type { RetryConfig } from '../config.js';
import { PineconeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Clock, RandomSource } from '../resilience/clock.js';
import type { LimiterRegistry } from '../resilience/limiter.js';
import type { RetryEvents } from '../resilience/retry-events.js';
import { ChannelPool } from '../transport/grpc-channels.js';
import { normalizeHost, RestTransport } from '../transport/rest.js';

/**
 * The key under which a client hands its context to a `GrpcIndex` built with
 * `new GrpcIndex({ host, client })`.
 */
export const CLIENT_CONTEXT: unique symbol = Symbol.for('pinecone-resilient.clientContext') as never;

/** Anything that can hand over a {@link ClientContext}: a `Pinecone` client. */
export interface ClientContextSource {
  [CLIENT_CONTEXT](): ClientContext;
}

/** Where an index lives: a host, or a name its owner looks up (once). */
export interface IndexTarget {
  host?: string | undefined;
  name?: string | undefined;
}

/** Settings of a {@link ClientContext}. Times in seconds. */
export interface ClientContextOptions {
  apiKey: string;
  logger: Logger;
  clock: Clock;
  random: RandomSource;
  events: RetryEvents;
  limiters: LimiterRegistry;
  /** Default per-attempt timeout, seconds. */
  timeout: number;
  /** How REST requests are retried (and which statuses the REST transport calls retryable). */
  retryConfig: RetryConfig;
  additionalHeaders?: Record<string, string> | undefined;
  sourceTag?: string | undefined;
  /** Looks an index's host up by name (the client's `describeIndex`); absent: names are refused. */
  resolveName?: ((name: string) => Promise<string>) | undefined;
}

/** The shared wiring of one owner's index handles; {@link close} releases its pools. */
export class ClientContext {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly events: RetryEvents;
  readonly limiters: LimiterRegistry;
  readonly timeout: number;
  readonly retryConfig: RetryConfig;
  readonly additionalHeaders: Record<string, string> | undefined;
  readonly sourceTag: string | undefined;
  /** gRPC channels of this owner (grpc-js loads only when a gRPC call makes one). */
  readonly channels = new ChannelPool();
  readonly #apiKey: string;
  readonly #resolveName: ((name: string) => Promise<string>) | undefined;
  readonly #transports = new Map<string, RestTransport>();
  #agent: Agent | undefined;
  #closed = false;

  constructor(options: ClientContextOptions) {
    this.#apiKey = options.apiKey;
    this.logger = options.logger;
    this.clock = options.clock;
    this.random = options.random;
    this.events = options.events;
    this.limiters = options.limiters;
    this.timeout = options.timeout;
    this.retryConfig = options.retryConfig;
    this.additionalHeaders = options.additionalHeaders;
    this.sourceTag = options.sourceTag;
    this.#resolveName = options.resolveName;
  }

  /** The API key (a method, so no enumeration or serialisation of the context shows it). */
  apiKey(): string {
    return this.#apiKey;
  }

  /** Whether {@link close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws once the owner is closed. */
  assertOpen(): void {
    if (this.#closed) throw new PineconeError('This Pinecone client is closed');
  }

  /** The host of an index: the one given, or the owner's lookup of its name. */
  resolveHost(target: IndexTarget): Promise<string> {
    if (target.host !== undefined) return Promise.resolve(target.host);
    if (target.name === undefined || !this.#resolveName) {
      return Promise.reject(new PineconeError('An index needs a host here (no client to look a name up)'));
    }
    return this.#resolveName(target.name);
  }

  /**
   * The REST transport of an origin (`https://host` or `http://127.0.0.1:PORT`), one per
   * origin over one keep-alive pool. Throws once the owner is closed.
   */
  rest(origin: string): RestTransport {
    this.assertOpen();
    const key = normalizeHost(origin).origin;
    let transport = this.#transports.get(key);
    if (!transport) {
      // One connection pool per origin; idle keep-alive sockets do not hold the process open.
      this.#agent ??= new Agent({ keepAliveTimeout: 10_000, connections: null, pipelining: 1 });
      transport = new RestTransport({
        origin: key,
        apiKey: this.#apiKey,
        dispatcher: this.#agent,
        retryableStatusCodes: this.retryConfig.retryableStatusCodes,
        additionalHeaders: this.additionalHeaders,
        sourceTag: this.sourceTag,
      });
      this.#transports.set(key, transport);
    }
    return transport;
  }

  /** Release every pool and channel; later calls fail. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.channels.close();
    await this.#agent?.close();
  }

  /** @internal Never show the key. */
  [inspect.custom](): string {
    return `ClientContext { closed: ${this.#closed} }`;
  }
}
