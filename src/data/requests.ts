/**
 * Input checks and bulk planning used by the data-plane core (`core.ts`), so both
 * transports reject the same bad input with the same errors, before anything is sent,
 * and run bulk work the same way. The wire adapters only encode and decode.
 */

import { describe } from '../config.js';
import { ValidationError } from '../errors.js';
import { followSignal } from '../resilience/abort.js';
import type { HostLimiter } from '../resilience/limiter.js';
import { runBulkUpsert } from './bulk.js';
import type {
  CallOptions,
  DeleteManyOptions,
  DeleteOptions,
  QueryOptions,
  SearchRecordsOptions,
  StartImportOptions,
  UpdateOptions,
  UpsertOptions,
  UpsertRecordsOptions,
} from './options.js';
import { type FetchResponse, LIMITS, type Vector } from './types.js';
import {
  validateFilter,
  validateId,
  validateIds,
  validateIntRange,
  validateMetadata,
  validateSparse,
  validateText,
  validateValues,
  validateVector,
} from './validate.js';

/** Default records per upsert request. */
export const DEFAULT_BATCH_SIZE = 100;
/** Default ceiling on requests in flight for bulk calls. */
export const DEFAULT_MAX_CONCURRENCY = 4;

/** Check a per-call timeout (seconds). */
export function resolveTimeout(timeout: unknown, fallback: number): number {
  if (timeout === undefined) return fallback;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw new ValidationError(
      `timeout must be a positive number of seconds; got ${String(timeout)}`,
      'timeout',
    );
  }
  return timeout;
}

/** Check a query: topK in range, exactly one of vector/sparseVector or id, a valid filter. */
export function checkQuery(options: QueryOptions): void {
  validateIntRange(options?.topK, 'topK', 1, LIMITS.maxTopK);
  const hasVector = options.vector !== undefined || options.sparseVector !== undefined;
  if (hasVector === (options.id !== undefined)) {
    throw new ValidationError('query needs exactly one of vector (and/or sparseVector) or id', 'vector');
  }
  if (options.vector !== undefined) validateValues(options.vector, 'vector');
  if (options.sparseVector !== undefined) validateSparse(options.sparseVector, 'sparseVector');
  if (options.id !== undefined) validateId(options.id, 'id');
  if (options.filter !== undefined) validateFilter(options.filter);
}

/** Check a delete: exactly one selector, and that selector valid. */
export function checkDelete(options: DeleteOptions): void {
  const selectors = [options?.ids !== undefined, options?.deleteAll === true, options?.filter !== undefined];
  if (selectors.filter(Boolean).length !== 1) {
    throw new ValidationError('delete needs exactly one of ids, deleteAll: true, or filter', 'ids');
  }
  if (options.ids !== undefined) validateIds(options.ids);
  if (options.filter !== undefined) validateFilter(options.filter);
}

/** Check a `deleteMany`: exactly one of ids or filter. */
export function checkDeleteMany(options: DeleteManyOptions): void {
  if ((options?.ids !== undefined) === (options?.filter !== undefined)) {
    throw new ValidationError('deleteMany needs exactly one of ids or filter', 'ids');
  }
  if (options.ids !== undefined) validateIds(options.ids);
  if (options.filter !== undefined) validateFilter(options.filter);
}

/**
 * Check an update: by `id` (values, sparse values and/or metadata), or by `filter`
 * (metadata only). `metadata` is the official client's name for `setMetadata`.
 */
export function checkUpdate(options: UpdateOptions): void {
  if (!options || typeof options !== 'object') {
    throw new ValidationError('update needs an options object', 'id');
  }
  if ((options.id !== undefined) === (options.filter !== undefined)) {
    throw new ValidationError('update needs exactly one of id or filter', 'id');
  }
  if (options.setMetadata !== undefined && options.metadata !== undefined) {
    throw new ValidationError('give setMetadata or its alias metadata, not both', 'metadata');
  }
  const metadata = options.setMetadata ?? options.metadata;
  const field = options.setMetadata !== undefined ? 'setMetadata' : 'metadata';
  if (metadata !== undefined) validateMetadata(metadata, field);
  if (options.filter !== undefined) {
    validateFilter(options.filter);
    if (options.values !== undefined || options.sparseValues !== undefined) {
      throw new ValidationError('an update by filter sets metadata only; values cannot be given', 'values');
    }
    if (metadata === undefined)
      throw new ValidationError('an update by filter needs setMetadata', 'setMetadata');
    if (options.dryRun !== undefined && typeof options.dryRun !== 'boolean') {
      throw new ValidationError('dryRun must be a boolean', 'dryRun');
    }
    return;
  }
  validateId(options.id, 'id');
  if (options.dryRun !== undefined) throw new ValidationError('dryRun goes with filter only', 'dryRun');
  if (options.values !== undefined) validateValues(options.values, 'values');
  if (options.sparseValues !== undefined) validateSparse(options.sparseValues, 'sparseValues');
}

/** Check `startImport`: a URI, and an error mode of `continue` or `abort`. */
export function checkStartImport(options: StartImportOptions): void {
  validateText(options?.uri, 'uri');
  const mode = options.errorMode;
  if (mode !== undefined && (typeof mode !== 'string' || !/^(continue|abort)$/i.test(mode))) {
    throw new ValidationError(`errorMode must be "continue" or "abort"; got ${describe(mode)}`, 'errorMode');
  }
  if (options.integration !== undefined) validateText(options.integration, 'integration');
}

/** Check `upsertRecords`: a non-empty array of objects, each with a string `_id` or `id`. */
export function checkUpsertRecords(options: UpsertRecordsOptions): void {
  const records = options?.records;
  if (!Array.isArray(records) || records.length === 0) {
    throw new ValidationError(`records must be a non-empty array; got ${describe(records)}`, 'records');
  }
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (!r || typeof r !== 'object' || Array.isArray(r)) {
      throw new ValidationError(`records[${i}] must be an object; got ${describe(r)}`, `records[${i}]`);
    }
    const id = r._id ?? r.id;
    validateId(id, `records[${i}]._id`);
  }
}

/** Check `searchRecords`: topK, exactly one of inputs / vector / id, a valid filter and rerank. */
export function checkSearchRecords(options: SearchRecordsOptions): void {
  const q = options?.query;
  if (!q || typeof q !== 'object') throw new ValidationError('searchRecords needs a query object', 'query');
  validateIntRange(q.topK, 'query.topK', 1, LIMITS.maxTopK);
  const given = [q.inputs !== undefined, q.vector !== undefined, q.id !== undefined].filter(Boolean).length;
  if (given !== 1) {
    throw new ValidationError('query needs exactly one of inputs, vector or id', 'query.inputs');
  }
  if (
    q.inputs !== undefined &&
    (typeof q.inputs !== 'object' || q.inputs === null || Array.isArray(q.inputs))
  ) {
    throw new ValidationError(`query.inputs must be an object such as { text: '...' }`, 'query.inputs');
  }
  if (q.vector?.values !== undefined) validateValues(q.vector.values, 'query.vector.values');
  if (q.id !== undefined) validateId(q.id, 'query.id');
  if (q.filter !== undefined) validateFilter(q.filter, 'query.filter');
  if (options.fields !== undefined) {
    if (!Array.isArray(options.fields) || options.fields.some((f) => typeof f !== 'string')) {
      throw new ValidationError('fields must be an array of field names', 'fields');
    }
  }
  if (options.rerank !== undefined) {
    validateText(options.rerank?.model, 'rerank.model');
    const fields = options.rerank.rankFields;
    if (!Array.isArray(fields) || fields.length === 0 || fields.some((f) => typeof f !== 'string')) {
      throw new ValidationError(
        'rerank.rankFields must be a non-empty array of field names',
        'rerank.rankFields',
      );
    }
  }
}

/** How one transport writes a batch, and sizes a record for its wire. */
export interface UpsertWire {
  /** The host's adaptive limiter: every attempt of every batch holds one of its permits. */
  limiter: HostLimiter;
  /** Bytes a record adds to a request on this wire (may also validate and cache its encoding). */
  sizeOf: (v: Vector) => number;
  /** Byte budget of one request's records. */
  maxBatchBytes: number;
  /** One batch, retried, every attempt under a limiter permit with this ceiling; resolves to upsertedCount. */
  send(batch: Vector[], signal: AbortSignal | undefined, ceiling: number): Promise<number>;
}

/** An upsert's options, checked. */
export interface CheckedUpsert {
  input: Vector[] | Iterable<Vector> | AsyncIterable<Vector>;
  batchSize: number;
  maxConcurrency: number;
  isArray: boolean;
}

/**
 * Check an upsert's options, and an array input whole (an iterable is checked record by
 * record as the bulk engine reads it).
 */
export function checkUpsert(options: UpsertOptions): CheckedUpsert {
  const input = options?.vectors ?? options?.records;
  if (input === undefined || input === null)
    throw new ValidationError('vectors (or records) is required', 'vectors');
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  validateIntRange(batchSize, 'batchSize', 1, LIMITS.maxVectorsPerUpsert);
  const maxConcurrency = options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
  validateIntRange(maxConcurrency, 'maxConcurrency', 1, 1000);
  const isArray = Array.isArray(input);
  if (isArray) for (let i = 0; i < input.length; i++) validateVector(input[i], `vectors[${i}]`);
  return { input, batchSize, maxConcurrency, isArray };
}

/**
 * A bulk upsert over any wire: {@link checkUpsert}, then run the bulk engine. The wire
 * may be given as a function, resolved only after the checks pass.
 */
export async function bulkUpsert(
  options: UpsertOptions,
  getWire: UpsertWire | (() => Promise<UpsertWire>),
): Promise<{ upsertedCount: number }> {
  const { input, batchSize, maxConcurrency, isArray } = checkUpsert(options);
  // Only now may the wire be resolved (a host looked up by name is a request).
  const wire = typeof getWire === 'function' ? await getWire() : getWire;
  // Sizing is the engine's first look at each record (a record carried to the next batch
  // is sized again, hence the cache). An iterable's records are checked here, so a bad one
  // stops the run before its batch is sent, with exact accounting; a record too big for
  // any request is refused rather than sent.
  const sizes = new WeakMap<Vector, number>();
  let read = 0;
  const sizeOf = (v: Vector) => {
    const known = sizes.get(v);
    if (known !== undefined) return known;
    const field = `vectors[${read++}]`;
    if (!isArray) validateVector(v, field);
    const size = wire.sizeOf(v);
    if (size > wire.maxBatchBytes) {
      throw new ValidationError(
        `${field} encodes to ${size} bytes; one upsert request takes at most ${LIMITS.maxRequestBytes} bytes (2 MB)`,
        field,
      );
    }
    sizes.set(v, size);
    return size;
  };
  const scope = followSignal(options.signal);
  try {
    const { upsertedCount } = await runBulkUpsert<Vector>({
      input,
      batchSize,
      maxConcurrency,
      limiter: wire.limiter,
      maxBatchBytes: wire.maxBatchBytes,
      sizeOf,
      onProgress: options.onProgress,
      signal: options.signal === undefined ? undefined : scope.signal,
      send: (batch, signal) => wire.send(batch, signal, maxConcurrency),
    });
    return { upsertedCount };
  } finally {
    scope.dispose();
  }
}

/** Split ids (or records) into request-sized chunks. */
export function chunked<T>(items: readonly T[], size: number = LIMITS.maxIdsPerFetchOrDelete): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Run one request per chunk, all gated by the host's limiter (the requests themselves
 * acquire its permits). The first failure aborts the chunks not yet sent, waits for those
 * in flight, and is thrown. Results keep chunk order.
 */
export async function fanOut<C, R>(
  chunks: C[],
  options: CallOptions,
  run: (chunk: C, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  const scope = followSignal(options.signal);
  let first: { error: unknown } | undefined;
  try {
    const settled = await Promise.allSettled(
      chunks.map((chunk) =>
        run(chunk, scope.signal).catch((error: unknown) => {
          first ??= { error };
          scope.abort(error);
          throw error;
        }),
      ),
    );
    if (first) throw first.error;
    return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
  } finally {
    scope.dispose();
  }
}

/** One `fetch` result from the pages of a fan-out: records merged, read units summed. */
export function mergeFetched(pages: FetchResponse[]): FetchResponse {
  const records: Record<string, Vector> = {};
  let readUnits: number | undefined;
  for (const page of pages) {
    Object.assign(records, page.records);
    if (page.usage?.readUnits !== undefined) readUnits = (readUnits ?? 0) + page.usage.readUnits;
  }
  const merged: FetchResponse = { records, vectors: records, namespace: pages[0]?.namespace ?? '' };
  if (readUnits !== undefined) merged.usage = { readUnits };
  return merged;
}
