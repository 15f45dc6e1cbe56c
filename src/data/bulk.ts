/**
 * The bulk upsert engine, transport-agnostic. It pulls records lazily, cuts them into
 * batches (by count and by estimated request size), keeps about `limit + 1` batches
 * sending, and accounts for every record: confirmed, failed, or never sent.
 *
 * The split with the layers below: `send` runs one batch through the retry loop, which
 * acquires a permit from the host's adaptive limiter for every attempt. The limiter
 * therefore decides how many requests are in flight and when the next may leave; this
 * engine only decides how many batches exist at once and what to do when one fails for
 * good. It keeps one batch more than the limit holding or waiting for a permit, so a
 * freed slot is taken at once; a batch waiting out a retry delay holds no permit, so it
 * does not count there (else every throttle would leave the window underfilled for the
 * length of the backoff). Nor does it count against the `maxConcurrency + 1` awake
 * batches (those not asleep in a retry delay), for the same reason; sleeping batches are
 * bounded apart, so no more than `2 × maxConcurrency + 1` batches exist in all.
 */
import { AbortError, PineconeError, ValidationError } from '../errors.js';
import { MAX_NUMBER_BYTES } from './json-number.js';
import { LIMITS, type Vector } from './types.js';

/** Request bytes left for the vectors: the body's envelope and namespace take the rest. */
export const DEFAULT_MAX_BATCH_BYTES = LIMITS.maxRequestBytes - 8 * 1024;

/** The most bytes one sparse index (a uint32) takes plus its comma. */
const MAX_INDEX_BYTES = 11;
/** Keys, braces and brackets of one record, all fields present, plus its comma. */
const RECORD_OVERHEAD_BYTES = 96;

/**
 * An upper bound on the bytes a record adds to a JSON upsert body: exact for id and
 * metadata, the longest possible number for each value (cheap: no number is formatted).
 * Never an underestimate, so a batch cut by it never exceeds the request limit.
 */
export function estimateVectorJsonBytes(v: Vector): number {
  let n = RECORD_OVERHEAD_BYTES + Buffer.byteLength(JSON.stringify(v.id), 'utf8');
  n += v.values.length * (MAX_NUMBER_BYTES + 1);
  if (v.sparseValues) {
    n +=
      v.sparseValues.indices.length * MAX_INDEX_BYTES + v.sparseValues.values.length * (MAX_NUMBER_BYTES + 1);
  }
  if (v.metadata) n += Buffer.byteLength(JSON.stringify(v.metadata), 'utf8');
  return n;
}

/** What `onProgress` receives after each batch settles and on each limit change. */
export interface BulkProgress {
  /** Records confirmed written so far. */
  upserted: number;
  /** Requests in flight now (the limiter's count when given, else batches being sent). */
  inFlight: number;
  /** The effective concurrency limit now: `min(limiter.limit, maxConcurrency)`. */
  limit: number;
  /** Throttled responses the limiter has seen since this call began. */
  throttled: number;
  /** Batches held in memory now (being sent or retried). */
  batchesHeld: number;
}

/** The read-only view of the host's limiter the engine needs (an `AimdLimiter` fits). */
export interface LimiterView {
  /** The learned limit (0 or unset before its first use means "not yet known"). */
  readonly limit: number;
  readonly inFlight: number;
  /** Acquirers waiting for a permit. */
  readonly queued?: number;
  /** Retry delays being slept out at the host (batches asleep between attempts). */
  readonly sleeping?: number;
  /** Throttled responses seen over the limiter's life. */
  readonly throttles: number;
  /** Be told when limit, in-flight or queue may have changed; returns an unsubscribe function. */
  onChange?(listener: () => void): () => void;
}

/** Options of {@link runBulkUpsert}. */
export interface BulkUpsertOptions<V extends Vector> {
  /** Records: an array, or any sync or async iterable (read lazily, never ahead of need). */
  input: V[] | Iterable<V> | AsyncIterable<V>;
  /** Records per batch, at most (1..1000). */
  batchSize: number;
  /** The call's ceiling on requests in flight. */
  maxConcurrency: number;
  /**
   * Write one batch (through the retry loop and the limiter); resolve with the server's
   * `upsertedCount`, reject with the typed error once retries are spent.
   */
  send: (batch: V[], signal: AbortSignal | undefined) => Promise<number>;
  /**
   * The host's limiter. With it, a batch is read when fewer than `limit + 1` requests
   * hold or wait for a permit, up to `maxConcurrency + 1` batches not asleep in a retry
   * delay and `2 × maxConcurrency + 1` in all (the limiter gates the requests; `send`
   * should acquire on its first turn, as the retry loop does). Without it the engine
   * itself caps batches at `maxConcurrency`.
   */
  limiter?: LimiterView | undefined;
  /** Byte budget per batch for the records (default {@link DEFAULT_MAX_BATCH_BYTES}). */
  maxBatchBytes?: number | undefined;
  /** Bytes a record adds to a request (default {@link estimateVectorJsonBytes}). */
  sizeOf?: ((v: V) => number) | undefined;
  onProgress?: ((progress: BulkProgress) => void) | undefined;
  /** Stops taking batches at once; nothing is sent after it fires. */
  signal?: AbortSignal | undefined;
}

/** Result of {@link runBulkUpsert}. */
export interface BulkUpsertResult {
  /** Sum of the server's `upsertedCount` over all batches. */
  upsertedCount: number;
  /** Batches sent. */
  batches: number;
  /** The most batches held in memory at once. */
  maxBatchesHeld: number;
}

/** Why the run stopped early: the first failure wins. */
type Stop = { error: unknown } | { aborted: true };

/**
 * Upsert `input` in batches. On the first batch that fails for good (or an abort, or an
 * error from the input itself) it stops taking batches, lets those in flight finish, and
 * throws: that batch's error (its class kept: a `RateLimitError` stays one), or an
 * `AbortError`, carrying `upsertedCount` (confirmed), `failedVectors` (every record taken
 * from the input and not confirmed: failed batches, records read but never sent, and for
 * an array the part never reached) and, for an iterable, `inputExhausted` (false when the
 * iterator was left unfinished: it is not closed, so the caller can resume from it).
 * A non-SDK error is wrapped in a {@link PineconeError} whose `cause` it is.
 */
export async function runBulkUpsert<V extends Vector>(
  options: BulkUpsertOptions<V>,
): Promise<BulkUpsertResult> {
  const { batchSize, maxConcurrency, limiter, signal, onProgress } = options;
  requireInt(batchSize, 'batchSize', LIMITS.maxVectorsPerUpsert);
  requireInt(maxConcurrency, 'maxConcurrency', Number.MAX_SAFE_INTEGER);
  const maxBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  if (!(maxBytes > 0))
    throw new ValidationError(`maxBatchBytes must be positive, got ${maxBytes}`, 'maxBatchBytes');
  const source = new BatchSource(
    options.input,
    batchSize,
    maxBytes,
    options.sizeOf ?? estimateVectorJsonBytes,
  );

  const throttlesAtStart = limiter?.throttles ?? 0;
  const failed: V[] = [];
  let upserted = 0;
  let batches = 0;
  let outstanding = 0;
  let maxHeld = 0;
  let stop: Stop | undefined = signal?.aborted ? { aborted: true } : undefined;

  // One waiter at a time (the pump); woken when a batch settles, the limit moves or abort.
  let wake: (() => void) | undefined;
  const changed = () => new Promise<void>((resolve) => (wake = resolve));
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const effectiveLimit = () =>
    limiter && limiter.limit > 0 ? Math.min(limiter.limit, maxConcurrency) : maxConcurrency;
  const maxAwake = limiter ? maxConcurrency + 1 : maxConcurrency;
  const maxOutstanding = limiter ? 2 * maxConcurrency + 1 : maxConcurrency;
  // Batches asleep in a retry delay (the host's count; other calls' sleepers may be in it,
  // which the limit + 1 check and the overall cap still bound).
  const asleep = () => Math.min(limiter?.sleeping ?? 0, outstanding);
  const mayRead = () =>
    outstanding < maxOutstanding &&
    outstanding - asleep() < maxAwake &&
    (!limiter || limiter.inFlight + (limiter.queued ?? 0) < effectiveLimit() + 1);
  let reportedLimit = effectiveLimit();
  const progress = () => {
    if (!onProgress) return;
    reportedLimit = effectiveLimit();
    try {
      onProgress({
        upserted,
        inFlight: limiter ? limiter.inFlight : outstanding,
        limit: reportedLimit,
        throttled: (limiter?.throttles ?? 0) - throttlesAtStart,
        batchesHeld: outstanding,
      });
    } catch (error) {
      // A throwing callback stops the run like a failed batch, with the same accounting.
      stop ??= { error };
    }
  };

  const sendBatch = async (batch: V[]) => {
    try {
      const count = await options.send(batch, signal);
      upserted += Number.isFinite(count) && count >= 0 ? count : batch.length;
    } catch (error) {
      for (const v of batch) failed.push(v);
      stop ??= signal?.aborted ? { aborted: true } : { error };
    } finally {
      outstanding -= 1;
      progress();
      notify();
    }
  };

  const onAbort = () => {
    stop ??= { aborted: true };
    notify();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const unsubscribe = limiter?.onChange?.(() => {
    if (effectiveLimit() !== reportedLimit) progress();
    notify();
  });
  try {
    while (!stop) {
      if (!mayRead()) {
        await changed();
        continue;
      }
      let batch: V[] | undefined;
      try {
        batch = await source.next();
      } catch (error) {
        stop ??= { error };
        break;
      }
      if (!batch) break;
      if (stop) {
        // Read while the abort (or a failure) landed: taken, never sent.
        for (const v of batch) failed.push(v);
        break;
      }
      outstanding += 1;
      maxHeld = Math.max(maxHeld, outstanding);
      batches += 1;
      void sendBatch(batch);
    }
    while (outstanding > 0) await changed();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    unsubscribe?.();
  }

  if (stop) {
    for (const v of source.unsent()) failed.push(v);
    const error = toStopError(stop, signal);
    error.upsertedCount = upserted;
    error.failedVectors = failed;
    if (!source.isArray) error.inputExhausted = source.exhausted;
    throw error;
  }
  return { upsertedCount: upserted, batches, maxBatchesHeld: maxHeld };
}

function toStopError(stop: Stop, signal: AbortSignal | undefined): PineconeError {
  if ('aborted' in stop) return new AbortError(signal?.reason);
  if (stop.error instanceof PineconeError) return stop.error;
  const message = stop.error instanceof Error ? stop.error.message : String(stop.error);
  return new PineconeError(`Bulk upsert stopped: ${message}`, { cause: stop.error });
}

function requireInt(value: number, field: string, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError(`${field} must be an integer in 1..${max}, got ${value}`, field);
  }
}

/** End of input (a record itself may be any value, even `undefined`). */
const END: unique symbol = Symbol('end of input');

/**
 * Cuts the input into batches on demand. An array is sliced by position (what is never
 * reached stays countable); an iterable is read one record at a time, and a record that
 * would push a batch over the byte budget is carried to the next batch.
 */
class BatchSource<V extends Vector> {
  readonly isArray: boolean;
  /** Whether the input has been read to its end. */
  exhausted = false;
  #array: V[] | undefined;
  #position = 0;
  #iterator: Iterator<V> | AsyncIterator<V> | undefined;
  #async = false;
  /** Records read from an iterable but not yet batched (at most one, unless sizing threw). */
  #carry: V[] = [];

  constructor(
    input: V[] | Iterable<V> | AsyncIterable<V>,
    private readonly batchSize: number,
    private readonly maxBytes: number,
    private readonly sizeOf: (v: V) => number,
  ) {
    this.isArray = Array.isArray(input);
    if (Array.isArray(input)) {
      this.#array = input;
    } else if (input && typeof (input as AsyncIterable<V>)[Symbol.asyncIterator] === 'function') {
      this.#iterator = (input as AsyncIterable<V>)[Symbol.asyncIterator]();
      this.#async = true;
    } else if (input && typeof (input as Iterable<V>)[Symbol.iterator] === 'function') {
      this.#iterator = (input as Iterable<V>)[Symbol.iterator]();
    } else {
      throw new ValidationError('vectors must be an array or an (async) iterable', 'vectors');
    }
  }

  /** The next batch, or `undefined` at the end of the input. */
  async next(): Promise<V[] | undefined> {
    const batch: V[] = [];
    let bytes = 0;
    for (;;) {
      if (batch.length >= this.batchSize) break;
      let v: V | typeof END;
      try {
        // Arrays and sync iterables are read without a microtask per record.
        v = this.#async ? await this.#readAsync() : this.#read();
      } catch (error) {
        // The input itself failed: what this batch already took stays countable.
        this.#unread(batch);
        throw error;
      }
      if (v === END) break;
      let size: number;
      try {
        size = this.sizeOf(v);
      } catch (error) {
        // Keep the records countable: they are reported among the unsent ones.
        this.#unread([...batch, v]);
        throw error;
      }
      // A record too big on its own still goes alone: the server is the judge of it.
      if (batch.length > 0 && bytes + size > this.maxBytes) {
        this.#unread([v]);
        break;
      }
      batch.push(v);
      bytes += size;
    }
    return batch.length > 0 ? batch : undefined;
  }

  /** Records taken from the input (or, for an array, not yet reached) and never sent. */
  unsent(): V[] {
    if (this.#array) return this.#array.slice(this.#position);
    return [...this.#carry];
  }

  /** The next record, or {@link END}. A hole or `undefined` is passed on, not taken for the end. */
  #read(): V | typeof END {
    if (this.#array) {
      if (this.#position >= this.#array.length) {
        this.exhausted = true;
        return END;
      }
      return this.#array[this.#position++] as V;
    }
    if (this.#carry.length > 0) return this.#carry.shift() as V;
    if (this.exhausted || !this.#iterator) return END;
    return this.#settle((this.#iterator as Iterator<V>).next());
  }

  /** As {@link #read}, for an async iterator (which is read one record at a time too). */
  async #readAsync(): Promise<V | typeof END> {
    if (this.#carry.length > 0) return this.#carry.shift() as V;
    if (this.exhausted || !this.#iterator) return END;
    return this.#settle(await (this.#iterator as AsyncIterator<V>).next());
  }

  #settle(r: IteratorResult<V>): V | typeof END {
    if (!r.done) return r.value;
    this.exhausted = true;
    return END;
  }

  #unread(records: V[]): void {
    if (this.#array) this.#position -= records.length;
    else this.#carry.unshift(...records);
  }
}
