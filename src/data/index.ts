/**
 * The REST data plane of one index. Each method validates its input, then runs one
 * request (or, for bulk paths, many) through the retry loop.
 */
import { inspect } from 'node:util';
import { ValidationError } from '../errors.js';
import type { Clock, RandomSource } from '../resilience/clock.js';
import type { HostLimiter, LimiterRegistry } from '../resilience/limiter.js';
import { type RetryPolicy, withRetries } from '../resilience/retry.js';
import type { RetryEvents } from '../resilience/retry-events.js';
import type { HttpMethod, RestTransport } from '../transport/rest.js';
import { queryString } from '../transport/rest.js';
import { DEFAULT_MAX_BATCH_BYTES } from './bulk.js';
import { encodedSize, encodeVector, jsonValues, upsertBody } from './encode.js';
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
import type {
  FetchResponse,
  IndexStats,
  ListResponse,
  MetadataFilter,
  QueryResponse,
  RecordMetadata,
  SparseValues,
  UpdateResponse,
  UpsertResponse,
  Vector,
} from './types.js';
import { LIMITS } from './types.js';
import { validateFilter, validateIds, validateIntRange, validateNamespace } from './validate.js';

/** Per-call options every data-plane method takes. */
export interface CallOptions {
  /** Cancels the call at once: in flight, backing off, or queued. */
  signal?: AbortSignal | undefined;
  /** Per-attempt timeout in seconds (default: the client's `timeout`). */
  timeout?: number | undefined;
}

/** Progress of a bulk upsert. */
export interface UpsertProgress {
  /** Vectors confirmed written so far. */
  upserted: number;
  /** Requests in flight now. */
  inFlight: number;
  /** The adaptive concurrency limit now. */
  limit: number;
  /** Throttled responses seen so far by this call. */
  throttled: number;
  /**
   * Batches held in memory now (being sent, retried or assembled): at most
   * `2 × maxConcurrency + 1`, of which at most `maxConcurrency + 1` are not asleep in a
   * retry delay.
   */
  batchesHeld?: number;
}

/** Options of `upsert`. */
export interface UpsertOptions extends CallOptions {
  /** Records: an array or any (async) iterable. */
  vectors?: Vector[] | Iterable<Vector> | AsyncIterable<Vector>;
  /** Alias of `vectors`, as the official TypeScript client names them. */
  records?: Vector[] | Iterable<Vector> | AsyncIterable<Vector>;
  namespace?: string;
  /** Records per request, 1..1000 (default 100); requests also stay under 2 MB. */
  batchSize?: number;
  /** Ceiling on requests in flight (default 4); the adaptive limiter tunes below it. */
  maxConcurrency?: number;
  onProgress?: (progress: UpsertProgress) => void;
}

/** Options of `query`: exactly one of `vector`, `sparseVector`+`vector`, or `id`. */
export interface QueryOptions extends CallOptions {
  topK: number;
  vector?: number[] | Float32Array;
  sparseVector?: SparseValues;
  id?: string;
  namespace?: string;
  filter?: MetadataFilter;
  includeValues?: boolean;
  includeMetadata?: boolean;
}

/** Options of `fetch`. */
export interface FetchOptions extends CallOptions {
  /** Any number of ids: past 1000 they are split into requests run under the adaptive limiter. */
  ids: string[];
  /** Ceiling on requests in flight when `ids` needs several requests (default 4). */
  maxConcurrency?: number;
  namespace?: string;
}

/** Options of `delete`: exactly one of `ids`, `deleteAll`, `filter`. */
export interface DeleteOptions extends CallOptions {
  /** Any number of ids: past 1000 they are split into requests run under the adaptive limiter. */
  ids?: string[];
  /** Ceiling on requests in flight when `ids` needs several requests (default 4). */
  maxConcurrency?: number;
  deleteAll?: boolean;
  filter?: MetadataFilter;
  namespace?: string;
}

/** Options of `update`. */
export interface UpdateOptions extends CallOptions {
  id: string;
  values?: number[] | Float32Array;
  sparseValues?: SparseValues;
  setMetadata?: RecordMetadata;
  namespace?: string;
}

/** Options of `describeIndexStats`. */
export interface DescribeIndexStatsOptions extends CallOptions {
  filter?: MetadataFilter;
}

/** Options of `listPaginated`. */
export interface ListOptions extends CallOptions {
  prefix?: string;
  /** Ids per page (server default 100). */
  limit?: number;
  paginationToken?: string;
  namespace?: string;
}

export { resolveTimeout } from './requests.js';

/** What an index handle needs from its client. Internal wiring, exported for the gRPC index. */
export interface IndexContext {
  /** Resolves (once) to the transport of the index's host. */
  transport: () => Promise<RestTransport>;
  maxRetries: number;
  backoffFactor: number;
  maxWait: number;
  clock: Clock;
  random: RandomSource;
  events: RetryEvents;
  /** Default per-attempt timeout, seconds. */
  timeout: number;
  /** The client's per-host adaptive limiters. */
  limiters: LimiterRegistry;
  /** Default namespace of this handle. */
  namespace?: string | undefined;
}

/**
 * One index over REST. Get one from `pc.index({ host })` or `pc.index({ name })`.
 */
export class Index {
  private readonly policies = new WeakMap<RestTransport, RetryPolicy>();

  constructor(private readonly ctx: IndexContext) {}

  /** The handle's default namespace (used when a call gives none). */
  get namespace(): string | undefined {
    return this.ctx.namespace;
  }

  /**
   * Upsert records. Arrays and iterables are split into batches of `batchSize` (and under
   * 2 MB per request) and sent with up to `maxConcurrency` requests in flight.
   * @returns the number of records written.
   */
  async upsert(options: UpsertOptions): Promise<UpsertResponse> {
    const namespace = this.ns(options?.namespace);
    const timeout = resolveTimeout(options?.timeout, this.ctx.timeout);
    // Each record is encoded once: its bytes size the batch, then become part of the body.
    const encoded = new WeakMap<Vector, Buffer>();
    return bulkUpsert(options, async () => {
      const transport = await this.ctx.transport();
      const limiter = this.ctx.limiters.get(transport.host);
      return {
        limiter,
        maxBatchBytes: DEFAULT_MAX_BATCH_BYTES,
        sizeOf: (v: Vector) => {
          const bytes = encodeVector(v);
          encoded.set(v, bytes);
          return encodedSize(bytes);
        },
        send: (batch: Vector[], signal: AbortSignal | undefined, ceiling: number) =>
          this.sendUpsert(
            batch.map((v) => encoded.get(v) ?? encodeVector(v)),
            namespace,
            { timeout, signal },
            limiter,
            ceiling,
          ),
      };
    });
  }

  /**
   * One upsert request of records already validated, encoded and sized by the bulk engine
   * (so within the request limits), retried; resolves to upsertedCount.
   */
  private async sendUpsert(
    encoded: Buffer[],
    namespace: string | undefined,
    options: CallOptions,
    limiter: HostLimiter,
    ceiling: number,
  ): Promise<number> {
    const body = upsertBody(encoded, namespace);
    const res = await this.request<{ upsertedCount?: number }>('POST', '/vectors/upsert', body, options, {
      limiter,
      ceiling,
    });
    return typeof res.upsertedCount === 'number' ? res.upsertedCount : encoded.length;
  }

  /** Nearest neighbours of a vector (or of a stored record's vector, by `id`). */
  async query(options: QueryOptions): Promise<QueryResponse> {
    checkQuery(options);
    const body = {
      topK: options.topK,
      vector: options.vector === undefined ? undefined : jsonValues(options.vector),
      sparseVector: options.sparseVector,
      id: options.id,
      namespace: this.ns(options.namespace),
      filter: options.filter,
      includeValues: options.includeValues,
      includeMetadata: options.includeMetadata,
    };
    const res = await this.request<Partial<QueryResponse>>('POST', '/query', JSON.stringify(body), options);
    return withNamespace({ ...res, matches: res.matches ?? [] }, res.namespace);
  }

  /** Records by id. Missing ids are simply absent from `vectors`. */
  async fetch(options: FetchOptions): Promise<FetchResponse> {
    validateIds(options?.ids);
    const namespace = this.ns(options.namespace);
    const one = async (ids: string[], call: CallOptions, gate?: Gate) => {
      const path = `/vectors/fetch${queryString({ ids, namespace })}`;
      return this.request<Partial<FetchResponse>>('GET', path, undefined, call, gate);
    };
    if (options.ids.length <= LIMITS.maxIdsPerFetchOrDelete) {
      const res = await one(options.ids, options);
      return withNamespace({ ...res, vectors: res.vectors ?? {} }, res.namespace);
    }
    // More ids than one request takes: one request per 1000, gated by the host's limiter.
    const gate = await this.gate(options.maxConcurrency);
    const pages = await fanOut(chunkIds(options.ids), options, (ids, signal) =>
      one(ids, { timeout: options.timeout, signal }, gate),
    );
    const vectors: Record<string, Vector> = {};
    let readUnits: number | undefined;
    for (const page of pages) {
      Object.assign(vectors, page.vectors);
      if (page.usage?.readUnits !== undefined) readUnits = (readUnits ?? 0) + page.usage.readUnits;
    }
    const merged: FetchResponse = { vectors, namespace: '' };
    if (readUnits !== undefined) merged.usage = { readUnits };
    return withNamespace(merged, pages[0]?.namespace);
  }

  /** Delete records by ids, by metadata filter, or all records of the namespace. */
  async delete(options: DeleteOptions): Promise<void> {
    checkDelete(options);
    const namespace = this.ns(options.namespace);
    const one = (
      selector: Pick<DeleteOptions, 'ids' | 'deleteAll' | 'filter'>,
      call: CallOptions,
      gate?: Gate,
    ) => this.request('POST', '/vectors/delete', JSON.stringify({ ...selector, namespace }), call, gate);
    if (options.ids === undefined || options.ids.length <= LIMITS.maxIdsPerFetchOrDelete) {
      await one(
        { ids: options.ids, deleteAll: options.deleteAll || undefined, filter: options.filter },
        options,
      );
      return;
    }
    // Deleting is idempotent: after a failure, running the same call again finishes it.
    const gate = await this.gate(options.maxConcurrency);
    await fanOut(chunkIds(options.ids), options, (ids, signal) =>
      one({ ids }, { timeout: options.timeout, signal }, gate),
    );
  }

  /** Update one record's values, sparse values and/or metadata (merged). */
  async update(options: UpdateOptions): Promise<UpdateResponse> {
    checkUpdate(options);
    const body = {
      id: options.id,
      values: options.values === undefined ? undefined : jsonValues(options.values),
      sparseValues: options.sparseValues,
      setMetadata: options.setMetadata,
      namespace: this.ns(options.namespace),
    };
    return this.request<UpdateResponse>('POST', '/vectors/update', JSON.stringify(body), options);
  }

  /** Record counts per namespace, dimension and fullness; optionally for a filter. */
  async describeIndexStats(options: DescribeIndexStatsOptions = {}): Promise<IndexStats> {
    if (options.filter !== undefined) validateFilter(options.filter);
    const body = options.filter === undefined ? '{}' : JSON.stringify({ filter: options.filter });
    const res = await this.request<Partial<IndexStats>>('POST', '/describe_index_stats', body, options);
    return {
      ...res,
      namespaces: res.namespaces ?? {},
      indexFullness: res.indexFullness ?? 0,
      totalVectorCount: res.totalVectorCount ?? 0,
    };
  }

  /** One page of record ids (serverless indexes). */
  async listPaginated(options: ListOptions = {}): Promise<ListResponse> {
    if (options.limit !== undefined) validateIntRange(options.limit, 'limit', 1, 10_000);
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new ValidationError('prefix must be a string', 'prefix');
    }
    const path = `/vectors/list${queryString({
      prefix: options.prefix,
      limit: options.limit,
      paginationToken: options.paginationToken,
      namespace: this.ns(options.namespace),
    })}`;
    const res = await this.request<Partial<ListResponse>>('GET', path, undefined, options);
    return withNamespace({ ...res, vectors: res.vectors ?? [] }, res.namespace);
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

  /** @internal Hide the wiring from `util.inspect` (it holds the API key's transport). */
  [inspect.custom](): string {
    return `Index { namespace: ${JSON.stringify(this.ctx.namespace)} }`;
  }

  private ns(namespace: string | undefined): string | undefined {
    validateNamespace(namespace);
    return namespace ?? this.ctx.namespace;
  }

  /** The host's limiter and a call's ceiling, for calls that fan out. */
  private async gate(maxConcurrency: number | undefined): Promise<Gate> {
    const ceiling = maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
    validateIntRange(ceiling, 'maxConcurrency', 1, 1000);
    const transport = await this.ctx.transport();
    return { limiter: this.ctx.limiters.get(transport.host), ceiling };
  }

  /** One logical request: resolve the host, then retry attempts of it (under the gate's permits, if any). */
  private async request<T>(
    method: HttpMethod,
    path: string,
    body: string | Buffer | undefined,
    opts: CallOptions,
    gate?: Gate,
  ): Promise<T> {
    const timeout = resolveTimeout(opts.timeout, this.ctx.timeout);
    const transport = await this.ctx.transport();
    return withRetries(
      (attempt, signal) => transport.send<T>({ method, path, body, attempt, timeout, signal }),
      this.policy(transport),
      {
        clock: this.ctx.clock,
        random: this.ctx.random,
        events: this.ctx.events,
        host: transport.host,
        signal: opts.signal,
        limiter: gate?.limiter,
        ceiling: gate?.ceiling,
      },
    );
  }

  private policy(transport: RestTransport): RetryPolicy {
    let policy = this.policies.get(transport);
    if (!policy) {
      policy = {
        maxRetries: this.ctx.maxRetries,
        backoffFactor: this.ctx.backoffFactor,
        maxWait: this.ctx.maxWait,
        classify: (error) => transport.classify(error),
      };
      this.policies.set(transport, policy);
    }
    return policy;
  }
}

/** A limiter and the ceiling a call passes to it. */
interface Gate {
  limiter: HostLimiter;
  ceiling: number;
}

function withNamespace<T extends { namespace?: string }>(
  res: T,
  namespace: string | undefined,
): T & { namespace: string } {
  return { ...res, namespace: namespace ?? '' };
}
