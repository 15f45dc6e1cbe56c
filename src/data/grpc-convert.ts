/**
 * Between the SDK's shapes (the REST wire's camelCase, shared by `Index` and `GrpcIndex`)
 * and the generated protobuf messages, for the gRPC wire adapter (`grpc-wire.ts`). Requests are built with the generated schemas'
 * `create`, so encoding stays protobuf-es's; nothing here writes bytes.
 *
 * Dense values go into the message as given: a `Float32Array` is iterated by the packed
 * float writer directly, with no copy into a plain array.
 */
import { create, type JsonObject, type MessageInitShape } from '@bufbuild/protobuf';
import {
  type DeleteRequestSchema,
  type DescribeIndexStatsResponse,
  type ListRequestSchema,
  type FetchByMetadataResponse as PbFetchByMetadataResponse,
  type FetchResponse as PbFetchResponse,
  type ListNamespacesResponse as PbListNamespacesResponse,
  type ListResponse as PbListResponse,
  type NamespaceDescription as PbNamespaceDescription,
  type QueryResponse as PbQueryResponse,
  type ScoredVector as PbScoredVector,
  type SparseValues as PbSparseValues,
  type Usage as PbUsage,
  type Vector as PbVector,
  type QueryRequestSchema,
  SparseValuesSchema,
  type UpdateRequestSchema,
  VectorSchema,
} from '../gen/db_data_pb.js';
import type { ListOptions, QueryOptions, UpdateOptions } from './options.js';
import type {
  FetchByMetadataResponse,
  FetchResponse,
  IndexStats,
  ListNamespacesResponse,
  ListResponse,
  MetadataFilter,
  NamespaceDescription,
  QueryResponse,
  RecordMetadata,
  ScoredVector,
  SparseValues,
  Usage,
  Vector,
} from './types.js';
import type { DeleteSelector } from './wire.js';

/** protobuf-es types `repeated float` as `number[]`; a Float32Array reads the same way (by index). */
function floats(values: number[] | Float32Array): number[] {
  return values as unknown as number[];
}

/** Sparse values as a message. */
export function toPbSparse(sparse: SparseValues): PbSparseValues {
  return create(SparseValuesSchema, { indices: sparse.indices, values: sparse.values });
}

/** A record as a message (values not copied). */
export function toPbVector(v: Vector): PbVector {
  return create(VectorSchema, {
    id: v.id,
    values: floats(v.values),
    metadata: (v.metadata ?? undefined) as JsonObject | undefined,
    sparseValues: v.sparseValues ? toPbSparse(v.sparseValues) : undefined,
  });
}

/**
 * A filter as a `google.protobuf.Struct`. JSON drops `undefined` members exactly as the REST
 * path does; Struct conversion would reject them instead.
 */
export function toPbFilter(filter: MetadataFilter | undefined): JsonObject | undefined {
  return filter === undefined ? undefined : (JSON.parse(JSON.stringify(filter)) as JsonObject);
}

/** Dense values given as a query vector or an update (a Float32Array is not copied). */
export function toPbValues(values: number[] | Float32Array | undefined): number[] {
  return values === undefined ? [] : floats(values);
}

/** A `QueryRequest` from validated options (`namespace` already defaulted). */
export function queryRequest(
  o: QueryOptions,
  namespace: string | undefined,
): MessageInitShape<typeof QueryRequestSchema> {
  return {
    topK: o.topK,
    vector: toPbValues(o.vector),
    sparseVector: o.sparseVector ? toPbSparse(o.sparseVector) : undefined,
    id: o.id ?? '',
    namespace: namespace ?? '',
    filter: toPbFilter(o.filter),
    includeValues: o.includeValues === true,
    includeMetadata: o.includeMetadata === true,
  };
}

/** A `DeleteRequest` from a checked selector. */
export function deleteRequest(
  o: DeleteSelector,
  namespace: string | undefined,
): MessageInitShape<typeof DeleteRequestSchema> {
  return {
    ids: o.ids ?? [],
    deleteAll: o.deleteAll === true,
    filter: toPbFilter(o.filter),
    namespace: namespace ?? '',
  };
}

/** An `UpdateRequest` from validated options. */
export function updateRequest(
  o: UpdateOptions,
  namespace: string | undefined,
): MessageInitShape<typeof UpdateRequestSchema> {
  return {
    id: o.id ?? '',
    values: toPbValues(o.values),
    sparseValues: o.sparseValues ? toPbSparse(o.sparseValues) : undefined,
    setMetadata: toPbFilter(o.setMetadata ?? o.metadata),
    filter: toPbFilter(o.filter),
    dryRun: o.dryRun,
    namespace: namespace ?? '',
  };
}

/** A `ListRequest` from validated options (an empty pagination token means the first page). */
export function listRequest(
  o: ListOptions,
  namespace: string | undefined,
): MessageInitShape<typeof ListRequestSchema> {
  return {
    prefix: o.prefix,
    limit: o.limit,
    paginationToken: o.paginationToken || undefined,
    namespace: namespace ?? '',
  };
}

function fromPbSparse(sparse: PbSparseValues | undefined): SparseValues | undefined {
  return sparse ? { indices: sparse.indices, values: sparse.values } : undefined;
}

function fromPbUsage(usage: PbUsage | undefined): Usage | undefined {
  if (!usage) return undefined;
  return usage.readUnits === undefined ? {} : { readUnits: usage.readUnits };
}

/** A stored record from a message. */
export function fromPbVector(v: PbVector): Vector {
  const out: Vector = { id: v.id, values: v.values };
  const sparse = fromPbSparse(v.sparseValues);
  if (sparse) out.sparseValues = sparse;
  if (v.metadata) out.metadata = v.metadata as RecordMetadata;
  return out;
}

/** A match. Like the REST wire, `values` is always there (empty unless the query asked for them). */
function fromPbScored(m: PbScoredVector): ScoredVector {
  const out: ScoredVector = { id: m.id, score: m.score, values: m.values };
  const sparse = fromPbSparse(m.sparseValues);
  if (sparse) out.sparseValues = sparse;
  if (m.metadata) out.metadata = m.metadata as RecordMetadata;
  return out;
}

/** `query`'s result. */
export function fromPbQuery(res: PbQueryResponse): QueryResponse {
  const out: QueryResponse = {
    matches: res.matches.map(fromPbScored),
    namespace: res.namespace,
  };
  const usage = fromPbUsage(res.usage);
  if (usage) out.usage = usage;
  return out;
}

/** `fetch`'s result (`records` and `vectors` are one object). */
export function fromPbFetch(res: PbFetchResponse | PbFetchByMetadataResponse): FetchResponse {
  const records: Record<string, Vector> = {};
  for (const [id, v] of Object.entries(res.vectors)) records[id] = fromPbVector(v);
  const out: FetchResponse = { records, vectors: records, namespace: res.namespace };
  const usage = fromPbUsage(res.usage);
  if (usage) out.usage = usage;
  return out;
}

/** `fetchByMetadata`'s result (an empty `next` means the last page). */
export function fromPbFetchByMetadata(res: PbFetchByMetadataResponse): FetchByMetadataResponse {
  const out: FetchByMetadataResponse = fromPbFetch(res);
  if (res.pagination?.next) out.pagination = { next: res.pagination.next };
  return out;
}

/** A namespace description (`recordCount`, a uint64 on the wire, as a decimal string). */
export function fromPbNamespace(res: PbNamespaceDescription): NamespaceDescription {
  const out: NamespaceDescription = { name: res.name, recordCount: String(res.recordCount) };
  if (res.schema) {
    const fields: Record<string, { filterable: boolean }> = {};
    for (const [name, f] of Object.entries(res.schema.fields)) fields[name] = { filterable: f.filterable };
    out.schema = { fields };
  }
  if (res.indexedFields) out.indexedFields = { fields: [...res.indexedFields.fields] };
  return out;
}

/** `listNamespaces`' result. */
export function fromPbListNamespaces(res: PbListNamespacesResponse): ListNamespacesResponse {
  const out: ListNamespacesResponse = {
    namespaces: res.namespaces.map(fromPbNamespace),
    totalCount: res.totalCount,
  };
  if (res.pagination?.next) out.pagination = { next: res.pagination.next };
  return out;
}

/** `describeIndexStats`'s result. */
export function fromPbStats(res: DescribeIndexStatsResponse): IndexStats {
  const namespaces: IndexStats['namespaces'] = {};
  for (const [name, summary] of Object.entries(res.namespaces)) {
    namespaces[name] = { vectorCount: summary.vectorCount };
  }
  const out: IndexStats = {
    namespaces,
    indexFullness: res.indexFullness,
    totalVectorCount: res.totalVectorCount,
  };
  if (res.dimension !== undefined) out.dimension = res.dimension;
  if (res.metric !== undefined) out.metric = res.metric;
  if (res.vectorType !== undefined) out.vectorType = res.vectorType;
  return out;
}

/** `listPaginated`'s result (an empty `next` means the last page). */
export function fromPbList(res: PbListResponse): ListResponse {
  const out: ListResponse = { vectors: res.vectors.map((v) => ({ id: v.id })), namespace: res.namespace };
  if (res.pagination?.next) out.pagination = { next: res.pagination.next };
  const usage = fromPbUsage(res.usage);
  if (usage) out.usage = usage;
  return out;
}

/** Bytes of a length-delimited field's tag and length prefix, at most (tag ≤ 15, length < 2^28). */
const FIELD_OVERHEAD = 5;

function utf8(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** An upper bound on a metadata value's bytes as a `google.protobuf.Value` inside its field. */
function metadataValueBytes(value: unknown): number {
  if (typeof value === 'string') return FIELD_OVERHEAD * 2 + utf8(value);
  if (typeof value === 'number') return FIELD_OVERHEAD + 9;
  if (typeof value === 'boolean') return FIELD_OVERHEAD + 2;
  if (Array.isArray(value)) {
    let n = FIELD_OVERHEAD * 2;
    for (const item of value) n += metadataValueBytes(item);
    return n;
  }
  return FIELD_OVERHEAD;
}

/**
 * An upper bound on the bytes a record adds to an `UpsertRequest` (the bulk engine cuts
 * batches by it): 4 bytes per dense value, 9 per sparse pair, the metadata Struct's
 * entries with every length prefix at its longest. Never an underestimate; computed
 * without encoding anything.
 */
export function estimateVectorProtoBytes(v: Vector): number {
  let n = FIELD_OVERHEAD + FIELD_OVERHEAD + utf8(v.id);
  if (v.values.length > 0) n += FIELD_OVERHEAD + 4 * v.values.length;
  if (v.sparseValues) n += FIELD_OVERHEAD * 3 + 9 * v.sparseValues.indices.length;
  if (v.metadata) {
    n += FIELD_OVERHEAD;
    for (const [key, value] of Object.entries(v.metadata)) {
      n += FIELD_OVERHEAD * 2 + utf8(key) + metadataValueBytes(value);
    }
  }
  return n;
}
