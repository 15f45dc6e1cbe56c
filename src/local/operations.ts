/**
 * The data-plane operations over one index, transport-agnostic: each takes the request in
 * Pinecone's REST JSON shape (camelCase; what protobuf's JSON mapping of the gRPC
 * messages also gives), validates it completely before writing anything, and returns
 * the response in the same shape, or throws an `EmulatorError`.
 */
import type { RecordMetadata } from '../data/types.js';
import { invalidArgument } from './errors.js';
import { compileFilter } from './filter.js';
import { cancelImport, describeImport, listImports, startImport } from './imports.js';
import { displayNamespace, type IndexStore } from './index-store.js';
import { createNamespace, deleteNamespace, describeNamespace, listNamespaces } from './namespaces.js';
import type { DataOperation } from './operation-names.js';
import { decodePageToken, encodePageToken, lowerBound } from './paging.js';
import { searchRecords, upsertRecords } from './records.js';
import type { NamespaceStore, StoredSparse } from './store.js';
import {
  assertSparseAllowed,
  isObject,
  type JsonObject,
  MAX_TOP_K_WITH_DATA,
  optionalBodyInteger,
  optionalBoolean,
  optionalInteger,
  optionalString,
  parseDense,
  parseId,
  parseIds,
  parseMetadata,
  parseSparse,
  parseUpsertVectors,
  requireObject,
} from './validate.js';
import {
  namespaceKey,
  type OperationContext,
  type OperationRequest,
  readUnits,
  single,
  type WireVector,
  wireSparse,
  wireValues,
  wireVector,
} from './wire.js';

export type { OperationContext, OperationRequest } from './wire.js';

/**
 * A response map keyed by ids or namespace names: no prototype, so an id or a namespace
 * named `__proto__` is an entry like any other (in a `{}` it would set the prototype).
 */
function byKey<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** `POST /vectors/upsert`. */
export function upsert(store: IndexStore, req: OperationRequest): { upsertedCount: number } {
  const body = requireObject(req.body);
  const key = namespaceKey(body.namespace);
  const records = parseUpsertVectors(body.vectors, store.shape);
  store.namespaceForWrite(key).upsert(records);
  return { upsertedCount: records.length };
}

/** `POST /query`: exact search by vector, sparse vector, both (hybrid) or a stored id. */
export function query(store: IndexStore, req: OperationRequest, ctx: OperationContext): JsonObject {
  const body = requireObject(req.body);
  const shape = store.shape;
  const topK = optionalBodyInteger(body.topK, 'topK', 1, 10_000);
  if (topK === undefined)
    throw invalidArgument('topK is required and must be an integer between 1 and 10000');
  const includeValues = optionalBoolean(body.includeValues, 'includeValues') ?? false;
  const includeMetadata = optionalBoolean(body.includeMetadata, 'includeMetadata') ?? false;
  if ((includeValues || includeMetadata) && topK > MAX_TOP_K_WITH_DATA) {
    throw invalidArgument(
      `topK must be at most ${MAX_TOP_K_WITH_DATA} when includeValues or includeMetadata is true (got ${topK})`,
    );
  }
  const key = namespaceKey(body.namespace);
  const hasVector = Array.isArray(body.vector) ? body.vector.length > 0 : body.vector != null;
  const hasSparse = body.sparseVector != null;
  const hasId = body.id != null && body.id !== '';
  if (hasId && (hasVector || hasSparse)) {
    throw invalidArgument('Provide either id or vector/sparseVector in a query, not both');
  }
  if (!hasId && !hasVector && !hasSparse) {
    throw invalidArgument('No query provided: one of vector, sparseVector or id is required');
  }
  let dense: Float32Array | undefined;
  let sparse: StoredSparse | undefined;
  if (hasVector) {
    if (shape.vectorType === 'sparse')
      throw invalidArgument('A sparse index must be queried with sparseVector');
    dense = Float32Array.from(parseDense(body.vector, shape, 'vector', 'Query vector'));
  }
  if (hasSparse) {
    assertSparseAllowed(shape);
    sparse = parseSparse(body.sparseVector, 'sparseVector');
  }
  const predicate = body.filter === undefined ? undefined : compileFilter(body.filter);
  const ns = store.namespace(key);
  const namespace = displayNamespace(key, ctx.apiVersion);
  if (hasId) {
    const id = parseId(body.id, 'id');
    const anchor = ns?.get(id);
    if (!anchor) return { matches: [], namespace, usage: readUnits(1) };
    if (shape.vectorType === 'sparse') sparse = anchor.sparse;
    else dense = anchor.values;
  }
  if (!ns) return { matches: [], namespace, usage: readUnits(1) };
  const selected = ns.search({ dense, sparse }, topK, shape.metric, predicate);
  const matches = selected.map(({ slot, score }) => {
    const r = ns.recordAt(slot);
    const m: JsonObject = { id: r.id, score, values: includeValues ? wireValues(r.values) : [] };
    if (includeValues && r.sparse) m.sparseValues = wireSparse(r.sparse);
    if (includeMetadata && r.metadata) m.metadata = r.metadata;
    return m;
  });
  return { matches, namespace, usage: readUnits(Math.ceil(ns.size / 1000)) };
}

/** `GET /vectors/fetch?ids=..&ids=..&namespace=..`. */
export function fetch(store: IndexStore, req: OperationRequest, ctx: OperationContext): JsonObject {
  const raw = req.query?.ids;
  const ids = parseIds(raw === undefined ? [] : Array.isArray(raw) ? raw : [raw], 'ids');
  if (ids.length === 0) throw invalidArgument('ids must contain at least one id');
  const key = namespaceKey(single(req.query?.namespace));
  const ns = store.namespace(key);
  const vectors = byKey<WireVector>();
  for (const id of ids) {
    const r = ns?.get(id);
    if (r) vectors[id] = wireVector(r);
  }
  return {
    vectors,
    namespace: displayNamespace(key, ctx.apiVersion),
    usage: readUnits(Object.keys(vectors).length),
  };
}

/** `POST /vectors/delete`: by ids, everything (`deleteAll`) or a filter. */
export function deleteVectors(store: IndexStore, req: OperationRequest): JsonObject {
  const body = requireObject(req.body);
  const key = namespaceKey(body.namespace);
  const ids = body.ids == null || (Array.isArray(body.ids) && body.ids.length === 0) ? undefined : body.ids;
  const deleteAll = optionalBoolean(body.deleteAll, 'deleteAll') ?? false;
  const hasFilter = body.filter != null;
  const selectors = (ids !== undefined ? 1 : 0) + (deleteAll ? 1 : 0) + (hasFilter ? 1 : 0);
  if (selectors !== 1) {
    throw invalidArgument('Exactly one of ids, deleteAll or filter must be provided to delete vectors');
  }
  if (deleteAll) {
    const ns = store.namespace(key);
    if (ns) ns.delete(ns.sortedIds().slice());
    store.dropIfEmpty(key);
    return {};
  }
  if (hasFilter) {
    if (!isObject(body.filter) || Object.keys(body.filter).length === 0) {
      throw invalidArgument('filter must be a non-empty JSON object');
    }
    const predicate = compileFilter(body.filter);
    const ns = store.namespace(key);
    if (ns) ns.delete(ns.scan(predicate));
    store.dropIfEmpty(key);
    return {};
  }
  const list = parseIds(ids, 'ids');
  store.namespace(key)?.delete(list);
  store.dropIfEmpty(key);
  return {};
}

/** `POST /vectors/update`: one record by id, or the metadata of every record matching a filter. */
export function update(store: IndexStore, req: OperationRequest): JsonObject {
  const body = requireObject(req.body);
  const shape = store.shape;
  const key = namespaceKey(body.namespace);
  const hasId = body.id != null;
  const hasFilter = body.filter != null;
  if (hasId === hasFilter)
    throw invalidArgument('Exactly one of id or filter must be provided to update vectors');
  const setMetadata = parseMetadata(body.setMetadata, 'setMetadata');
  if (hasFilter) {
    if (body.values != null || body.sparseValues != null) {
      throw invalidArgument(
        'An update by filter can only set metadata (setMetadata); values cannot be updated',
      );
    }
    if (!setMetadata) throw invalidArgument('An update by filter requires setMetadata');
    const predicate = compileFilter(body.filter);
    const dryRun = optionalBoolean(body.dryRun, 'dryRun') ?? false;
    const ns = store.namespace(key);
    const matched = ns ? ns.scan(predicate) : [];
    if (!dryRun && ns) {
      for (const id of matched)
        ns.update(id, { metadata: mergeMetadata(ns.metadataOf(id), setMetadata, 'setMetadata') });
    }
    return { matchedRecords: matched.length };
  }
  const id = parseId(body.id, 'id');
  const change: { values?: ArrayLike<number>; sparse?: StoredSparse; metadata?: RecordMetadata } = {};
  const hasValues = Array.isArray(body.values) ? body.values.length > 0 : body.values != null;
  if (hasValues) {
    if (shape.vectorType === 'sparse') throw invalidArgument('A sparse index does not accept dense values');
    change.values = parseDense(body.values, shape, 'values');
  }
  if (body.sparseValues != null) {
    assertSparseAllowed(shape);
    change.sparse = parseSparse(body.sparseValues, 'sparseValues');
  }
  const ns = store.namespace(key);
  if (!ns?.has(id)) return {};
  if (setMetadata) change.metadata = mergeMetadata(ns.metadataOf(id), setMetadata, 'setMetadata');
  ns.update(id, change);
  return {};
}

/** Merged metadata must itself stay within the 40 KB limit. */
function mergeMetadata(
  current: RecordMetadata | undefined,
  set: RecordMetadata,
  field: string,
): RecordMetadata {
  const merged = { ...current, ...set };
  return parseMetadata(merged, field) ?? {};
}

/** `POST /describe_index_stats` (and GET): counts per namespace, optionally of a filter's matches. */
export function describeIndexStats(
  store: IndexStore,
  req: OperationRequest,
  ctx: OperationContext,
): JsonObject {
  const body = requireObject(req.body);
  const predicate = body.filter == null ? undefined : compileFilter(body.filter);
  const namespaces = byKey<{ vectorCount: number }>();
  let total = 0;
  for (const [key, ns] of store.entries()) {
    const n = predicate ? ns.count(predicate) : ns.size;
    if (predicate && n === 0) continue;
    namespaces[displayNamespace(key, ctx.apiVersion)] = { vectorCount: n };
    total += n;
  }
  const out: JsonObject = {
    namespaces,
    indexFullness: 0,
    totalVectorCount: total,
    metric: store.shape.metric,
    vectorType: store.shape.vectorType,
  };
  if (store.shape.vectorType === 'dense') out.dimension = store.shape.dimension;
  return out;
}

/** `GET /vectors/list`: ids in ascending order, by prefix, paginated. */
export function list(store: IndexStore, req: OperationRequest, ctx: OperationContext): JsonObject {
  const q = req.query ?? {};
  const prefix = single(q.prefix) ?? '';
  const limit = optionalInteger(single(q.limit), 'limit', 1, 1000) ?? 100;
  const after = decodePageToken(single(q.paginationToken));
  const key = namespaceKey(single(q.namespace));
  const ns = store.namespace(key);
  const page = ns ? pageOfIds(ns, prefix, after, limit, () => true) : { ids: [], more: false };
  const out: JsonObject = {
    vectors: page.ids.map((id) => ({ id })),
    namespace: displayNamespace(key, ctx.apiVersion),
    usage: { readUnits: 1 },
  };
  if (page.more) out.pagination = { next: encodePageToken(page.ids[page.ids.length - 1]!) };
  return out;
}

function pageOfIds(
  ns: NamespaceStore,
  prefix: string,
  after: string | undefined,
  limit: number,
  accept: (id: string) => boolean,
): { ids: string[]; more: boolean } {
  const sorted = ns.sortedIds();
  let i =
    after === undefined || after < prefix ? lowerBound(sorted, prefix) : lowerBound(sorted, after, true);
  const ids: string[] = [];
  for (; i < sorted.length; i++) {
    const id = sorted[i]!;
    if (!id.startsWith(prefix)) break;
    if (!accept(id)) continue;
    if (ids.length === limit) return { ids, more: true };
    ids.push(id);
  }
  return { ids, more: false };
}

/** `POST /vectors/fetch_by_metadata`: records matching a filter, in id order, paginated. */
export function fetchByMetadata(store: IndexStore, req: OperationRequest, ctx: OperationContext): JsonObject {
  const body = requireObject(req.body);
  const predicate = compileFilter(body.filter);
  const limit = optionalBodyInteger(body.limit, 'limit', 1, 10_000) ?? 100;
  const after = decodePageToken(optionalString(body.paginationToken, 'paginationToken'));
  const key = namespaceKey(body.namespace);
  const ns = store.namespace(key);
  const vectors = byKey<WireVector>();
  let more = false;
  let last: string | undefined;
  if (ns) {
    const page = pageOfIds(ns, '', after, limit, (id) => predicate(ns.metadataOf(id)));
    for (const id of page.ids) vectors[id] = wireVector(ns.get(id)!);
    more = page.more;
    last = page.ids[page.ids.length - 1];
  }
  const out: JsonObject = {
    vectors,
    namespace: displayNamespace(key, ctx.apiVersion),
    usage: readUnits(Object.keys(vectors).length),
  };
  if (more && last !== undefined) out.pagination = { next: encodePageToken(last) };
  return out;
}

/** Run an operation by name (what the transports dispatch through). */
export function runOperation(
  operation: DataOperation,
  store: IndexStore,
  req: OperationRequest,
  ctx: OperationContext = {},
): JsonObject {
  switch (operation) {
    case 'upsert':
      return upsert(store, req);
    case 'query':
      return query(store, req, ctx);
    case 'fetch':
      return fetch(store, req, ctx);
    case 'delete':
      return deleteVectors(store, req);
    case 'update':
      return update(store, req);
    case 'describe_index_stats':
      return describeIndexStats(store, req, ctx);
    case 'list':
      return list(store, req, ctx);
    case 'fetch_by_metadata':
      return fetchByMetadata(store, req, ctx);
    case 'list_namespaces':
      return listNamespaces(store, req, ctx);
    case 'describe_namespace':
      return describeNamespace(store, req, ctx);
    case 'delete_namespace':
      return deleteNamespace(store, req);
    case 'create_namespace':
      return createNamespace(store, req, ctx);
    case 'start_import':
      return startImport(store, req);
    case 'list_imports':
      return listImports(store, req);
    case 'describe_import':
      return describeImport(store, req);
    case 'cancel_import':
      return cancelImport(store, req);
    case 'upsert_records':
      return upsertRecords(store, req);
    case 'search_records':
      return searchRecords(store, req);
  }
}
