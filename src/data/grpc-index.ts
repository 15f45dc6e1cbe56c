/**
 * The gRPC data plane of one index: the same methods, options and result shapes as the
 * REST `Index`, over Pinecone's `VectorService`, with the spec's gRPC retry policy
 * (5 retries, i.e. 6 attempts, by default; UNAVAILABLE, RESOURCE_EXHAUSTED and ABORTED
 * retried; decorrelated jitter with the REST formula and defaults).
 */
import { inspect } from 'node:util';
import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import type { Pinecone } from '../client.js';
import { ValidationError } from '../errors.js';
import { UpsertRequestSchema, VectorService } from '../gen/db_data_pb.js';
import { type Logger, resolveLogger } from '../log.js';
import { type Clock, type RandomSource, systemClock } from '../resilience/clock.js';
import type { HostLimiter, LimiterRegistry } from '../resilience/limiter.js';
import { AdaptiveLimiterRegistry } from '../resilience/registry.js';
import { type RetryPolicy, withRetries } from '../resilience/retry.js';
import { RetryEvents } from '../resilience/retry-events.js';
import {
  classifyGrpcFailure,
  type GrpcMethod,
  GrpcTransport,
  type GrpcTransportOptions,
  grpcMethod,
  grpcTarget,
} from '../transport/grpc.js';
import { ChannelPool, channelPoolOf } from '../transport/grpc-channels.js';
import { DEFAULT_MAX_BATCH_BYTES } from './bulk.js';
import {
  deleteRequest,
  estimateVectorProtoBytes,
  fromPbFetch,
  fromPbList,
  fromPbQuery,
  fromPbStats,
  listRequest,
  mergeFetched,
  queryRequest,
  toPbFilter,
  toPbVector,
  updateRequest,
} from './grpc-convert.js';
import { GRPC_DEFAULT_MAX_RETRIES, GRPC_INDEX_BRAND } from './grpc-lazy.js';
import type {
  CallOptions,
  DeleteOptions,
  DescribeIndexStatsOptions,
  FetchOptions,
  ListOptions,
  QueryOptions,
  UpdateOptions,
  UpsertOptions,
} from './index.js';
import {
  bulkUpsert,
  checkDelete,
  checkQuery,
  checkUpdate,
  chunkIds,
  DEFAULT_MAX_CONCURRENCY,
  fanOut,
  resolveTimeout,
} from './requests.js';
import {
  type FetchResponse,
  type IndexStats,
  LIMITS,
  type ListResponse,
  type QueryResponse,
  type UpdateResponse,
  type UpsertResponse,
  type Vector,
} from './types.js';
import {
  validateFilter,
  validateIds,
  validateIntRange,
  validateNamespace,
  validateUpsertRequest,
} from './validate.js';

/** Jitter floor, seconds: the spec's default, the same as REST's. Not configurable for gRPC. */
export const GRPC_BACKOFF_FACTOR = 0.25;
/** Delay cap, seconds: the spec's default, the same as REST's. Not configurable for gRPC. */
export const GRPC_MAX_WAIT = 60;

/** Options of {@link GrpcIndex}. Times are in seconds. */
export interface GrpcIndexOptions {
  /** The index host: bare or `https://` (TLS, port 443), or `http://127.0.0.1:PORT` (plaintext). */
  host: string;
  /** API key. Default: the `client`'s, else `process.env.PINECONE_API_KEY`. */
  apiKey?: string | undefined;
  /**
   * Retries after the first attempt (default 5). gRPC retrying is tuned here only, never
   * through `RetryConfig`.
   */
  maxRetries?: number | undefined;
  /**
   * A client to share: its API key, logger, clock, random source, log memory, adaptive
   * limiters and gRPC channels; its `close()` closes this index's channel. Without one
   * the index has its own (and its own {@link GrpcIndex.close}).
   */
  client?: Pinecone | undefined;
  /** Default namespace for calls on this handle. */
  namespace?: string | undefined;
  /** Per-attempt deadline (default: the client's `timeout`, else 30). */
  timeout?: number | undefined;
  /** Receives the SDK's log records (without a client). */
  logger?: Logger | undefined;
  /** Time source for backoff sleeps and the limiter (without a client). */
  clock?: Clock | undefined;
  /** Random source for jitter (without a client). */
  random?: RandomSource | undefined;
  /** Adaptive limiter registry (default: the client's, else one of its own). */
  limiters?: LimiterRegistry | undefined;
  /** API version sent as `x-pinecone-api-version`. */
  apiVersion?: string | undefined;
  /** Metadata added to every call. */
  additionalHeaders?: Record<string, string> | undefined;
  /** Appended to the user agent to identify your integration. */
  sourceTag?: string | undefined;
}

const M = {
  upsert: grpcMethod(VectorService.method.upsert),
  query: grpcMethod(VectorService.method.query),
  fetch: grpcMethod(VectorService.method.fetch),
  delete: grpcMethod(VectorService.method.delete),
  update: grpcMethod(VectorService.method.update),
  describeIndexStats: grpcMethod(VectorService.method.describeIndexStats),
  list: grpcMethod(VectorService.method.list),
};

/**
 * One index over gRPC. Construct it directly (`new GrpcIndex({ host, apiKey, maxRetries })`)
 * or get one from `pc.index({ host, grpc: true })`, which shares the client's limiters.
 *
 * @example
 * ```ts
 * import { GrpcIndex } from 'pinecone-resilient/grpc';
 * const index = new GrpcIndex({ host: 'product-search-abc123.svc.pinecone.io', apiKey, maxRetries: 7 });
 * await index.upsert({ vectors, batchSize: 100, maxConcurrency: 8 });
 * await index.close();
 * ```
 */
export class GrpcIndex {
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  readonly #host: string;
  /** Channel identity in the pool: address, TLS and the call metadata it carries. */
  readonly #channelKey: string;
  readonly #namespace: string | undefined;
  readonly #timeout: number;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #events: RetryEvents;
  readonly #limiters: LimiterRegistry;
  readonly #pool: ChannelPool<GrpcTransport>;
  readonly #ownsPool: boolean;
  readonly #transportOptions: GrpcTransportOptions;
  readonly #policy: RetryPolicy;

  /** Handles loaded lazily by `pc.index({ grpc: true })` count as instances too. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && GRPC_INDEX_BRAND in value;
  }

  constructor(options: GrpcIndexOptions) {
    if (!options || typeof options !== 'object')
      throw new ValidationError('GrpcIndex options must be an object');
    if (typeof options.host !== 'string' || options.host.trim() === '') {
      throw new ValidationError('GrpcIndex needs a host', 'host');
    }
    const maxRetries = options.maxRetries ?? GRPC_DEFAULT_MAX_RETRIES;
    validateIntRange(maxRetries, 'maxRetries', 0, 100);
    validateNamespace(options.namespace);
    const client = options.client;
    if (client && options.apiKey !== undefined) {
      throw new ValidationError('Give GrpcIndex either a client or an apiKey, not both', 'apiKey');
    }
    const shared = client?.internals;
    const apiKey = shared ? shared.apiKey() : (options.apiKey ?? process.env.PINECONE_API_KEY);
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw new ValidationError(
        'No API key: pass apiKey (or client), or set the PINECONE_API_KEY environment variable',
        'apiKey',
      );
    }
    this.maxRetries = maxRetries;
    this.#namespace = options.namespace;
    this.#timeout = resolveTimeout(options.timeout, client?.timeout ?? 30);
    this.#transportOptions = {
      host: options.host,
      apiKey,
      apiVersion: options.apiVersion,
      additionalHeaders: options.additionalHeaders,
      sourceTag: options.sourceTag,
    };
    // Parse the host now so a bad one fails at construction, not on the first call.
    const target = grpcTarget(options.host);
    this.#host = target.label;
    this.#channelKey = JSON.stringify([
      target.secure,
      target.address,
      options.apiVersion,
      options.sourceTag,
      options.additionalHeaders,
    ]);
    const logger = shared?.logger ?? resolveLogger(options.logger);
    this.#clock = shared?.clock ?? options.clock ?? systemClock;
    this.#random = shared?.random ?? options.random ?? Math.random;
    this.#events = shared?.events ?? new RetryEvents(logger);
    this.#limiters =
      options.limiters ?? shared?.limiters ?? new AdaptiveLimiterRegistry({ clock: this.#clock, logger });
    this.#ownsPool = !client;
    this.#pool = client ? channelPoolOf<GrpcTransport>(client) : new ChannelPool<GrpcTransport>();
    this.#policy = {
      maxRetries,
      backoffFactor: GRPC_BACKOFF_FACTOR,
      maxWait: GRPC_MAX_WAIT,
      classify: classifyGrpcFailure,
    };
    Object.defineProperty(this, GRPC_INDEX_BRAND, { value: true });
  }

  /** The handle's default namespace (used when a call gives none). */
  get namespace(): string | undefined {
    return this.#namespace;
  }

  /**
   * Upsert records. Arrays and iterables are split into batches of `batchSize` (and under
   * 2 MB per request) and sent with up to `maxConcurrency` requests in flight, the
   * adaptive limiter tuning below that ceiling.
   * @returns the number of records written.
   */
  async upsert(options: UpsertOptions): Promise<UpsertResponse> {
    const namespace = this.#ns(options?.namespace);
    const timeout = resolveTimeout(options?.timeout, this.#timeout);
    const limiter = this.#limiter();
    return bulkUpsert(options, {
      limiter,
      maxBatchBytes: DEFAULT_MAX_BATCH_BYTES,
      sizeOf: estimateVectorProtoBytes,
      send: (batch, signal, ceiling) =>
        this.#sendUpsert(batch, namespace, { timeout, signal }, { limiter, ceiling }),
    });
  }

  /** One upsert request of validated records, encoded once and retried; resolves to upsertedCount. */
  async #sendUpsert(
    vectors: readonly Vector[],
    namespace: string | undefined,
    call: CallOptions,
    gate: Gate,
  ): Promise<number> {
    const message = create(UpsertRequestSchema, {
      vectors: vectors.map(toPbVector),
      namespace: namespace ?? '',
    });
    const bytes = toBinary(UpsertRequestSchema, message);
    validateUpsertRequest(vectors.length, bytes.length);
    const res = await this.#send(M.upsert, bytes, call, gate);
    return res.upsertedCount;
  }

  /** Nearest neighbours of a vector (or of a stored record's vector, by `id`). */
  async query(options: QueryOptions): Promise<QueryResponse> {
    checkQuery(options);
    const res = await this.#call(M.query, queryRequest(options, this.#ns(options.namespace)), options);
    return fromPbQuery(res);
  }

  /**
   * Records by id. Missing ids are simply absent from `vectors`. Past 1000 ids, one
   * request per 1000 under the adaptive limiter, merged.
   */
  async fetch(options: FetchOptions): Promise<FetchResponse> {
    validateIds(options?.ids);
    const namespace = this.#ns(options.namespace) ?? '';
    if (options.ids.length <= LIMITS.maxIdsPerFetchOrDelete) {
      return fromPbFetch(await this.#call(M.fetch, { ids: options.ids, namespace }, options));
    }
    const gate = this.#gate(options.maxConcurrency);
    const pages = await fanOut(chunkIds(options.ids), options, (ids, signal) =>
      this.#call(M.fetch, { ids, namespace }, { timeout: options.timeout, signal }, gate),
    );
    return mergeFetched(pages.map(fromPbFetch));
  }

  /**
   * Delete records by ids, by metadata filter, or all records of the namespace. Past 1000
   * ids, one request per 1000 under the adaptive limiter (deleting is idempotent: after a
   * failure, the same call again finishes it).
   */
  async delete(options: DeleteOptions): Promise<void> {
    checkDelete(options);
    const namespace = this.#ns(options.namespace);
    if (options.ids === undefined || options.ids.length <= LIMITS.maxIdsPerFetchOrDelete) {
      await this.#call(M.delete, deleteRequest(options, namespace), options);
      return;
    }
    const gate = this.#gate(options.maxConcurrency);
    await fanOut(chunkIds(options.ids), options, (ids, signal) =>
      this.#call(M.delete, deleteRequest({ ids }, namespace), { timeout: options.timeout, signal }, gate),
    );
  }

  /** Update one record's values, sparse values and/or metadata (merged). */
  async update(options: UpdateOptions): Promise<UpdateResponse> {
    checkUpdate(options);
    const res = await this.#call(M.update, updateRequest(options, this.#ns(options.namespace)), options);
    return res.matchedRecords === undefined ? {} : { matchedRecords: res.matchedRecords };
  }

  /** Record counts per namespace, dimension and fullness; optionally for a filter. */
  async describeIndexStats(options: DescribeIndexStatsOptions = {}): Promise<IndexStats> {
    if (options.filter !== undefined) validateFilter(options.filter);
    const res = await this.#call(M.describeIndexStats, { filter: toPbFilter(options.filter) }, options);
    return fromPbStats(res);
  }

  /** One page of record ids (serverless indexes). */
  async listPaginated(options: ListOptions = {}): Promise<ListResponse> {
    if (options.limit !== undefined) validateIntRange(options.limit, 'limit', 1, 10_000);
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new ValidationError('prefix must be a string', 'prefix');
    }
    const res = await this.#call(M.list, listRequest(options, this.#ns(options.namespace)), options);
    return fromPbList(res);
  }

  /** Every record id (optionally with a prefix), page after page. */
  async *list(options: Omit<ListOptions, 'paginationToken'> = {}): AsyncGenerator<string, void, undefined> {
    let paginationToken: string | undefined;
    do {
      const page = await this.listPaginated({ ...options, paginationToken });
      for (const v of page.vectors) yield v.id;
      paginationToken = page.pagination?.next || undefined;
    } while (paginationToken);
  }

  /**
   * Close this index's channel when it owns it (constructed without a client). An index
   * from a client shares the client's channels: `await pc.close()` closes those.
   */
  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.close();
  }

  /** @internal Hide the wiring from `util.inspect` (the transport holds the API key). */
  [inspect.custom](): string {
    return `GrpcIndex { host: '${this.#host}', namespace: ${JSON.stringify(this.#namespace)}, maxRetries: ${this.maxRetries} }`;
  }

  #ns(namespace: string | undefined): string | undefined {
    validateNamespace(namespace);
    return namespace ?? this.#namespace;
  }

  #transport(): GrpcTransport {
    return this.#pool.get(this.#channelKey, () => new GrpcTransport(this.#transportOptions));
  }

  /** The host's adaptive limiter (looked up per operation: the registry keeps recency). */
  #limiter(): HostLimiter {
    return this.#limiters.get(this.#transport().host);
  }

  /** The limiter and a call's ceiling, for calls that fan out. */
  #gate(maxConcurrency: number | undefined): Gate {
    const ceiling = maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
    validateIntRange(ceiling, 'maxConcurrency', 1, 1000);
    return { limiter: this.#limiter(), ceiling };
  }

  /** One logical call: encode once, then retry attempts of it. */
  #call<I extends DescMessage, O extends DescMessage>(
    method: GrpcMethod<I, O>,
    init: MessageInitShape<I>,
    opts: CallOptions,
    gate?: Gate,
  ): Promise<MessageShape<O>> {
    const bytes = toBinary(method.input, create(method.input, init));
    return this.#send(method, bytes, opts, gate);
  }

  /** Attempts of one encoded request through the retry loop (under the gate's permits, if any). */
  #send<I extends DescMessage, O extends DescMessage>(
    method: GrpcMethod<I, O>,
    bytes: Uint8Array,
    opts: CallOptions,
    gate?: Gate,
  ): Promise<MessageShape<O>> {
    const timeout = resolveTimeout(opts.timeout, this.#timeout);
    const transport = this.#transport();
    return withRetries(
      (attempt, signal) => transport.unary(method, bytes, { attempt, timeout, signal }),
      this.#policy,
      {
        clock: this.#clock,
        random: this.#random,
        events: this.#events,
        host: transport.host,
        signal: opts.signal,
        limiter: gate?.limiter,
        ceiling: gate?.ceiling,
      },
    );
  }
}

/** A limiter and the ceiling a call passes to it. */
interface Gate {
  limiter: HostLimiter;
  ceiling: number;
}
