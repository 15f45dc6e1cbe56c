/**
 * Request validation for the data plane, over the REST JSON shapes (camelCase). A gRPC
 * transport converts its messages to the same shapes (protobuf's JSON mapping is
 * camelCase too) and gets the same checks and messages. Every check throws a 400 /
 * INVALID_ARGUMENT {@link EmulatorError} before anything is written.
 */
import { LIMITS, type MetadataValue, type RecordMetadata } from '../data/types.js';
import { invalidArgument } from './errors.js';
import type { IndexShape } from './index-store.js';
import type { RecordInput, StoredSparse } from './store.js';

/** Pinecone's limit on non-zero entries of one sparse vector. */
export const MAX_SPARSE_VALUES = 2048;
/** Pinecone's limit on the length of a namespace name (characters, ASCII). */
export const MAX_NAMESPACE_LENGTH = 512;
/** The most results a query may ask for when it also asks for values or metadata. */
export const MAX_TOP_K_WITH_DATA = 1000;

/** Any JSON object. */
export type JsonObject = Record<string, unknown>;

/** Is the value a JSON object (not null, not an array)? */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The request body as an object (an absent body counts as `{}`). */
export function requireObject(body: unknown, what = 'request body'): JsonObject {
  if (body === undefined) return {};
  if (!isObject(body)) throw invalidArgument(`The ${what} must be a JSON object`);
  return body;
}

/** An optional string field. */
export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidArgument(`${field} must be a string`);
  return value;
}

/** An optional boolean field. */
export function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidArgument(`${field} must be a boolean`);
  return value;
}

/** An optional integer in [min, max]; query-string values arrive as text. */
export function optionalInteger(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw invalidArgument(`${field} must be an integer between ${min} and ${max}, got ${preview(value)}`);
  }
  return n;
}

/** An optional integer in [min, max] of a JSON body: a number, never text (`"10"` is refused, as Pinecone does). */
export function optionalBodyInteger(
  value: unknown,
  field: string,
  min: number,
  max: number,
): number | undefined {
  if (typeof value === 'string') {
    throw invalidArgument(
      `${field} must be an integer between ${min} and ${max}, got the string ${preview(value)}`,
    );
  }
  return optionalInteger(value, field, min, max);
}

/** At most 80 characters of a value as JSON, for messages (a request may hold megabytes). */
export function preview(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** ASCII: what Pinecone allows in a namespace name (NUL excepted, checked apart). */
const ASCII = /^\p{ASCII}*$/u;

/**
 * A namespace name as Pinecone takes it: ASCII, no NUL, at most 512 characters (the empty
 * string is the default namespace, where a request allows it).
 */
export function parseNamespaceName(name: string, field = 'namespace'): string {
  if (name.length > MAX_NAMESPACE_LENGTH || !ASCII.test(name) || name.includes('\0')) {
    throw invalidArgument(
      `Invalid ${field} ${preview(name)} (${name.length} characters): a namespace name must be ASCII, must not contain the NUL character, and must be 1-${MAX_NAMESPACE_LENGTH} characters long`,
    );
  }
  return name;
}

/** A record id: a non-empty string of at most 512 bytes. */
export function parseId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidArgument(`${field} must be a non-empty string`);
  }
  if (Buffer.byteLength(value) > LIMITS.maxIdBytes) {
    throw invalidArgument(`${field} is longer than the maximum of ${LIMITS.maxIdBytes} bytes`);
  }
  return value;
}

/** A list of ids (fetch, delete). */
export function parseIds(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw invalidArgument(`${field} must be an array of strings`);
  if (value.length > LIMITS.maxIdsPerFetchOrDelete) {
    throw invalidArgument(
      `${field} has ${value.length} ids, more than the maximum of ${LIMITS.maxIdsPerFetchOrDelete} per request`,
    );
  }
  return value.map((id, i) => parseId(id, `${field}[${i}]`));
}

/**
 * Is `v` a number that float32 storage keeps finite? (Past ±3.4028235e38 it would become
 * infinity, and every score computed with it `null` on the wire.)
 */
function isFloat32(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(Math.fround(v));
}

const FLOAT32_RANGE = 'a finite number within the float32 range (magnitude at most 3.4028235e38)';

/**
 * Dense values of the index's dimension, checked to be finite float32 numbers. Returned
 * as given (not copied): the store copies them into its `Float32Array` blocks once.
 */
export function parseDense(
  value: unknown,
  shape: IndexShape,
  field: string,
  what = 'Vector',
): ArrayLike<number> {
  if (!Array.isArray(value) && !(value instanceof Float32Array)) {
    throw invalidArgument(`${field} must be an array of numbers`);
  }
  if (value.length !== shape.dimension) {
    throw invalidArgument(
      `${what} dimension ${value.length} does not match the dimension of the index ${shape.dimension}`,
    );
  }
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (!isFloat32(v)) throw invalidArgument(`${field}[${i}] must be ${FLOAT32_RANGE}, got ${preview(v)}`);
  }
  return value;
}

/** Sparse values: same-length arrays, unsigned 32-bit unique indices, finite values. */
export function parseSparse(value: unknown, field: string): StoredSparse {
  if (!isObject(value) || !Array.isArray(value.indices) || !Array.isArray(value.values)) {
    throw invalidArgument(`${field} must be an object with arrays indices and values`);
  }
  const { indices, values } = value as { indices: unknown[]; values: unknown[] };
  if (indices.length !== values.length) {
    throw invalidArgument(
      `${field}: indices and values must have the same length (${indices.length} indices, ${values.length} values)`,
    );
  }
  if (indices.length === 0) throw invalidArgument(`${field} must contain at least one value`);
  if (indices.length > MAX_SPARSE_VALUES) {
    throw invalidArgument(
      `${field} has ${indices.length} non-zero values, more than the maximum of ${MAX_SPARSE_VALUES}`,
    );
  }
  const order = indices.map((_, i) => i);
  for (let i = 0; i < indices.length; i++) {
    const ix = indices[i];
    if (typeof ix !== 'number' || !Number.isInteger(ix) || ix < 0 || ix > 0xffffffff) {
      throw invalidArgument(`${field}.indices[${i}] must be an unsigned 32-bit integer`);
    }
    const v = values[i];
    if (!isFloat32(v))
      throw invalidArgument(`${field}.values[${i}] must be ${FLOAT32_RANGE}, got ${preview(v)}`);
  }
  order.sort((a, b) => (indices[a] as number) - (indices[b] as number));
  const out: StoredSparse = {
    indices: new Uint32Array(order.length),
    values: new Float32Array(order.length),
  };
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    out.indices[k] = indices[i] as number;
    out.values[k] = values[i] as number;
    if (k > 0 && out.indices[k] === out.indices[k - 1]) {
      throw invalidArgument(`${field}.indices contains the duplicate index ${out.indices[k]}`);
    }
  }
  return out;
}

function isMetadataValue(v: unknown): v is MetadataValue {
  if (typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Flat metadata of at most 40 KB: strings, numbers, booleans, lists of strings. */
export function parseMetadata(value: unknown, field: string): RecordMetadata | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalidArgument(`${field} must be a JSON object`);
  for (const [key, v] of Object.entries(value)) {
    if (!isMetadataValue(v)) {
      throw invalidArgument(
        `${field}.${key}: metadata values must be a string, a number, a boolean or a list of strings, got ${preview(v)}`,
      );
    }
  }
  const size = Buffer.byteLength(JSON.stringify(value));
  if (size > LIMITS.maxMetadataBytes) {
    throw invalidArgument(
      `${field} is ${size} bytes, more than the maximum metadata size of ${LIMITS.maxMetadataBytes} bytes per vector`,
    );
  }
  return value as RecordMetadata;
}

const SPARSE_UNSUPPORTED =
  'Index configuration does not support sparse values - only indexes that are sparse or using dotproduct are supported';

/** Check that an index accepts sparse values at all. */
export function assertSparseAllowed(shape: IndexShape): void {
  if (shape.vectorType !== 'sparse' && shape.metric !== 'dotproduct')
    throw invalidArgument(SPARSE_UNSUPPORTED);
}

/** One vector of an upsert, checked against the index's shape. */
export function parseVector(
  value: unknown,
  shape: IndexShape,
  field: string,
): RecordInput & { bytes: number } {
  if (!isObject(value)) throw invalidArgument(`${field} must be an object`);
  const id = parseId(value.id, `${field}.id`);
  let values: ArrayLike<number> = [];
  let sparse: StoredSparse | undefined;
  const hasValues = Array.isArray(value.values) ? value.values.length > 0 : value.values != null;
  if (value.sparseValues != null) {
    assertSparseAllowed(shape);
    sparse = parseSparse(value.sparseValues, `${field}.sparseValues`);
  }
  if (shape.vectorType === 'sparse') {
    if (hasValues) throw invalidArgument(`${field}: a sparse index does not accept dense values`);
    if (!sparse) throw invalidArgument(`${field}: a sparse index requires sparseValues`);
  } else {
    if (!hasValues) {
      throw invalidArgument(
        `Vector dimension 0 does not match the dimension of the index ${shape.dimension} (${field}.values is missing)`,
      );
    }
    values = parseDense(value.values, shape, `${field}.values`);
  }
  const metadata = parseMetadata(value.metadata, `${field}.metadata`);
  // Size as Pinecone counts it: the record's binary size (4 bytes per float), not its JSON.
  const bytes =
    Buffer.byteLength(id) +
    4 * values.length +
    (sparse ? 8 * sparse.indices.length : 0) +
    (metadata ? Buffer.byteLength(JSON.stringify(metadata)) : 0) +
    16;
  return { id, values, sparse, metadata, bytes };
}

/** The vectors of an upsert request: 1..1000 of them, at most 2 MB in total. */
export function parseUpsertVectors(vectors: unknown, shape: IndexShape): RecordInput[] {
  if (!Array.isArray(vectors) || vectors.length === 0) {
    throw invalidArgument('vectors must be a non-empty array of vectors');
  }
  if (vectors.length > LIMITS.maxVectorsPerUpsert) {
    throw invalidArgument(
      `Request contains ${vectors.length} vectors, more than the maximum of ${LIMITS.maxVectorsPerUpsert} vectors per upsert`,
    );
  }
  let bytes = 0;
  const out: RecordInput[] = new Array(vectors.length);
  for (let i = 0; i < vectors.length; i++) {
    const v = parseVector(vectors[i], shape, `vectors[${i}]`);
    bytes += v.bytes;
    out[i] = { id: v.id, values: v.values, sparse: v.sparse, metadata: v.metadata };
  }
  if (bytes > LIMITS.maxRequestBytes) {
    const mb = (bytes / (1024 * 1024)).toFixed(2);
    throw invalidArgument(`Request size ${mb}MB exceeds the maximum supported size of 2MB`);
  }
  return out;
}
