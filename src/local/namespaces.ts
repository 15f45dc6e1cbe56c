/**
 * The namespace operations (`/namespaces`), transport-agnostic like `operations.ts`.
 * Namespace responses are snake_case and `record_count` is a string (a 64-bit integer
 * in the proto), as Pinecone sends them.
 */
import { alreadyExists, invalidArgument, notFound } from './errors.js';
import { canonicalNamespace, displayNamespace, type IndexStore } from './index-store.js';
import { decodePageToken, encodePageToken } from './paging.js';
import {
  type JsonObject,
  optionalInteger,
  optionalString,
  parseNamespaceName,
  requireObject,
} from './validate.js';
import { type OperationContext, type OperationRequest, single } from './wire.js';

function namespaceParam(req: OperationRequest): string {
  const name = req.params?.namespace;
  if (name === undefined || name === '') throw invalidArgument('A namespace name is required');
  return canonicalNamespace(parseNamespaceName(name));
}

/** `GET /namespaces?prefix=&limit=&paginationToken=`: namespaces in name order. */
export function listNamespaces(store: IndexStore, req: OperationRequest, ctx: OperationContext): JsonObject {
  const q = req.query ?? {};
  const prefix = single(q.prefix) ?? '';
  const limit = optionalInteger(single(q.limit), 'limit', 1, 1000) ?? 100;
  const after = decodePageToken(single(q.paginationToken));
  const all = [...store.entries()]
    .map(([key, ns]) => ({ name: displayNamespace(key, ctx.apiVersion), count: ns.size }))
    .filter((n) => n.name.startsWith(prefix))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const start = after === undefined ? 0 : all.findIndex((n) => n.name > after);
  const rest = start < 0 ? [] : all.slice(start);
  const page = rest.slice(0, limit);
  const out: JsonObject = {
    namespaces: page.map((n) => ({ name: n.name, record_count: String(n.count) })),
    total_count: all.length,
  };
  if (rest.length > limit) out.pagination = { next: encodePageToken(page[page.length - 1]!.name) };
  return out;
}

/** `GET /namespaces/{namespace}`. */
export function describeNamespace(
  store: IndexStore,
  req: OperationRequest,
  ctx: OperationContext,
): JsonObject {
  const key = namespaceParam(req);
  const ns = store.namespace(key);
  if (!ns) throw notFound(`Namespace ${req.params?.namespace} not found`);
  return { name: displayNamespace(key, ctx.apiVersion), record_count: String(ns.size) };
}

/** `DELETE /namespaces/{namespace}`: the namespace and all its records. */
export function deleteNamespace(store: IndexStore, req: OperationRequest): JsonObject {
  const key = namespaceParam(req);
  if (!store.deleteNamespace(key)) throw notFound(`Namespace ${req.params?.namespace} not found`);
  return {};
}

/** `POST /namespaces` with `{ name, schema? }`: an empty namespace (409 when it exists). */
export function createNamespace(store: IndexStore, req: OperationRequest, ctx: OperationContext): JsonObject {
  const body = requireObject(req.body);
  const name = optionalString(body.name, 'name');
  if (!name) throw invalidArgument('name is required to create a namespace');
  const key = canonicalNamespace(parseNamespaceName(name, 'name'));
  if (!store.createNamespace(key)) throw alreadyExists(`Namespace ${name} already exists`);
  const out: JsonObject = { name: displayNamespace(key, ctx.apiVersion), record_count: '0' };
  if (body.schema !== undefined) out.schema = body.schema;
  return out;
}
