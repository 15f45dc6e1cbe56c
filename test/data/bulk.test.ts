import { describe, expect, it } from 'vitest';
import {
  type BulkProgress,
  DEFAULT_MAX_BATCH_BYTES,
  estimateVectorJsonBytes,
  runBulkUpsert,
} from '../../src/data/bulk.js';
import { vectorJson } from '../../src/data/encode.js';
import { LIMITS, type Vector } from '../../src/data/types.js';
import { AbortError, PineconeError, RateLimitError, ValidationError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { AimdLimiter } from '../../src/resilience/adaptive.js';
import { flushMicrotasks, ManualClock, seededRandom } from '../../src/resilience/clock.js';

const vec = (i: number): Vector => ({ id: `v${i}`, values: [i, i + 0.5] });
const vectors = (n: number, from = 0) => Array.from({ length: n }, (_, i) => vec(from + i));
const ids = (vs: readonly Vector[]) => vs.map((v) => v.id);
/** Bytes a record adds to a JSON upsert body: its JSON and a comma. */
const jsonBytes = (v: Vector) => Buffer.byteLength(vectorJson(v), 'utf8') + 1;

async function* generate(n: number, onYield?: () => void): AsyncGenerator<Vector> {
  for (let i = 0; i < n; i++) {
    onYield?.();
    yield vec(i);
  }
}

/** A fake `send` whose calls are settled by the test, one by one. */
function manualSend() {
  const calls: {
    batch: Vector[];
    signal: AbortSignal | undefined;
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];
  const send = (batch: Vector[], signal: AbortSignal | undefined) =>
    new Promise<number>((resolve, reject) => {
      calls.push({ batch, signal, resolve: () => resolve(batch.length), reject });
    });
  return { calls, send };
}

/** What the thrown error says, checked to add up exactly to the input. */
function expectExactAccounting(
  error: PineconeError,
  confirmed: Vector[],
  input: readonly Vector[],
  rest: Vector[] = [],
) {
  expect(error.upsertedCount).toBe(confirmed.length);
  const seen = [...ids(confirmed), ...ids(error.failedVectors ?? []), ...ids(rest)];
  expect(new Set(seen).size).toBe(seen.length); // nothing counted twice
  expect(seen.sort()).toEqual(ids(input).sort()); // nothing dropped
}

describe('runBulkUpsert: batching', () => {
  it('sends an array in batches of batchSize, each record once, at most maxConcurrency at a time', async () => {
    const input = vectors(1050);
    const sent: string[] = [];
    let active = 0;
    let peak = 0;
    const result = await runBulkUpsert({
      input,
      batchSize: 100,
      maxConcurrency: 4,
      send: async (batch) => {
        active++;
        peak = Math.max(peak, active);
        await flushMicrotasks(3);
        sent.push(...ids(batch));
        active--;
        return batch.length;
      },
    });
    expect(result).toEqual({ upsertedCount: 1050, batches: 11, maxBatchesHeld: 4 });
    expect(sent.sort()).toEqual(ids(input).sort());
    expect(peak).toBe(4);
  });

  it('takes sync and async iterables', async () => {
    const sizes: number[] = [];
    const send = async (batch: Vector[]) => {
      sizes.push(batch.length);
      return batch.length;
    };
    const set = new Set(vectors(250));
    expect((await runBulkUpsert({ input: set, batchSize: 100, maxConcurrency: 2, send })).upsertedCount).toBe(
      250,
    );
    expect(
      (await runBulkUpsert({ input: generate(250), batchSize: 100, maxConcurrency: 2, send })).upsertedCount,
    ).toBe(250);
    expect(sizes).toEqual([100, 100, 50, 100, 100, 50]);
  });

  it('splits batches to stay under the 2 MB request limit', async () => {
    const big = (i: number): Vector => ({ ...vec(i), metadata: { text: 'x'.repeat(30_000), n: i } });
    const input = Array.from({ length: 300 }, (_, i) => big(i));
    const bodies: number[] = [];
    const result = await runBulkUpsert({
      input,
      batchSize: 100,
      maxConcurrency: 2,
      send: async (batch) => {
        bodies.push(batch.reduce((n, v) => n + jsonBytes(v), 0));
        return batch.length;
      },
    });
    expect(result.upsertedCount).toBe(300);
    expect(bodies.length).toBeGreaterThan(3);
    for (const bytes of bodies) expect(bytes).toBeLessThanOrEqual(LIMITS.maxRequestBytes);
    expect(DEFAULT_MAX_BATCH_BYTES).toBeLessThan(LIMITS.maxRequestBytes);
  });

  it('honours sizeOf and maxBatchBytes, carrying the record that would overflow to the next batch', async () => {
    const sizes: number[][] = [];
    await runBulkUpsert({
      input: generate(7),
      batchSize: 10,
      maxConcurrency: 1,
      maxBatchBytes: 25,
      sizeOf: () => 10,
      send: async (batch) => {
        sizes.push(ids(batch).map((id) => Number(id.slice(1))));
        return batch.length;
      },
    });
    expect(sizes).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
  });

  it('sends a record bigger than the budget on its own (the server judges it)', async () => {
    const sizes: number[] = [];
    await runBulkUpsert({
      input: vectors(3),
      batchSize: 10,
      maxConcurrency: 1,
      maxBatchBytes: 5,
      sizeOf: () => 10,
      send: async (batch) => {
        sizes.push(batch.length);
        return batch.length;
      },
    });
    expect(sizes).toEqual([1, 1, 1]);
  });

  it('counts a batch whose reply lacks a usable count as its size', async () => {
    const result = await runBulkUpsert({
      input: vectors(5),
      batchSize: 2,
      maxConcurrency: 1,
      send: async () => NaN,
    });
    expect(result.upsertedCount).toBe(5);
  });

  it('validates batchSize, maxConcurrency, maxBatchBytes and the input', async () => {
    const send = async () => 0;
    await expect(runBulkUpsert({ input: [], batchSize: 0, maxConcurrency: 1, send })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(
      runBulkUpsert({ input: [], batchSize: 1001, maxConcurrency: 1, send }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(runBulkUpsert({ input: [], batchSize: 1, maxConcurrency: 0, send })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(
      runBulkUpsert({ input: [], batchSize: 1, maxConcurrency: 1, maxBatchBytes: 0, send }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      runBulkUpsert({ input: 42 as unknown as Vector[], batchSize: 1, maxConcurrency: 1, send }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await runBulkUpsert({ input: [], batchSize: 1, maxConcurrency: 1, send })).toEqual({
      upsertedCount: 0,
      batches: 0,
      maxBatchesHeld: 0,
    });
  });
});

describe('estimateVectorJsonBytes', () => {
  it('never underestimates the encoded size', () => {
    const random = seededRandom(42);
    const num = () => {
      const kinds = [
        () => random() * 2 - 1,
        () => -(random() * 1e-5),
        () => -random() * 1e300,
        () => Math.fround(random() - 0.5),
        () => -1.2345678901234566e-7,
      ];
      return kinds[Math.floor(random() * kinds.length)]!();
    };
    for (let i = 0; i < 300; i++) {
      const dim = Math.floor(random() * 64);
      const dense = Array.from({ length: dim }, num);
      const v: Vector = {
        id: `id-${i}-é"\\\n${'🙂'.repeat(i % 3)}`,
        values: i % 2 ? Float32Array.from(dense) : dense,
        sparseValues:
          i % 3 === 0
            ? { indices: [0, 4294967295, Math.floor(random() * 1e6)], values: [num(), num(), num()] }
            : undefined,
        metadata: i % 4 === 0 ? { genre: 'drama', year: 1999 + i, tags: ['a', 'ü'], ok: true } : undefined,
      };
      expect(estimateVectorJsonBytes(v)).toBeGreaterThanOrEqual(jsonBytes(v));
    }
  });
});

describe('runBulkUpsert: failures and accounting', () => {
  it('on a failed batch: stops taking batches, lets in-flight ones finish, throws that batch’s error', async () => {
    const input = vectors(1000);
    const { calls, send } = manualSend();
    const run = runBulkUpsert({ input, batchSize: 100, maxConcurrency: 2, send });
    const outcome = run.catch((e: unknown) => e);
    await flushMicrotasks();
    expect(calls).toHaveLength(2);
    calls[0]!.resolve();
    await flushMicrotasks();
    expect(calls).toHaveLength(3);
    const throttled = new RateLimitError({ status: 429, host: 'h', attempts: 4 });
    calls[1]!.reject(throttled);
    await flushMicrotasks();
    expect(calls).toHaveLength(3); // nothing new after the failure
    calls[2]!.resolve(); // in flight: finishes and counts
    const error = (await outcome) as RateLimitError;
    expect(error).toBe(throttled);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.inputExhausted).toBeUndefined();
    expect(ids(error.failedVectors!.slice(0, 100))).toEqual(ids(calls[1]!.batch));
    expect(error.failedVectors).toHaveLength(800); // the failed batch and the 700 never sent
    expectExactAccounting(error, [...calls[0]!.batch, ...calls[2]!.batch], input);
  });

  it('collects every failed batch, throwing the first failure', async () => {
    const input = vectors(40);
    const { calls, send } = manualSend();
    const outcome = runBulkUpsert({ input, batchSize: 10, maxConcurrency: 3, send }).catch((e: unknown) => e);
    await flushMicrotasks();
    const first = new RateLimitError({ status: 429, host: 'h', attempts: 4 });
    calls[1]!.reject(first);
    calls[0]!.reject(new Error('second failure'));
    calls[2]!.resolve();
    const error = (await outcome) as PineconeError;
    expect(error).toBe(first);
    expect(error.failedVectors).toHaveLength(30);
    expectExactAccounting(error, calls[2]!.batch, input);
  });

  it('over an iterable: reports the taken-but-unsent records and leaves the rest unread and resumable', async () => {
    const source = generate(1000);
    const { calls, send } = manualSend();
    const outcome = runBulkUpsert({
      input: source,
      batchSize: 2,
      maxConcurrency: 1,
      maxBatchBytes: 25,
      sizeOf: () => 10,
      send,
    }).catch((e: unknown) => e);
    await flushMicrotasks();
    calls[0]!.resolve();
    await flushMicrotasks();
    calls[1]!.reject(new RateLimitError({ status: 429, host: 'h', attempts: 4 }));
    const error = (await outcome) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.upsertedCount).toBe(2);
    expect(error.inputExhausted).toBe(false);
    // The caller resumes from the same generator: nothing lost, nothing repeated.
    const rest: Vector[] = [];
    for await (const v of source) rest.push(v);
    expectExactAccounting(error, calls[0]!.batch, vectors(1000), rest);
  });

  it('reports inputExhausted: true when the iterable had been read to its end', async () => {
    const { calls, send } = manualSend();
    const outcome = runBulkUpsert({ input: generate(3), batchSize: 5, maxConcurrency: 1, send }).catch(
      (e: unknown) => e,
    );
    await flushMicrotasks();
    calls[0]!.reject(new RateLimitError({ status: 429, host: 'h', attempts: 1 }));
    const error = (await outcome) as RateLimitError;
    expect(error.inputExhausted).toBe(true);
    expect(error.failedVectors).toHaveLength(3);
  });

  it('wraps a non-SDK error in a PineconeError whose cause it is, with the accounting', async () => {
    const bug = new TypeError('boom');
    const error = (await runBulkUpsert({
      input: vectors(10),
      batchSize: 5,
      maxConcurrency: 1,
      send: async () => {
        throw bug;
      },
    }).catch((e: unknown) => e)) as PineconeError;
    expect(error).toBeInstanceOf(PineconeError);
    expect(error.cause).toBe(bug);
    expect(error.message).toContain('boom');
    expectExactAccounting(error, [], vectors(10));
  });

  it('an input that throws midway: in-flight batches finish, the partial batch is reported', async () => {
    async function* failing() {
      for (let i = 0; i < 150; i++) yield vec(i);
      throw new Error('file truncated');
    }
    const sent: Vector[] = [];
    const error = (await runBulkUpsert({
      input: failing(),
      batchSize: 100,
      maxConcurrency: 2,
      send: async (batch) => {
        await flushMicrotasks(2);
        sent.push(...batch);
        return batch.length;
      },
    }).catch((e: unknown) => e)) as PineconeError;
    expect(error).toBeInstanceOf(PineconeError);
    expect((error.cause as Error).message).toBe('file truncated');
    expect(error.inputExhausted).toBe(false);
    expectExactAccounting(error, sent, vectors(150));
  });

  it('an onProgress that throws stops the run like a failed batch', async () => {
    const error = (await runBulkUpsert({
      input: vectors(50),
      batchSize: 10,
      maxConcurrency: 1,
      send: async (batch) => batch.length,
      onProgress: (p) => {
        if (p.upserted >= 20) throw new Error('ui crashed');
      },
    }).catch((e: unknown) => e)) as PineconeError;
    expect((error.cause as Error).message).toBe('ui crashed');
    expect(error.upsertedCount).toBe(20);
    expect(error.failedVectors).toHaveLength(30);
  });
});

describe('runBulkUpsert: abort', () => {
  it('rejects with AbortError carrying the accounting; nothing is sent after the abort', async () => {
    const input = vectors(100);
    const { calls, send } = manualSend();
    const controller = new AbortController();
    const outcome = runBulkUpsert({
      input,
      batchSize: 10,
      maxConcurrency: 3,
      send,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await flushMicrotasks();
    calls[0]!.resolve();
    await flushMicrotasks();
    expect(calls).toHaveLength(4);
    const reason = new Error('user pressed ctrl-c');
    controller.abort(reason);
    expect(calls[1]!.signal).toBe(controller.signal);
    calls[1]!.resolve(); // finished anyway: confirmed
    calls[2]!.reject(new AbortError(reason));
    calls[3]!.reject(new AbortError(reason));
    const error = (await outcome) as AbortError;
    expect(calls).toHaveLength(4);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.cause).toBe(reason);
    expectExactAccounting(error, [...calls[0]!.batch, ...calls[1]!.batch], input);
  });

  it('an already aborted signal sends nothing', async () => {
    let sends = 0;
    const error = (await runBulkUpsert({
      input: vectors(10),
      batchSize: 5,
      maxConcurrency: 1,
      signal: AbortSignal.abort('early'),
      send: async (batch) => {
        sends++;
        return batch.length;
      },
    }).catch((e: unknown) => e)) as AbortError;
    expect(sends).toBe(0);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.cause).toBe('early');
    expectExactAccounting(error, [], vectors(10));
  });

  it('an abort while an async iterable is being read keeps the record it yields', async () => {
    const controller = new AbortController();
    let release: () => void = () => {};
    async function* slow() {
      yield vec(0);
      await new Promise<void>((r) => (release = r));
      yield vec(1);
      yield vec(2);
    }
    const source = slow();
    const { calls, send } = manualSend();
    const outcome = runBulkUpsert({
      input: source,
      batchSize: 1,
      maxConcurrency: 2,
      send,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await flushMicrotasks();
    expect(calls).toHaveLength(1);
    controller.abort();
    release();
    calls[0]!.resolve();
    const error = (await outcome) as AbortError;
    expect(calls).toHaveLength(1);
    expect(ids(error.failedVectors!)).toEqual(['v1']);
    expect(error.inputExhausted).toBe(false);
    const rest: Vector[] = [];
    for await (const v of source) rest.push(v);
    expectExactAccounting(error, calls[0]!.batch, vectors(3), rest);
  });
});

describe('runBulkUpsert: with the adaptive limiter', () => {
  /** A send shaped like the retry loop's: a permit per attempt, released before any backoff. */
  function limitedSend(limiter: AimdLimiter, ceiling: number, throttleEvery = 0) {
    let attempts = 0;
    return async (batch: Vector[]) => {
      for (;;) {
        const permit = await limiter.acquire(ceiling);
        await new Promise<void>((r) => setImmediate(r));
        attempts++;
        if (throttleEvery && attempts % throttleEvery === 0) {
          permit.release({ kind: 'throttled' });
          // Backing off: holds no permit. A few turns of the event loop, no timers.
          for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
          continue;
        }
        permit.release({ kind: 'success' });
        return batch.length;
      }
    };
  }

  it('a 200k-record async generator holds at most limit + 1 batches', async () => {
    const limiter = new AimdLimiter({
      clock: new ManualClock(),
      logger: silentLogger,
      host: 'h',
      pacing: false,
      holdThrottled: false, // the manual clock never moves: a held slot would never be freed
    });
    let produced = 0;
    let maxAhead = 0;
    let maxLimit = 0;
    const progress: BulkProgress[] = [];
    const result = await runBulkUpsert({
      input: generate(200_000, () => produced++),
      batchSize: 100,
      maxConcurrency: 8,
      limiter,
      send: limitedSend(limiter, 8),
      onProgress: (p) => {
        maxAhead = Math.max(maxAhead, produced - p.upserted);
        maxLimit = Math.max(maxLimit, p.limit);
        if (progress.length < 5) progress.push(p);
      },
    });
    expect(result.upsertedCount).toBe(200_000);
    expect(result.batches).toBe(2000);
    expect(result.maxBatchesHeld).toBe(9);
    expect(maxAhead).toBeLessThanOrEqual(9 * 100);
    // Slow start: the first batch leaves alone, and its success lets a second join it.
    expect(progress[0]).toMatchObject({ limit: 2, throttled: 0 });
    expect(maxLimit).toBe(8);
    expect(progress.every((p) => p.batchesHeld <= 9 && p.inFlight <= 8)).toBe(true);
  });

  it('under throttling: reads past batches waiting out a backoff, but never holds more than maxConcurrency + 1', async () => {
    const limiter = new AimdLimiter({
      clock: new ManualClock(),
      logger: silentLogger,
      host: 'h',
      pacing: false,
      holdThrottled: false, // the manual clock never moves: a held slot would never be freed
    });
    const seen: BulkProgress[] = [];
    const result = await runBulkUpsert({
      input: generate(20_000),
      batchSize: 100,
      maxConcurrency: 8,
      limiter,
      send: limitedSend(limiter, 8, 7),
      onProgress: (p) => seen.push(p),
    });
    expect(result.upsertedCount).toBe(20_000);
    expect(result.maxBatchesHeld).toBeLessThanOrEqual(9);
    expect(seen.at(-1)!.throttled).toBe(limiter.throttles);
    expect(limiter.throttles).toBeGreaterThan(0);
    // Progress reported limit changes as they happened, not only at batch ends.
    expect(new Set(seen.map((p) => p.limit)).size).toBeGreaterThan(1);
  });

  it('batches asleep in a retry delay do not count against maxConcurrency + 1; at most 2 × maxConcurrency + 1 in all', async () => {
    let sleeping = 0;
    const listeners = new Set<() => void>();
    const view = {
      limit: 2,
      inFlight: 0,
      queued: 0,
      throttles: 0,
      get sleeping() {
        return sleeping;
      },
      onChange(listener: () => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const pending: (() => void)[] = [];
    const run = runBulkUpsert({
      input: vectors(100),
      batchSize: 10,
      maxConcurrency: 2,
      limiter: view,
      send: (batch) => new Promise<number>((resolve) => pending.push(() => resolve(batch.length))),
    });
    await flushMicrotasks();
    expect(pending).toHaveLength(3);
    // Two of them fall asleep in a retry delay: two more may be read, and no more.
    sleeping = 2;
    for (const l of listeners) l();
    await flushMicrotasks();
    expect(pending).toHaveLength(5);
    sleeping = 5;
    for (const l of listeners) l();
    await flushMicrotasks();
    expect(pending).toHaveLength(5);
    sleeping = 0;
    while (pending.length > 0) {
      for (const settle of pending.splice(0)) settle();
      await flushMicrotasks();
    }
    await expect(run).resolves.toMatchObject({ upsertedCount: 100, batches: 10 });
  });

  it('reports progress counts from the call’s start and the effective limit min(limit, maxConcurrency)', async () => {
    const limiter = new AimdLimiter({
      clock: new ManualClock(),
      logger: silentLogger,
      host: 'h',
      pacing: false,
      slowStart: false,
      holdThrottled: false,
    });
    (await limiter.acquire(16)).release({ kind: 'throttled' }); // earlier call: 16 → 8, one throttle
    const seen: BulkProgress[] = [];
    await runBulkUpsert({
      input: vectors(30),
      batchSize: 10,
      maxConcurrency: 4,
      limiter,
      send: limitedSend(limiter, 4),
      onProgress: (p) => seen.push(p),
    });
    expect(seen.map((p) => p.upserted)).toEqual([10, 20, 30]);
    expect(seen.every((p) => p.limit === 4 && p.throttled === 0)).toBe(true);
  });
});
