/**
 * Pinecone's metadata filter language, compiled once per request into a predicate.
 *
 * Semantics (as Pinecone documents them): `{ field: value }` is `{ field: { $eq: value } }`;
 * several keys in one object are an implicit `$and`; `$and` / `$or` take non-empty arrays
 * of filters; on a list-of-strings field `$eq` / `$in` match when any element matches and
 * `$ne` / `$nin` when no element does; a missing field never matches `$eq $gt $gte $lt
 * $lte $in` and always matches `$ne $nin` (and `$exists: false`). Comparisons never coerce
 * types: `1` does not equal `"1"`, `$gt` only compares numbers. A field is a record's OWN
 * metadata field: `toString` or `__proto__` name a field like any other, never a member
 * of `Object.prototype`. A filter nests at most `MAX_NESTING_DEPTH` levels.
 */
import type { MetadataValue, RecordMetadata } from '../data/types.js';
import { invalidArgument } from './errors.js';
import { MAX_NESTING_DEPTH, nestedDeeperThan, tooDeep } from './json-depth.js';

/** A compiled filter: does a record with this metadata match? */
export type FilterPredicate = (metadata: RecordMetadata | undefined) => boolean;

/** The most values Pinecone accepts in one `$in` / `$nin`. */
export const MAX_IN_VALUES = 10_000;

const FIELD_OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists']);

type Scalar = string | number | boolean;

const matchAll: FilterPredicate = () => true;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A record's own metadata field (undefined when it has none of that name). */
function fieldOf(metadata: RecordMetadata | undefined, field: string): MetadataValue | undefined {
  return metadata !== undefined && Object.hasOwn(metadata, field) ? metadata[field] : undefined;
}

/**
 * Compile a filter. `undefined`, `null` and `{}` match everything. Throws an
 * `EmulatorError` (400 / INVALID_ARGUMENT) naming the offending operator or field.
 */
export function compileFilter(filter: unknown): FilterPredicate {
  if (filter === undefined || filter === null) return matchAll;
  if (!isPlainObject(filter)) {
    throw invalidArgument(`Invalid filter: the filter must be a JSON object, got ${describe(filter)}`);
  }
  // Before anything recursive (compiling, describing an operand) touches it.
  if (nestedDeeperThan(filter, MAX_NESTING_DEPTH)) throw tooDeep('filter');
  return compileObject(filter, 'filter');
}

function compileObject(filter: Record<string, unknown>, path: string): FilterPredicate {
  const parts: FilterPredicate[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') parts.push(compileLogical(key, value, `${path}.${key}`));
    else if (key.startsWith('$')) {
      throw invalidArgument(
        `Invalid filter: unknown top-level operator ${key} at ${path}; only $and and $or combine filters`,
      );
    } else parts.push(compileField(key, value));
  }
  return all(parts);
}

function compileLogical(op: '$and' | '$or', value: unknown, path: string): FilterPredicate {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidArgument(`Invalid filter: ${op} at ${path} must be a non-empty array of filters`);
  }
  const parts = value.map((item, i) => {
    if (!isPlainObject(item)) {
      throw invalidArgument(
        `Invalid filter: ${op} at ${path}[${i}] must contain objects, got ${describe(item)}`,
      );
    }
    return compileObject(item, `${path}[${i}]`);
  });
  return op === '$and' ? all(parts) : any(parts);
}

function all(parts: FilterPredicate[]): FilterPredicate {
  if (parts.length === 0) return matchAll;
  if (parts.length === 1) return parts[0]!;
  return (m) => {
    for (const p of parts) if (!p(m)) return false;
    return true;
  };
}

function any(parts: FilterPredicate[]): FilterPredicate {
  if (parts.length === 1) return parts[0]!;
  return (m) => {
    for (const p of parts) if (p(m)) return true;
    return false;
  };
}

function compileField(field: string, condition: unknown): FilterPredicate {
  if (isScalar(condition)) return fieldOp(field, '$eq', condition);
  if (!isPlainObject(condition)) {
    throw invalidArgument(
      `Invalid filter for field "${field}": expected a string, number, boolean or an operator object, got ${describe(condition)}`,
    );
  }
  const ops = Object.entries(condition);
  if (ops.length === 0) {
    throw invalidArgument(`Invalid filter for field "${field}": the operator object is empty`);
  }
  return all(ops.map(([op, operand]) => fieldOp(field, op, operand)));
}

function fieldOp(field: string, op: string, operand: unknown): FilterPredicate {
  if (!FIELD_OPERATORS.has(op)) {
    throw invalidArgument(
      `Invalid filter operator ${op} for field "${field}"; supported: ${[...FIELD_OPERATORS].join(' ')}`,
    );
  }
  switch (op) {
    case '$eq':
    case '$ne': {
      if (!isScalar(operand)) {
        throw invalidArgument(
          `Invalid filter: ${op} for field "${field}" takes a string, number or boolean, got ${describe(operand)}`,
        );
      }
      const eq = (v: MetadataValue | undefined) => equalsOrContains(v, operand);
      return op === '$eq' ? (m) => eq(fieldOf(m, field)) : (m) => !eq(fieldOf(m, field));
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      if (typeof operand !== 'number' || !Number.isFinite(operand)) {
        throw invalidArgument(
          `Invalid filter: ${op} for field "${field}" takes a number, got ${describe(operand)}`,
        );
      }
      const cmp = comparator(op, operand);
      return (m) => {
        const v = fieldOf(m, field);
        return typeof v === 'number' && cmp(v);
      };
    }
    case '$in':
    case '$nin': {
      if (!Array.isArray(operand) || !operand.every((x) => typeof x === 'string' || isFiniteNumber(x))) {
        throw invalidArgument(
          `Invalid filter: ${op} for field "${field}" takes an array of strings or numbers, got ${describe(operand)}`,
        );
      }
      if (operand.length > MAX_IN_VALUES) {
        throw invalidArgument(
          `Invalid filter: ${op} for field "${field}" has ${operand.length} values, more than the maximum of ${MAX_IN_VALUES}`,
        );
      }
      const set = new Set<Scalar>(operand as Scalar[]);
      const hit = (v: MetadataValue | undefined) => inSet(v, set);
      return op === '$in' ? (m) => hit(fieldOf(m, field)) : (m) => !hit(fieldOf(m, field));
    }
    default: {
      // $exists
      if (typeof operand !== 'boolean') {
        throw invalidArgument(
          `Invalid filter: $exists for field "${field}" takes a boolean, got ${describe(operand)}`,
        );
      }
      return operand ? (m) => fieldOf(m, field) !== undefined : (m) => fieldOf(m, field) === undefined;
    }
  }
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function comparator(op: string, operand: number): (v: number) => boolean {
  switch (op) {
    case '$gt':
      return (v) => v > operand;
    case '$gte':
      return (v) => v >= operand;
    case '$lt':
      return (v) => v < operand;
    default:
      return (v) => v <= operand;
  }
}

function equalsOrContains(value: MetadataValue | undefined, operand: Scalar): boolean {
  if (value === undefined) return false;
  if (Array.isArray(value)) return value.includes(operand as string);
  return value === operand;
}

function inSet(value: MetadataValue | undefined, set: Set<Scalar>): boolean {
  if (value === undefined) return false;
  if (Array.isArray(value)) {
    for (const v of value) if (set.has(v)) return true;
    return false;
  }
  return set.has(value);
}
