/**
 * Shapes shared by the transport-agnostic operations: the request a transport hands
 * over, the per-request context, and the conversions from stored records to the wire's
 * JSON (camelCase) form. Stored float32 values go out as the shortest decimal that reads
 * back as the same float32 (`0.4`, not `0.4000000059604645`), as Pinecone writes them.
 */
import { shortestFloat32Array } from '../data/float32.js';
import type { RecordMetadata } from '../data/types.js';
import { canonicalNamespace } from './index-store.js';
import type { StoredRecord, StoredSparse } from './store.js';
import { optionalString, parseNamespaceName } from './validate.js';

/** Per-request context a transport passes along. */
export interface OperationContext {
  /** The request's `X-Pinecone-Api-Version` (decides how the default namespace is spelled). */
  apiVersion?: string | undefined;
}

/**
 * A request as a transport hands it over: `body` is the parsed JSON body (POST), `query`
 * the query-string parameters (GET; `ids` may repeat), `params` the path parameters.
 */
export interface OperationRequest {
  body?: unknown;
  query?: Record<string, string | string[] | undefined>;
  params?: Record<string, string>;
}

/** A JSON vector as the wire carries it. */
export interface WireVector {
  id: string;
  values: number[];
  sparseValues?: { indices: number[]; values: number[] };
  metadata?: RecordMetadata;
}

/** Stored float32 values as JSON numbers that print as Pinecone prints them (shortest). */
export function wireValues(values: Float32Array): number[] {
  return shortestFloat32Array(values);
}

/** Stored sparse values in wire form. */
export function wireSparse(s: StoredSparse): { indices: number[]; values: number[] } {
  return { indices: Array.from(s.indices), values: wireValues(s.values) };
}

/** A stored record in wire form (values as plain numbers). */
export function wireVector(r: StoredRecord): WireVector {
  const v: WireVector = { id: r.id, values: wireValues(r.values) };
  if (r.sparse) v.sparseValues = wireSparse(r.sparse);
  if (r.metadata) v.metadata = r.metadata;
  return v;
}

/**
 * The canonical namespace key of a request field (absent, `""` and `__default__` are
 * one); a name Pinecone would refuse is a 400.
 */
export function namespaceKey(value: unknown, field = 'namespace'): string {
  const name = optionalString(value, field);
  return canonicalNamespace(name === undefined ? undefined : parseNamespaceName(name, field));
}

/** The last value of a query-string parameter that may repeat. */
export function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** Read units, roughly as Pinecone meters them (they are informational here). */
export function readUnits(records: number): { readUnits: number } {
  return { readUnits: Math.max(1, Math.ceil(records / 10)) };
}
