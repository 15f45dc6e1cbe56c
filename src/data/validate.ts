/**
 * Input checks run before anything goes on the wire. Each failure is a
 * {@link ValidationError} naming the field (e.g. `vectors[3].values[7]`) and the value.
 * Hand-written rather than schema-driven: these run on every vector of a bulk load, so
 * they are single loops with no allocation, and their messages are written for the user.
 */
import { describe } from '../config.js';
import { ValidationError } from '../errors.js';
import { LIMITS, type MetadataFilter, type RecordMetadata, type SparseValues, type Vector } from './types.js';

const encoder = new TextEncoder();

function fail(field: string, message: string): never {
  throw new ValidationError(`${field} ${message}`, field);
}

/** UTF-8 byte length without allocating for ASCII-only strings. */
export function utf8Length(text: string): number {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  return ascii ? text.length : encoder.encode(text).length;
}

/** A record id: a non-empty string of at most 512 bytes. */
export function validateId(id: unknown, field: string): asserts id is string {
  if (typeof id !== 'string') fail(field, `must be a string; got ${describe(id)}`);
  if (id.length === 0) fail(field, 'must be a non-empty string');
  const bytes = utf8Length(id);
  if (bytes > LIMITS.maxIdBytes)
    fail(field, `must be at most ${LIMITS.maxIdBytes} bytes; got ${bytes} bytes`);
}

/** Dense values: an array or Float32Array of finite numbers. */
export function validateValues(values: unknown, field: string): asserts values is number[] | Float32Array {
  if (!(Array.isArray(values) || values instanceof Float32Array)) {
    fail(field, `must be an array of numbers or a Float32Array; got ${describe(values)}`);
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      fail(`${field}[${i}]`, `must be a finite number; got ${describe(v)}`);
  }
}

/** Sparse values: parallel arrays, indices non-negative 32-bit integers, values finite. */
export function validateSparse(sparse: unknown, field: string): asserts sparse is SparseValues {
  if (!sparse || typeof sparse !== 'object')
    fail(field, `must be { indices, values }; got ${describe(sparse)}`);
  const { indices, values } = sparse as { indices?: unknown; values?: unknown };
  if (!Array.isArray(indices))
    fail(`${field}.indices`, `must be an array of integers; got ${describe(indices)}`);
  if (!Array.isArray(values)) fail(`${field}.values`, `must be an array of numbers; got ${describe(values)}`);
  if (indices.length !== values.length) {
    fail(
      field,
      `indices and values must have the same length; got ${indices.length} indices and ${values.length} values`,
    );
  }
  for (let i = 0; i < indices.length; i++) {
    const x = indices[i];
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) {
      fail(`${field}.indices[${i}]`, `must be an integer in 0..4294967295; got ${describe(x)}`);
    }
  }
  validateValues(values, `${field}.values`);
}

/** Metadata: a flat object of string / finite number / boolean / string[], at most 40 KB as JSON. */
export function validateMetadata(metadata: unknown, field: string): asserts metadata is RecordMetadata {
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) {
    fail(field, `must be a flat object; got ${describe(metadata)}`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    const f = `${field}.${key}`;
    if (typeof value === 'string' || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) fail(f, `must be a finite number; got ${describe(value)}`);
      continue;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (typeof value[i] !== 'string')
          fail(`${f}[${i}]`, `must be a string (lists hold strings only); got ${describe(value[i])}`);
      }
      continue;
    }
    fail(
      f,
      `must be a string, number, boolean or list of strings (metadata is flat); got ${describe(value)}`,
    );
  }
  const bytes = utf8Length(JSON.stringify(metadata));
  if (bytes > LIMITS.maxMetadataBytes) {
    fail(
      field,
      `is ${bytes} bytes as JSON; the limit is ${LIMITS.maxMetadataBytes} bytes (40 KB) per record`,
    );
  }
}

/** One record to upsert. */
export function validateVector(vector: unknown, field: string): asserts vector is Vector {
  if (!vector || typeof vector !== 'object')
    fail(field, `must be a record { id, values, ... }; got ${describe(vector)}`);
  const v = vector as Partial<Vector>;
  validateId(v.id, `${field}.id`);
  if (v.values === undefined && v.sparseValues === undefined)
    fail(`${field}.values`, 'is required (or give sparseValues)');
  if (v.values !== undefined) validateValues(v.values, `${field}.values`);
  if (v.sparseValues !== undefined && v.sparseValues !== null)
    validateSparse(v.sparseValues, `${field}.sparseValues`);
  if ((v.values === undefined || v.values.length === 0) && !v.sparseValues) {
    fail(`${field}.values`, 'is empty and there are no sparseValues; a record needs one or the other');
  }
  if (v.metadata !== undefined && v.metadata !== null) validateMetadata(v.metadata, `${field}.metadata`);
}

/** An integer in a range. */
export function validateIntRange(
  value: unknown,
  field: string,
  min: number,
  max: number,
): asserts value is number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    fail(field, `must be an integer in ${min}..${max}; got ${describe(value)}`);
  }
}

/** The operators Pinecone's filter language has for a field. */
export const FILTER_FIELD_OPERATORS: readonly string[] = [
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
];
const FIELD_OPERATORS = new Set(FILTER_FIELD_OPERATORS);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A metadata filter: a plain object whose operators are all Pinecone's (`$and` / `$or`
 * combining filters, `$eq $ne $gt $gte $lt $lte $in $nin $exists` on a field), so a
 * misspelt or foreign operator (`$eqq`, `$regex`) is named here instead of travelling to
 * the server. Operand types beyond that are the server's to judge.
 */
export function validateFilter(filter: unknown, field = 'filter'): asserts filter is MetadataFilter {
  if (!isPlainObject(filter)) {
    fail(field, `must be an object such as { genre: { $eq: 'drama' } }; got ${describe(filter)}`);
  }
  checkFilterObject(filter, field);
}

function checkFilterObject(filter: Record<string, unknown>, path: string): void {
  for (const [key, value] of Object.entries(filter)) {
    const at = `${path}.${key}`;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) fail(at, 'must be a non-empty array of filters');
      value.forEach((item, i) => {
        if (!isPlainObject(item)) fail(`${at}[${i}]`, `must be a filter object; got ${describe(item)}`);
        checkFilterObject(item, `${at}[${i}]`);
      });
    } else if (key.startsWith('$')) {
      fail(at, `uses ${key}, which is not a filter combinator; only $and and $or combine filters`);
    } else if (isPlainObject(value)) {
      for (const [op, operand] of Object.entries(value)) {
        if (!FIELD_OPERATORS.has(op)) {
          fail(
            `${at}.${op}`,
            `uses ${op}, which is not a Pinecone filter operator; use one of ${FILTER_FIELD_OPERATORS.join(' ')}`,
          );
        }
        if ((op === '$in' || op === '$nin') && !Array.isArray(operand)) {
          fail(`${at}.${op}`, `must be an array of values; got ${describe(operand)}`);
        }
      }
    }
  }
}

/** An `AbortSignal` when given (anything else would fail deep in the call as a TypeError). */
export function validateSignal(signal: unknown): asserts signal is AbortSignal | undefined {
  if (signal === undefined) return;
  const s = signal as Partial<AbortSignal> | null;
  const like =
    typeof s === 'object' &&
    s !== null &&
    typeof s.aborted === 'boolean' &&
    typeof s.addEventListener === 'function' &&
    typeof s.removeEventListener === 'function';
  if (!like)
    fail('signal', `must be an AbortSignal (e.g. AbortSignal.timeout(5000)); got ${describe(signal)}`);
}

/** A non-empty string (a name, an id, a URI). */
export function validateText(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    fail(field, `must be a non-empty string; got ${describe(value)}`);
  }
}

/** A list of ids for fetch/delete: non-empty, each a valid id. */
export function validateIds(ids: unknown, field = 'ids'): asserts ids is string[] {
  if (!Array.isArray(ids)) fail(field, `must be an array of ids; got ${describe(ids)}`);
  if (ids.length === 0) fail(field, 'must contain at least one id');
  for (let i = 0; i < ids.length; i++) validateId(ids[i], `${field}[${i}]`);
}

/** A namespace name when given. */
export function validateNamespace(namespace: unknown): asserts namespace is string | undefined {
  if (namespace !== undefined && typeof namespace !== 'string') {
    fail('namespace', `must be a string; got ${describe(namespace)}`);
  }
}

/** The per-request limits of one upsert body, checked on the encoded request. */
export function validateUpsertRequest(count: number, bytes: number): void {
  if (count > LIMITS.maxVectorsPerUpsert) {
    fail('vectors', `holds ${count} records; one upsert request takes at most ${LIMITS.maxVectorsPerUpsert}`);
  }
  if (bytes > LIMITS.maxRequestBytes) {
    fail(
      'vectors',
      `encode to ${bytes} bytes; one upsert request takes at most ${LIMITS.maxRequestBytes} bytes (2 MB)`,
    );
  }
}
