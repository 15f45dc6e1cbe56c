/**
 * The data plane of one index, as both `Index` (REST) and `GrpcIndex` offer it: one
 * interface, implemented once by the core (`core.ts`) both classes extend. Code that
 * should work over either transport takes an {@link IndexDataPlane}.
 */
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
import type {
  FetchByMetadataResponse,
  FetchResponse,
  ImportModel,
  IndexStats,
  ListImportsResponse,
  ListNamespacesResponse,
  ListResponse,
  NamespaceDescription,
  QueryResponse,
  SearchRecordsResponse,
  StartImportResponse,
  UpdateResponse,
  UpsertResponse,
} from './types.js';

/** Every data-plane method of an index handle, whatever the transport. */
export interface IndexDataPlane {
  /** The namespace calls use when they give none (`undefined`: the server's default). */
  readonly defaultNamespace: string | undefined;
  /** A handle on the same index whose calls default to `namespace`. */
  namespace(namespace: string): IndexDataPlane;
  upsert(options: UpsertOptions): Promise<UpsertResponse>;
  query(options: QueryOptions): Promise<QueryResponse>;
  fetch(options: FetchOptions): Promise<FetchResponse>;
  fetchByMetadata(options: FetchByMetadataOptions): Promise<FetchByMetadataResponse>;
  delete(options: DeleteOptions): Promise<void>;
  deleteOne(options: DeleteOneOptions): Promise<void>;
  deleteMany(options: DeleteManyOptions): Promise<void>;
  deleteAll(options?: DeleteAllOptions): Promise<void>;
  update(options: UpdateOptions): Promise<UpdateResponse>;
  describeIndexStats(options?: DescribeIndexStatsOptions): Promise<IndexStats>;
  listPaginated(options?: ListOptions): Promise<ListResponse>;
  list(options?: Omit<ListOptions, 'paginationToken'>): AsyncGenerator<string, void, undefined>;
  createNamespace(options: CreateNamespaceOptions): Promise<NamespaceDescription>;
  listNamespaces(options?: ListNamespacesOptions): Promise<ListNamespacesResponse>;
  describeNamespace(namespace: string, options?: CallOptions): Promise<NamespaceDescription>;
  deleteNamespace(namespace: string, options?: CallOptions): Promise<void>;
  startImport(options: StartImportOptions): Promise<StartImportResponse>;
  listImports(
    limit?: number | ListImportsOptions,
    paginationToken?: string,
    options?: CallOptions,
  ): Promise<ListImportsResponse>;
  describeImport(id: string, options?: CallOptions): Promise<ImportModel>;
  cancelImport(id: string, options?: CallOptions): Promise<object>;
  upsertRecords(options: UpsertRecordsOptions): Promise<void>;
  searchRecords(options: SearchRecordsOptions): Promise<SearchRecordsResponse>;
}
