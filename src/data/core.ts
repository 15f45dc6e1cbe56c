/**
 * The data-plane core, transport-agnostic, shaped like the emulator's
 * `local/operations.ts`: every operation is checked completely (nothing goes on the
 * wire for bad input), gets its namespace, is batched or fanned out where it must be,
 * and runs each attempt through the retry loop and the host's adaptive limiter. The wire
 * adapter it is given (`rest-wire.ts`, `grpc-wire.ts`) only encodes and decodes.
 *
 * `Index` (REST) and `GrpcIndex` extend this class and add nothing to the data plane,
 * so the two can never drift apart: one implementation of {@link IndexDataPlane}.
 */
import { ConflictError, ValidationError } from '../errors.js';
import type { HostLimiter } from '../resilience/limiter.js';
import { withRetries } from '../resilience/retry.js';
import type { ClientContext } from './context.js';
import type { IndexDataPlane } from './data-plane.js';
import type {
  CallOptions,
  CreateNamespaceOptions,
  DeleteAllOptions,
  DeleteManyOptions,
  DeleteOneOptions,
  DeleteOptions,
  DescribeIndexStatsOptions,
  FetchByMetadataOptions,
  FetchOptions,
  ListImportsOptions,
  ListNamespacesOptions,
  ListOptions,
  QueryOptions,
  SearchRecordsOptions,
  StartImportOptions,
  UpdateOptions,
  UpsertOptions,
  UpsertRecordsOptions,
} from './options.js';
import {
  bulkUpsert,
  checkDelete,
  checkDeleteMany,
  checkQuery,
  checkSearchRecords,
  checkStartImport,
  checkUpdate,
  checkUpsertRecords,
  chunked,
  DEFAULT_MAX_CONCURRENCY,
  fanOut,
  mergeFetched,
  resolveTimeout,
} from './requests.js';
import {
  DEFAULT_NAMESPACE,
  type FetchByMetadataResponse,
  type FetchResponse,
  type ImportModel,
  type IndexStats,
  LIMITS,
  type ListImportsResponse,
  type ListNamespacesResponse,
  type ListResponse,
  type NamespaceDescription,
  type QueryResponse,
  type SearchRecordsResponse,
  type StartImportResponse,
  type UpdateResponse,
  type UpsertResponse,
} from './types.js';
import {
  validateFilter,
  validateId,
  validateIds,
  validateIntRange,
  validateNamespace,
  validateSignal,
  validateText,
} from './validate.js';
import type { DataWire, Send } from './wire.js';

/** What a handle is made of: its owner's context, its wire, its default namespace and timeout. */
export interface CoreState {
  readonly ctx: ClientContext;
  /** The wire adapter of the index's host, resolved (host looked up, gRPC loaded) on first use. */
  readonly wire: () => Promise<DataWire>;
  /** Namespace of calls that give none (`undefined`: the server's default). */
  readonly namespace: string | undefined;
  /** Default per-attempt timeout, seconds. */
  readonly timeout: number;
}

/** A call's checked common options. */
interface Call {
  signal: AbortSignal | undefined;
  /** Per-attempt timeout, seconds. */
  timeout: number;
}

/** Options that may carry a ceiling for fan-out. */
type FanOutOptions = CallOptions & { maxConcurrency?: number | undefined };

/** The one implementation of {@link IndexDataPlane}; see the file header. */
export abstract class DataPlaneCore implements IndexDataPlane {
  /** @internal */
  protected readonly core: CoreState;

  protected constructor(state: CoreState) {
    this.core = state;
  }

  /** The namespace calls use when they give none (`undefined`: the server's default). */
  get defaultNamespace(): string | undefined {
    return this.core.namespace;
  }

  /** A handle on the same index (same wire, limiter and channels) defaulting to `namespace`. */
  abstract namespace(namespace: string): IndexDataPlane;

  /**
   * Upsert records. Arrays and iterables are split into batches of `batchSize` (and under
   * 2 MB per request) and sent with up to `maxConcurrency` requests in flight, the
   * adaptive limiter tuning below that ceiling.
   * @returns the number of records written.
   */
  async upsert(options: UpsertOptions): Promise<UpsertResponse> {
    const call = this.begin(options);
    const namespace = this.ns(options?.namespace);
    return bulkUpsert(options, async () => {
      const wire = await this.wire();
      const limiter = this.core.ctx.limiters.get(wire.host);
      const encoder = wire.upsert(namespace);
      return {
        limiter,
        maxBatchBytes: encoder.maxBatchBytes,
        sizeOf: (v) => encoder.sizeOf(v),
        send: async (batch, signal, ceiling) => {
          const request = encoder.batch(batch);
          try {
            return await this.attempts(wire, request.send, { ...call, signal }, { limiter, ceiling });
          } finally {
            request.release();
          }
        },
      };
    });
  }

  /** Nearest neighbours of a vector (or of a stored record's vector, by `id`). */
  async query(options: QueryOptions): Promise<QueryResponse> {
    checkQuery(options);
    const call = this.begin(options);
    const namespace = this.ns(options.namespace);
    return this.run(call, (w) => w.query(options, namespace));
  }

  /**
   * Records by id (`records`, also as `vectors`). Missing ids are simply absent. Past 1000
   * ids, one request per 1000 under the adaptive limiter, merged.
   */
  async fetch(options: FetchOptions): Promise<FetchResponse> {
    validateIds(options?.ids);
    const call = this.begin(options);
    const namespace = this.ns(options.namespace);
    if (options.ids.length <= LIMITS.maxIdsPerFetchOrDelete) {
      return this.run(call, (w) => w.fetch(options.ids, namespace));
    }
    const pages = await this.fanOut(call, options, chunked(options.ids), (w, ids) => w.fetch(ids, namespace));
    return mergeFetched(pages);
  }

  /** One page of the records matching a metadata filter, in id order. */
  async fetchByMetadata(options: FetchByMetadataOptions): Promise<FetchByMetadataResponse> {
    validateFilter(options?.filter);
    if (options.limit !== undefined) validateIntRange(options.limit, 'limit', 1, 10_000);
    if (options.paginationToken !== undefined) validateText(options.paginationToken, 'paginationToken');
    const call = this.begin(options);
    const namespace = this.ns(options.namespace);
    return this.run(call, (w) => w.fetchByMetadata(options, namespace));
  }

  /**
   * Delete records by ids, by metadata filter, or all records of the namespace. Past 1000
   * ids, one request per 1000 under the adaptive limiter (deleting is idempotent: after a
   * failure, the same call again finishes it).
   */
  async delete(options: DeleteOptions): Promise<void> {
    checkDelete(options);
    const call = this.begin(options);
    const namespace = this.ns(options.namespace);
    if (options.ids === undefined || options.ids.length <= LIMITS.maxIdsPerFetchOrDelete) {
      const selector = {
        ids: options.ids,
        deleteAll: options.deleteAll || undefined,
        filter: options.filter,
      };
      return this.run(call, (w) => w.delete(selector, namespace));
    }
    await this.fanOut(call, options, chunked(options.ids), (w, ids) => w.delete({ ids }, namespace));
  }

  /** Delete one record. */
  async deleteOne(options: DeleteOneOptions): Promise<void> {
    validateId(options?.id, 'id');
    const { id, ...rest } = options;
    return this.delete({ ...rest, ids: [id] });
  }

  /** Delete records by ids or by metadata filter. */
  async deleteMany(options: DeleteManyOptions): Promise<void> {
    checkDeleteMany(options);
    return this.delete(options);
  }

  /** Delete every record of the namespace (the call's, else the handle's). */
  async deleteAll(options: DeleteAllOptions = {}): Promise<void> {
    return this.delete({ ...options, deleteAll: true });
  }

  /**
   * Update one record's values, sparse values and/or metadata (merged), or, with `filter`,
   * the metadata of every matching record (`matchedRecords` says how many).
   */
  async update(options: UpdateOptions): Promise<UpdateResponse> {
    checkUpdate(options);
    const call = this.begin(options);
    const namespace = this.ns(options.namespace);
    return this.run(call, (w) => w.update(options, namespace));
  }

  /** Record counts per namespace, dimension and fullness; optionally for a filter. */
  async describeIndexStats(options: DescribeIndexStatsOptions = {}): Promise<IndexStats> {
    if (options.filter !== undefined) validateFilter(options.filter);
    const call = this.begin(options);
    return this.run(call, (w) => w.describeIndexStats(options.filter));
  }

  /** One page of record ids (serverless indexes). */
  async listPaginated(options: ListOptions = {}): Promise<ListResponse> {
    if (options.limit !== undefined) validateIntRange(options.limit, 'limit', 1, 10_000);
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new ValidationError('prefix must be a string', 'prefix');
    }
    const call = this.begin(options);
    const namespace = this.ns(options.namespace);
    return this.run(call, (w) => w.listPaginated(options, namespace));
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
   * Create an empty namespace (`ConflictError` when it exists). A create retried after a
   * lost reply can meet the namespace its own first attempt made: then the namespace is
   * described and returned, as the success it was.
   */
  async createNamespace(options: CreateNamespaceOptions): Promise<NamespaceDescription> {
    validateText(options?.name, 'name');
    if (options.schema !== undefined) checkSchema(options.schema);
    const call = this.begin(options);
    try {
      return await this.run(call, (w) => w.createNamespace(options));
    } catch (error) {
      if (!(error instanceof ConflictError) || error.attempts < 2) throw error;
      return this.run(call, (w) => w.describeNamespace(options.name));
    }
  }

  /** One page of the index's namespaces, in name order. */
  async listNamespaces(options: ListNamespacesOptions = {}): Promise<ListNamespacesResponse> {
    if (options.limit !== undefined) validateIntRange(options.limit, 'limit', 1, 1000);
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new ValidationError('prefix must be a string', 'prefix');
    }
    return this.run(this.begin(options), (w) => w.listNamespaces(options));
  }

  /** One namespace and its record count (`NotFoundError` when it does not exist). */
  async describeNamespace(namespace: string, options: CallOptions = {}): Promise<NamespaceDescription> {
    validateText(namespace, 'namespace');
    return this.run(this.begin(options), (w) => w.describeNamespace(namespace));
  }

  /** Delete a namespace and every record in it (`NotFoundError` when it does not exist). */
  async deleteNamespace(namespace: string, options: CallOptions = {}): Promise<void> {
    validateText(namespace, 'namespace');
    return this.run(this.begin(options), (w) => w.deleteNamespace(namespace));
  }

  /** Start a bulk import from object storage; resolves to its id. */
  async startImport(options: StartImportOptions): Promise<StartImportResponse> {
    checkStartImport(options);
    return this.run(this.begin(options), (w) => w.startImport(options));
  }

  /**
   * One page of the index's imports. Takes the official client's positional
   * `(limit, paginationToken)`, or one options object.
   */
  async listImports(
    limit?: number | ListImportsOptions,
    paginationToken?: string,
    options: CallOptions = {},
  ): Promise<ListImportsResponse> {
    const o: ListImportsOptions =
      typeof limit === 'object' && limit !== null ? limit : { ...options, limit, paginationToken };
    if (o.limit !== undefined) validateIntRange(o.limit, 'limit', 1, 100);
    if (o.paginationToken !== undefined) validateText(o.paginationToken, 'paginationToken');
    return this.run(this.begin(o), (w) => w.listImports(o.limit, o.paginationToken));
  }

  /** One import's status and progress. */
  async describeImport(id: string, options: CallOptions = {}): Promise<ImportModel> {
    validateText(id, 'id');
    return this.run(this.begin(options), (w) => w.describeImport(id));
  }

  /** Cancel an import that has not finished. */
  async cancelImport(id: string, options: CallOptions = {}): Promise<object> {
    validateText(id, 'id');
    return this.run(this.begin(options), (w) => w.cancelImport(id));
  }

  /**
   * Upsert records into an index with integrated embedding (the server embeds the mapped
   * field). Sent 96 per request (Pinecone's limit), up to `maxConcurrency` in flight.
   */
  async upsertRecords(options: UpsertRecordsOptions): Promise<void> {
    checkUpsertRecords(options);
    const call = this.begin(options);
    const namespace = this.ns(options.namespace) ?? DEFAULT_NAMESPACE;
    const chunks = chunked(options.records, LIMITS.maxRecordsPerUpsertRecords);
    await this.fanOut(call, options, chunks, (w, records) => w.upsertRecords(records, namespace));
  }

  /** Search an index with integrated embedding by text, vector or record id. */
  async searchRecords(options: SearchRecordsOptions): Promise<SearchRecordsResponse> {
    checkSearchRecords(options);
    const call = this.begin(options);
    const namespace = this.ns(options.namespace) ?? DEFAULT_NAMESPACE;
    return this.run(call, (w) => w.searchRecords(options, namespace));
  }

  /** The wire, once the owner is known to be open. */
  private wire(): Promise<DataWire> {
    this.core.ctx.assertOpen();
    return this.core.wire();
  }

  /** Check the options every call takes: a real `AbortSignal`, a valid timeout. */
  private begin(options: CallOptions | undefined): Call {
    validateSignal(options?.signal);
    return { signal: options?.signal, timeout: resolveTimeout(options?.timeout, this.core.timeout) };
  }

  /** The call's namespace, else the handle's. */
  private ns(namespace: unknown): string | undefined {
    validateNamespace(namespace);
    return namespace ?? this.core.namespace;
  }

  /** One logical request: resolve the wire, encode once, then attempts through the retry loop. */
  private async run<T>(call: Call, prepare: (wire: DataWire) => Send<T>): Promise<T> {
    const wire = await this.wire();
    return this.attempts(wire, prepare(wire), call);
  }

  /** One request per chunk, every attempt under the host's limiter with the call's ceiling. */
  private async fanOut<C, R>(
    call: Call,
    options: FanOutOptions,
    chunks: C[],
    prepare: (wire: DataWire, chunk: C) => Send<R>,
  ): Promise<R[]> {
    const ceiling = options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
    validateIntRange(ceiling, 'maxConcurrency', 1, 1000);
    const wire = await this.wire();
    const limiter = this.core.ctx.limiters.get(wire.host);
    return fanOut(chunks, call, (chunk, signal) =>
      this.attempts(wire, prepare(wire, chunk), { ...call, signal }, { limiter, ceiling }),
    );
  }

  /** Attempts of one encoded request (under the gate's permits, if any). */
  private attempts<T>(
    wire: DataWire,
    send: Send<T>,
    call: Call,
    gate?: { limiter: HostLimiter; ceiling: number },
  ): Promise<T> {
    const { clock, random, events } = this.core.ctx;
    return withRetries((attempt, signal) => send({ attempt, timeout: call.timeout, signal }), wire.policy, {
      clock,
      random,
      events,
      host: wire.host,
      signal: call.signal,
      limiter: gate?.limiter,
      ceiling: gate?.ceiling,
    });
  }
}

/** A namespace schema: `{ fields: { name: { filterable: true } } }`. */
function checkSchema(schema: unknown): void {
  const fields = (schema as { fields?: unknown } | null)?.fields;
  if (!fields || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new ValidationError('schema must be { fields: { <name>: { filterable: true } } }', 'schema');
  }
  for (const [name, field] of Object.entries(fields)) {
    if (typeof (field as { filterable?: unknown } | null)?.filterable !== 'boolean') {
      throw new ValidationError(
        `schema.fields.${name}.filterable must be a boolean`,
        `schema.fields.${name}`,
      );
    }
  }
}
