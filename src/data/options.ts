/**
 * The options every data-plane method takes, shared by the REST `Index` and `GrpcIndex`
 * (and the interface both implement). Types only, at the bottom of the data layer: the
 * index classes, the core and the wire adapters all import from here, never from each
 * other for a type.
 *
 * Names and shapes follow the official TypeScript client 9 where it has the method
 * (`fetchByMetadata`, `deleteMany`, `startImport`, ...), so code moves over by changing
 * the import; every method also takes `signal` and `timeout`.
 */
import type {
  IntegratedRecord,
  MetadataFilter,
  MetadataSchema,
  RecordMetadata,
  SparseValues,
  Vector,
} from './types.js';

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

/** Options of `fetchByMetadata`: one page of the records matching a filter. */
export interface FetchByMetadataOptions extends CallOptions {
  filter: MetadataFilter;
  /** Records per page, 1..10000 (server default 100). */
  limit?: number;
  paginationToken?: string;
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

/** Options of `deleteOne`. */
export interface DeleteOneOptions extends CallOptions {
  id: string;
  namespace?: string;
}

/** Options of `deleteMany`: exactly one of `ids` or `filter`. */
export interface DeleteManyOptions extends CallOptions {
  ids?: string[];
  filter?: MetadataFilter;
  namespace?: string;
  /** Ceiling on requests in flight when `ids` needs several requests (default 4). */
  maxConcurrency?: number;
}

/** Options of `deleteAll`. */
export interface DeleteAllOptions extends CallOptions {
  namespace?: string;
}

/**
 * Options of `update`: one record by `id` (values, sparse values, metadata merged), or
 * the metadata of every record matching `filter`.
 */
export interface UpdateOptions extends CallOptions {
  id?: string;
  values?: number[] | Float32Array;
  sparseValues?: SparseValues;
  /** Metadata fields to set (merged into the record's). */
  setMetadata?: RecordMetadata;
  /** Alias of `setMetadata`, as the official TypeScript client names it. */
  metadata?: RecordMetadata;
  /** Update the metadata of every record matching this filter (instead of `id`). */
  filter?: MetadataFilter;
  /** With `filter`: only count the matching records (`matchedRecords`), change nothing. */
  dryRun?: boolean;
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

/** Options of `createNamespace`. */
export interface CreateNamespaceOptions extends CallOptions {
  name: string;
  /** Which metadata fields are indexed for filtering (default: all). */
  schema?: MetadataSchema;
}

/** Options of `listNamespaces`. */
export interface ListNamespacesOptions extends CallOptions {
  prefix?: string;
  /** Namespaces per page, 1..1000 (server default 100). */
  limit?: number;
  paginationToken?: string;
}

/** Options of `startImport`. */
export interface StartImportOptions extends CallOptions {
  /** Where the files are: `s3://`, `gs://`, `https://*.blob.core.windows.net` (the emulator: `file://`). */
  uri: string;
  /** `continue` (default) skips bad records; `abort` stops the import at the first. */
  errorMode?: 'continue' | 'abort';
  /** The storage integration id, for private buckets. */
  integration?: string;
}

/** Options of `listImports` (the official positional `(limit, paginationToken)` works too). */
export interface ListImportsOptions extends CallOptions {
  /** Imports per page, 1..100 (server default 100). */
  limit?: number;
  paginationToken?: string;
}

/** Options of `upsertRecords` (indexes with integrated embedding). */
export interface UpsertRecordsOptions extends CallOptions {
  /** Records with `_id` (or `id`) and the fields the index embeds and stores. */
  records: IntegratedRecord[];
  namespace?: string;
  /** Ceiling on requests in flight when the records need several requests (default 4). */
  maxConcurrency?: number;
}

/** The query of `searchRecords`: one of `inputs` (text to embed), `vector` or `id`. */
export interface SearchRecordsQuery {
  topK: number;
  filter?: MetadataFilter;
  /** Text to embed with the index's model, e.g. `{ text: 'disease prevention' }`. */
  inputs?: Record<string, unknown>;
  vector?: { values?: number[]; sparseValues?: number[]; sparseIndices?: number[] };
  id?: string;
  matchTerms?: { strategy: string; terms: string[] };
}

/** Reranking of `searchRecords` results. */
export interface SearchRecordsRerank {
  model: string;
  rankFields: string[];
  topN?: number;
  parameters?: Record<string, unknown>;
  query?: string;
}

/** Options of `searchRecords`. */
export interface SearchRecordsOptions extends CallOptions {
  query: SearchRecordsQuery;
  /** Fields to return with each hit (default: all stored fields). */
  fields?: string[];
  rerank?: SearchRecordsRerank;
  namespace?: string;
}
