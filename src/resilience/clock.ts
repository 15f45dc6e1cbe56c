/**
 * Injectable time and randomness. The retry loop and the adaptive limiter read time and
 * draw random numbers only through these, so tests (and users who want reproducible
 * runs) can make every delay exact.
 */
import { AbortError } from '../errors.js';

/** A source of uniform random numbers in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/** Time: a millisecond clock and a cancellable sleep. */
export interface Clock {
  /** Milliseconds; monotonic is best, any consistent origin works. */
  now(): number;
  /**
   * Resolve after `ms` milliseconds. Rejects at once with an {@link AbortError} when the
   * signal fires (before or during the sleep) and leaves no timer behind.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Throw the signal's abort as our {@link AbortError} if it has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason);
}

/** Real time: `performance.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep(ms, signal) {
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(new AbortError(signal?.reason));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/**
 * A seeded PRNG (mulberry32): fast, 32-bit state, good enough for jitter and fault
 * injection, and reproducible across runs and platforms.
 */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface PendingSleep {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told. `sleep` registers a timer; `advance(ms)` moves time
 * forward and resolves the timers that fall due, in order. For deterministic tests.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers: PendingSleep[] = [];
  /** Every sleep requested, in ms, in order (handy for asserting backoff schedules). */
  readonly sleeps: number[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** Timers not yet due. */
  get pending(): number {
    return this.timers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      const entry: PendingSleep = {
        at: this.time + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.timers.indexOf(entry);
        if (i >= 0) this.timers.splice(i, 1);
        reject(new AbortError(signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(entry);
      this.timers.sort((x, y) => x.at - y.at || x.seq - y.seq);
    });
  }

  /** Move time forward by `ms`, firing due timers in order; awaits microtasks between them. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.time = Math.max(this.time, next.at);
      next.resolve();
      await flushMicrotasks();
    }
    this.time = target;
    await flushMicrotasks();
  }

  /** Advance to the next pending timer (if any) and fire it. Returns whether one fired. */
  async runNext(): Promise<boolean> {
    const next = this.timers[0];
    if (!next) return false;
    await this.advance(Math.max(0, next.at - this.time));
    return true;
  }
}

/** Let queued promise callbacks run (several turns, so chained awaits settle). */
export async function flushMicrotasks(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
