/**
 * JSON encoding of records for the REST wire. Each record is encoded once: the same text
 * gives the request-size estimate that batching needs and becomes part of the body.
 */
import type { Vector } from './types.js';

/** One record as JSON (Float32Array values become a plain array; absent fields omitted). */
export function encodeVector(v: Vector): string {
  return JSON.stringify({
    id: v.id,
    values: v.values instanceof Float32Array ? Array.from(v.values) : v.values,
    sparseValues: v.sparseValues ?? undefined,
    metadata: v.metadata ?? undefined,
  });
}

/** An upsert body from records already encoded by {@link encodeVector}. */
export function upsertBody(encoded: readonly string[], namespace: string | undefined): string {
  const ns = namespace === undefined ? '' : `,"namespace":${JSON.stringify(namespace)}`;
  return `{"vectors":[${encoded.join(',')}]${ns}}`;
}

/** Bytes an encoded record adds to a body (its text plus a separating comma). ASCII-exact. */
export function encodedSize(encoded: string): number {
  return Buffer.byteLength(encoded, 'utf8') + 1;
}
