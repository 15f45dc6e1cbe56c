/**
 * One input record (a parsed JSON object) checked and turned into a {@link Vector}, with
 * messages that say what is wrong in the file's terms. The CLI checks every record as it
 * reads it, so a bad line is reported by its line number, not as `vectors[37]` of some
 * batch after half the file has been sent.
 */
import type { Vector } from '../data/types.js';
import { validateVector } from '../data/validate.js';
import { ValidationError } from '../errors.js';

const FIELDS = new Set(['id', 'values', 'sparseValues', 'sparse_values', 'metadata']);

/**
 * A parsed record as a Vector, or a message saying why it is not one. `dimension`, when
 * known, is the length every dense `values` must have.
 */
export function toVector(
  parsed: unknown,
  dimension: number | undefined,
): { vector: Vector; error?: undefined } | { vector?: undefined; error: string } {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { error: `expected an object {"id": ..., "values": [...]}; got ${kind(parsed)}` };
  }
  const obj = parsed as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!FIELDS.has(key)) {
      return { error: `unknown field "${key}" (a record has id, values, sparseValues and metadata)` };
    }
  }
  if (typeof obj.id !== 'string') {
    return { error: `"id" must be a string; got ${kind(obj.id)}` };
  }
  const vector: Vector = { id: obj.id, values: (obj.values ?? []) as number[] };
  const sparse = obj.sparseValues ?? obj.sparse_values;
  if (sparse !== undefined && sparse !== null) vector.sparseValues = sparse as Vector['sparseValues'];
  if (obj.metadata !== undefined && obj.metadata !== null)
    vector.metadata = obj.metadata as Vector['metadata'];
  try {
    validateVector(vector, 'record');
  } catch (error) {
    if (error instanceof ValidationError)
      return { error: error.message.replace(/^record\.?/, '') || 'invalid' };
    throw error;
  }
  if (dimension !== undefined && vector.values.length > 0 && vector.values.length !== dimension) {
    return {
      error: `"values" has ${vector.values.length} numbers; expected ${dimension} (the dimension of the index)`,
    };
  }
  return { vector };
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  return `a ${typeof value}`;
}
