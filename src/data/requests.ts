/**
 * Input checks and bulk planning shared by the REST and gRPC indexes, so both transports
 * reject the same bad input with the same errors and run bulk work the same way. The
 * indexes only encode requests and decode responses.
 */
import { ValidationError } from '../errors.js';
import { followSignal } from '../resilience/abort.js';
import type { HostLimiter } from '../resilience/limiter.js';
import { runBulkUpsert } from './bulk.js';
import type { CallOptions, DeleteOptions, QueryOptions, UpdateOptions, UpsertOptions } from './index.js';
import { LIMITS, type Vector } from './types.js';
import {
  validateFilter,
  validateId,
  validateIds,
  validateIntRange,
  validateMetadata,
  validateSparse,
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

/** Check an update. */
export function checkUpdate(options: UpdateOptions): void {
  validateId(options?.id, 'id');
  if (options.values !== undefined) validateValues(options.values, 'values');
  if (options.sparseValues !== undefined) validateSparse(options.sparseValues, 'sparseValues');
  if (options.setMetadata !== undefined) validateMetadata(options.setMetadata, 'setMetadata');
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

/** Split ids into request-sized chunks. */
export function chunkIds(ids: string[], size: number = LIMITS.maxIdsPerFetchOrDelete): string[][] {
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += size) chunks.push(ids.slice(i, i + size));
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
