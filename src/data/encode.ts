/**
 * JSON encoding of records for the REST wire. Each record is encoded once, straight to
 * UTF-8 bytes: their length is the exact request-size figure batching needs, and the
 * same bytes are concatenated into the body. (Measured on 100 × 1536-dim records: about
 * 25 % less CPU than encoding strings, measuring them and joining them; see docs/grpc.md.)
 */
import type { Vector } from './types.js';

const OPEN = Buffer.from('{"vectors":[');
const COMMA = Buffer.from(',');

/** Dense values as JSON encodes them: a Float32Array becomes a plain array (JSON would make it an object). */
export function jsonValues(values: number[] | Float32Array): number[] {
  return values instanceof Float32Array ? Array.from(values) : values;
}

/** One record as JSON text (absent fields omitted): the wire's shape, also the CLI's resume-file line. */
export function vectorJson(v: Vector): string {
  return JSON.stringify({
    id: v.id,
    values: jsonValues(v.values),
    sparseValues: v.sparseValues ?? undefined,
    metadata: v.metadata ?? undefined,
  });
}

/** One record as UTF-8 JSON bytes, ready to concatenate into an upsert body. */
export function encodeVector(v: Vector): Buffer {
  return Buffer.from(vectorJson(v), 'utf8');
}

/** An upsert body from records already encoded by {@link encodeVector}. */
export function upsertBody(encoded: readonly Buffer[], namespace: string | undefined): Buffer {
  const parts: Buffer[] = [OPEN];
  for (let i = 0; i < encoded.length; i++) {
    if (i > 0) parts.push(COMMA);
    parts.push(encoded[i] as Buffer);
  }
  const ns = namespace === undefined ? '' : `,"namespace":${JSON.stringify(namespace)}`;
  parts.push(Buffer.from(`]${ns}}`, 'utf8'));
  return Buffer.concat(parts);
}

/** Bytes an encoded record adds to a body: its own plus a separating comma. */
export function encodedSize(encoded: Buffer): number {
  return encoded.length + 1;
}
