/**
 * The interface between the data-plane core and a wire adapter (REST or gRPC). The core
 * validates, picks the namespace, batches, fans out and merges, and runs every attempt
 * through the retry loop and the host's limiter; an adapter only turns a checked request
 * into a {@link Send} (encoding it once) and a response into the SDK's shape. Adding an
 * operation means one core method and one method here per adapter: nothing else.
 */
import type { RetryPolicy } from '../resilience/retry.js';
import type {
  CreateNamespaceOptions,
  FetchByMetadataOptions,
  ListNamespacesOptions,
  ListOptions,
  QueryOptions,
  SearchRecordsOptions,
  StartImportOptions,
  UpdateOptions,
} from './options.js';
import type {
  FetchByMetadataResponse,
  FetchResponse,
  ImportModel,
  IndexStats,
  IntegratedRecord,
  ListImportsResponse,
  ListNamespacesResponse,
  ListResponse,
  MetadataFilter,
  NamespaceDescription,
  QueryResponse,
  SearchRecordsResponse,
  StartImportResponse,
  UpdateResponse,
  Vector,
} from './types.js';

/** One attempt of a request: its 1-based number, its deadline (seconds), the call's signal. */
export interface AttemptSpec {
  attempt: number;
  timeout: number;
  signal?: AbortSignal | undefined;
}

/** One request, encoded once: each call sends one attempt of it and decodes the answer. */
export type Send<T> = (attempt: AttemptSpec) => Promise<T>;

/** How one wire sizes records for a bulk upsert and writes a batch. */
export interface UpsertEncoder {
  /** Byte budget of one request's records on this wire. */
  readonly maxBatchBytes: number;
  /** Bytes a record adds to a request (may cache the record's encoding for {@link batch}). */
  sizeOf(v: Vector): number;
  /** One batch of checked, sized records, encoded once for all its attempts. */
  batch(vectors: readonly Vector[]): UpsertBatch;
}

/** One upsert request: its attempts, and the end of its life. */
export interface UpsertBatch {
  /** One attempt; resolves to the server's upsertedCount. */
  send: Send<number>;
  /**
   * No attempt will run again (the last one has settled): the encoder may reuse the
   * request's memory. Called exactly once.
   */
  release(): void;
}

/** The selector of one delete request (exactly one set). */
export interface DeleteSelector {
  ids?: string[] | undefined;
  deleteAll?: boolean | undefined;
  filter?: MetadataFilter | undefined;
}

/**
 * A wire adapter. `namespace` arguments are already resolved (the call's, else the
 * handle's; `undefined` means the server's default namespace).
 */
export interface DataWire {
  /** `host[:port]`: the limiter's key and the logs' `host=`. */
  readonly host: string;
  /** How attempts on this wire are retried and classified. */
  readonly policy: RetryPolicy;
  upsert(namespace: string | undefined): UpsertEncoder;
  query(options: QueryOptions, namespace: string | undefined): Send<QueryResponse>;
  fetch(ids: string[], namespace: string | undefined): Send<FetchResponse>;
  fetchByMetadata(
    options: FetchByMetadataOptions,
    namespace: string | undefined,
  ): Send<FetchByMetadataResponse>;
  delete(selector: DeleteSelector, namespace: string | undefined): Send<void>;
  update(options: UpdateOptions, namespace: string | undefined): Send<UpdateResponse>;
  describeIndexStats(filter: MetadataFilter | undefined): Send<IndexStats>;
  listPaginated(options: ListOptions, namespace: string | undefined): Send<ListResponse>;
  createNamespace(options: CreateNamespaceOptions): Send<NamespaceDescription>;
  listNamespaces(options: ListNamespacesOptions): Send<ListNamespacesResponse>;
  describeNamespace(name: string): Send<NamespaceDescription>;
  deleteNamespace(name: string): Send<void>;
  startImport(options: StartImportOptions): Send<StartImportResponse>;
  listImports(limit: number | undefined, paginationToken: string | undefined): Send<ListImportsResponse>;
  describeImport(id: string): Send<ImportModel>;
  cancelImport(id: string): Send<object>;
  /** `namespace` is the name in the path: `__default__` for the default namespace. */
  upsertRecords(records: readonly IntegratedRecord[], namespace: string): Send<void>;
  searchRecords(options: SearchRecordsOptions, namespace: string): Send<SearchRecordsResponse>;
}
