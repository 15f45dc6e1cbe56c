import { describe, expect, it } from 'vitest';
import { AbortError, ValidationError } from '../../src/errors.js';
import { ADAPTIVE_LOGGER, type LogFields, type Logger } from '../../src/log.js';
import {
  type AdaptiveTransition,
  AimdLimiter,
  type AimdLimiterTuning,
} from '../../src/resilience/adaptive.js';
import { AimdState } from '../../src/resilience/aimd-state.js';
import { flushMicrotasks, ManualClock } from '../../src/resilience/clock.js';
import type { Permit } from '../../src/resilience/limiter.js';
import type { LimitTransition } from '../../src/resilience/limiter-state.js';

interface Record {
  level: 'debug' | 'info' | 'warn';
  message: string;
  fields: LogFields;
}

function recordingLogger(): Logger & { records: Record[] } {
  const records: Record[] = [];
  const at = (level: Record['level']) => (message: string, fields: LogFields) => {
    records.push({ level, message, fields });
  };
  return { records, debug: at('debug'), info: at('info'), warn: at('warn') };
}

function setup(options: AimdLimiterTuning = {}) {
  const clock = new ManualClock(0);
  const logger = recordingLogger();
  // Most tests here start from a known limit (the first ceiling): slow start off unless
  // asked; the host has answered before (a round trip is known); every throttle of a new
  // epoch is congestion (the classic rule) unless noise detection is asked for; a
  // throttled slot is freed at once (the manual clock does not move) unless the hold is
  // what a test is about.
  const tuning: AimdLimiterTuning = options.createState
    ? options
    : { slowStart: false, initialRttMs: 10, noise: false, holdThrottled: false, ...options };
  const limiter = new AimdLimiter({ clock, logger, host: 'idx.svc.test', ...tuning });
  return { clock, logger, limiter };
}

/** Acquire `n` permits that must be granted at once. */
async function grab(limiter: AimdLimiter, n: number, ceiling: number): Promise<Permit[]> {
  const permits: Permit[] = [];
  for (let i = 0; i < n; i++) permits.push(await limiter.acquire(ceiling));
  return permits;
}

/** Track whether a promise has settled, without awaiting it. */
function watch<T>(p: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

/**
 * Steady operation as the bulk engine produces it: the window kept full, each finished
 * request replaced at once (so every replacement fills the window again).
 */
class SteadyWindow {
  readonly permits: Permit[] = [];
  constructor(
    private readonly limiter: AimdLimiter,
    private readonly ceiling: number,
  ) {}
  async fill(): Promise<void> {
    const cap = () => Math.min(this.limiter.limit || this.ceiling, this.ceiling);
    while (this.limiter.inFlight < cap()) this.permits.push(await this.limiter.acquire(this.ceiling));
  }
  /** `n` successes, each replaced. */
  async succeed(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.permits.shift()!.release({ kind: 'success' });
      await this.fill();
    }
  }
  /** End: everything still out is cancelled. */
  drain(): void {
    for (const p of this.permits.splice(0)) p.release({ kind: 'cancelled' });
  }
}

/** A state with its transitions recorded. */
function state(options: { probeWindows?: number; pacing?: false; slowStart?: boolean } = {}) {
  const events: LimitTransition[] = [];
  // Slow start off unless asked: these tests start from a known limit (the first ceiling),
  // with a round trip known and the classic rule (every throttle of a new epoch cuts).
  const s = new AimdState({
    pacing: false,
    slowStart: false,
    initialRttMs: 10,
    noise: false,
    ...options,
    notify: (t) => events.push(t),
  });
  const limit = () => s.snapshot().limit;
  /** A dispatch that fills the window (steady operation). */
  const full = (ceiling: number, now = 0) => s.dispatch(now, ceiling, Math.min(limit(), ceiling));
  /** `n` full-window successes. */
  const successes = (n: number, ceiling: number) => {
    for (let i = 0; i < n; i++) s.onSuccess(0, full(ceiling));
  };
  return { s, events, limit, full, successes };
}

describe('AimdState: event sequences → limits', () => {
  it('starts at the first ceiling; eight simultaneous throttles halve once (8 → 4), a fresh one again (→ 2)', () => {
    const { s, limit, full, events } = state();
    expect(limit()).toBe(0);
    expect(s.admit(8, 0)).toBe(true);
    expect(limit()).toBe(8);
    const burst = Array.from({ length: 8 }, (_, i) => s.dispatch(0, 8, i + 1));
    expect(s.admit(8, 8)).toBe(false);
    for (const d of burst) s.onThrottle(0, d);
    expect(limit()).toBe(4);
    s.onThrottle(0, full(8));
    expect(limit()).toBe(2);
    expect(events.map((e) => [e.kind, e.before, e.after])).toEqual([
      ['decrease', 8, 4],
      ['decrease', 4, 2],
    ]);
    expect(s.snapshot()).toMatchObject({ throttles: 9, congestionEvents: 2, decreases: 2 });
  });

  it('never goes below 1', () => {
    const { s, limit, full } = state();
    s.admit(2, 0);
    for (let i = 0; i < 5; i++) s.onThrottle(0, full(2));
    expect(limit()).toBe(1);
    expect(s.snapshot()).toMatchObject({ decreases: 1, congestionEvents: 5 });
  });

  it('recovers one slot per window of successes; the step back onto the congestion level takes 8 windows', () => {
    const { s, limit, full, successes, events } = state();
    s.admit(8, 0);
    s.onThrottle(0, full(8)); // 8 → 4: congestion happened at 8
    successes(3, 8);
    expect(limit()).toBe(4);
    successes(1, 8);
    expect(limit()).toBe(5);
    successes(5, 8);
    expect(limit()).toBe(6);
    successes(6, 8);
    expect(limit()).toBe(7);
    successes(8 * 7 - 1, 8);
    expect(limit()).toBe(7);
    successes(1, 8);
    expect(limit()).toBe(8);
    successes(100, 8); // at the ceiling: nothing more
    expect(limit()).toBe(8);
    expect(events.filter((e) => e.kind === 'increase').map((e) => e.after)).toEqual([5, 6, 7, 8]);
  });

  it('probing past the congestion level: slow for the steps onto and past it, then one window again', () => {
    const { s, limit, full, successes } = state();
    s.admit(4, 0);
    s.onThrottle(0, full(4)); // 4 → 2, congested at 4
    successes(2, 16); // 2 → 3 (a later call with a higher ceiling)
    expect(limit()).toBe(3);
    successes(8 * 3, 16); // 3 → 4: onto the level, 8 windows
    expect(limit()).toBe(4);
    successes(8 * 4, 16); // 4 → 5: past it, 8 windows; then the level is forgotten
    expect(limit()).toBe(5);
    successes(5, 16);
    expect(limit()).toBe(6);
  });

  it('probeWindows: 1 is plain AIMD', () => {
    const { s, limit, full, successes } = state({ probeWindows: 1 });
    s.admit(8, 0);
    s.onThrottle(0, full(8));
    successes(4 + 5 + 6 + 7, 8);
    expect(limit()).toBe(8);
  });

  it('successes of requests sent before the last decrease, or with slots to spare, do not count', () => {
    const { s, limit, full } = state();
    s.admit(8, 0);
    const old = Array.from({ length: 8 }, () => full(8));
    s.onThrottle(0, old[0]!); // 8 → 4
    for (const d of old.slice(1)) s.onSuccess(0, d); // 7 stale successes
    expect(limit()).toBe(4);
    for (let i = 0; i < 10; i++) s.onSuccess(0, s.dispatch(0, 8, 2)); // half-empty window
    expect(limit()).toBe(4);
    for (let i = 0; i < 4; i++) s.onSuccess(0, full(8));
    expect(limit()).toBe(5);
  });

  it('a learned limit persists under a higher ceiling; an unlearned one follows it up', () => {
    const learned = state();
    learned.s.admit(8, 0);
    learned.s.onThrottle(0, learned.full(8));
    expect(learned.s.admit(32, 3)).toBe(true);
    expect(learned.s.admit(32, 4)).toBe(false);
    expect(learned.limit()).toBe(4);

    const fresh = state();
    fresh.s.admit(2, 0);
    expect(fresh.s.admit(16, 2)).toBe(true);
    expect(fresh.limit()).toBe(16);
    expect(fresh.events.map((e) => [e.kind, e.before, e.after, e.ceiling])).toEqual([['ceiling', 2, 16, 16]]);
  });

  it('a limit above a call’s ceiling: the ceiling is effective, and a throttle halves the effective limit', () => {
    const { s, limit } = state();
    s.admit(8, 0);
    expect(s.admit(3, 2)).toBe(true);
    expect(s.admit(3, 3)).toBe(false);
    s.onThrottle(0, s.dispatch(0, 3, 3));
    expect(limit()).toBe(1);
  });

  it('does not grow past the ceiling of the call whose successes it counts', () => {
    const { s, limit, full, successes } = state();
    s.admit(8, 0);
    s.onThrottle(0, full(8)); // → 4
    successes(100, 4);
    expect(limit()).toBe(4);
  });

  it('an unbounded ceiling (Infinity) halves what was in flight', () => {
    const { s, limit } = state();
    s.admit(Number.POSITIVE_INFINITY, 0);
    expect(limit()).toBe(Number.POSITIVE_INFINITY);
    s.onThrottle(0, s.dispatch(0, Number.POSITIVE_INFINITY, 6));
    expect(limit()).toBe(3);
  });
});

describe('AimdLimiter: limit, logs and neutral outcomes', () => {
  it('grants up to the limit at once and queues the rest', async () => {
    const { limiter } = setup();
    expect(limiter.limit).toBe(0);
    const permits = await grab(limiter, 8, 8);
    expect(limiter.limit).toBe(8);
    expect(limiter.inFlight).toBe(8);
    const ninth = watch(limiter.acquire(8));
    await flushMicrotasks();
    expect(ninth.settled).toBe(false);
    expect(limiter.queued).toBe(1);
    permits[0]!.release({ kind: 'success' });
    await flushMicrotasks();
    expect(ninth.settled).toBe(true);
  });

  it('logs the spec’s DEBUG records, to the character, for real transitions only', async () => {
    const { limiter, logger } = setup({ pacing: false });
    const burst = await grab(limiter, 8, 8);
    for (const p of burst) p.release({ kind: 'throttled' }); // one event: 8 → 4
    const w = new SteadyWindow(limiter, 8);
    await w.fill();
    await w.succeed(3 + 4); // 3 unfilled + 4 filled → 5
    await w.succeed(5); // → 6
    await w.succeed(200); // → 7, then 7 → 8 (8 windows), then the ceiling
    w.drain();
    expect(limiter.limit).toBe(8);
    expect(logger.records.map((r) => r.message)).toEqual([
      'AIMD limiter decreased: before=8 after=4 ceiling=8',
      'AIMD limiter increased: now=5 ceiling=8',
      'AIMD limiter increased: now=6 ceiling=8',
      'AIMD limiter increased: now=7 ceiling=8',
      'AIMD limiter increased: now=8 ceiling=8',
    ]);
    expect(logger.records.every((r) => r.level === 'debug')).toBe(true);
    expect(logger.records[0]!.fields).toEqual({
      logger: ADAPTIVE_LOGGER,
      event: 'aimd_decrease',
      before: 8,
      after: 4,
      ceiling: 8,
      host: 'idx.svc.test',
    });
    expect(logger.records[1]!.fields).toEqual({
      logger: ADAPTIVE_LOGGER,
      event: 'aimd_increase',
      before: 4,
      after: 5,
      ceiling: 8,
      host: 'idx.svc.test',
    });
  });

  it("'failed' and 'cancelled' are neutral: no decrease, and the streak survives them", async () => {
    const { limiter } = setup({ pacing: false });
    const first = await grab(limiter, 4, 4);
    first[0]!.release({ kind: 'throttled' }); // 4 → 2, learned
    for (const p of first.slice(1)) p.release({ kind: 'failed' });
    const w = new SteadyWindow(limiter, 16);
    await w.fill(); // two permits; the second filled the window
    w.permits.shift()!.release({ kind: 'failed' });
    await w.fill();
    w.permits.shift()!.release({ kind: 'success' }); // 1 in the streak
    await w.fill();
    w.permits.shift()!.release({ kind: 'cancelled' });
    await w.fill();
    expect(limiter.limit).toBe(2);
    w.permits.shift()!.release({ kind: 'success' }); // 2: one window
    await w.fill();
    expect(limiter.limit).toBe(3);
    w.drain();
    expect(limiter.throttles).toBe(1);
  });

  it('releasing twice is a no-op', async () => {
    const { limiter } = setup();
    const [p] = await grab(limiter, 1, 2);
    p!.release({ kind: 'throttled' });
    p!.release({ kind: 'throttled' });
    expect(limiter.inFlight).toBe(0);
    expect(limiter.throttles).toBe(1);
  });

  it('keeps what it learned across calls: a later call with a higher ceiling starts from it', async () => {
    const { limiter } = setup({ pacing: false });
    const first = await grab(limiter, 8, 8);
    first[0]!.release({ kind: 'throttled' });
    for (const p of first.slice(1)) p.release({ kind: 'success' });
    const permits = await grab(limiter, 4, 32);
    const fifth = watch(limiter.acquire(32));
    await flushMicrotasks();
    expect(fifth.settled).toBe(false);
    for (const p of permits) p.release({ kind: 'success' });
    await flushMicrotasks();
    expect(fifth.settled).toBe(true);
  });

  it('rejects a ceiling that is not a positive integer', async () => {
    const { limiter } = setup();
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await expect(limiter.acquire(bad)).rejects.toBeInstanceOf(ValidationError);
    }
  });
});

describe('AimdLimiter: queue and abort', () => {
  it('serves waiters first come, first served', async () => {
    const { limiter } = setup();
    const [held] = await grab(limiter, 1, 1);
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      limiter.acquire(1).then((p) => {
        order.push(n);
        return p;
      }),
    );
    held!.release({ kind: 'success' });
    (await waiters[0]!).release({ kind: 'success' });
    (await waiters[1]!).release({ kind: 'success' });
    (await waiters[2]!).release({ kind: 'success' });
    expect(order).toEqual([1, 2, 3]);
  });

  it('aborting a queued acquire rejects at once with AbortError (cause = reason) and leaves no listener', async () => {
    const { limiter } = setup();
    const [held] = await grab(limiter, 1, 1);
    const controller = new AbortController();
    const added: string[] = [];
    const removed: string[] = [];
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((type: string, ...rest: [never, never]) => {
      added.push(type);
      add(type, ...rest);
    }) as typeof signal.addEventListener;
    signal.removeEventListener = ((type: string, ...rest: [never, never]) => {
      removed.push(type);
      remove(type, ...rest);
    }) as typeof signal.removeEventListener;
    const waiting = watch(limiter.acquire(1, signal));
    const behind = watch(limiter.acquire(1));
    await flushMicrotasks();
    const reason = new Error('user cancelled');
    controller.abort(reason);
    await flushMicrotasks();
    expect(waiting.error).toBeInstanceOf(AbortError);
    expect((waiting.error as AbortError).cause).toBe(reason);
    expect(limiter.queued).toBe(1);
    // The listener was `once` and fired; nothing else was added.
    expect(added).toEqual(['abort']);
    held!.release({ kind: 'success' });
    await flushMicrotasks();
    expect(behind.settled).toBe(true);
  });

  it('a granted waiter’s abort listener is removed', async () => {
    const { limiter } = setup();
    const [held] = await grab(limiter, 1, 1);
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof remove;
    const waiting = limiter.acquire(1, controller.signal);
    expect(listeners).toBe(1);
    held!.release({ kind: 'success' });
    await waiting;
    expect(listeners).toBe(0);
  });

  it('an already aborted signal rejects without queueing', async () => {
    const { limiter } = setup();
    const reason = new Error('before');
    await expect(limiter.acquire(4, AbortSignal.abort(reason))).rejects.toMatchObject({
      name: 'AbortError',
      cause: reason,
    });
    expect(limiter.queued).toBe(0);
    expect(limiter.inFlight).toBe(0);
  });

  it('an aborted head with a low ceiling unblocks the waiters behind it', async () => {
    const { limiter } = setup();
    const permits = await grab(limiter, 2, 4);
    const controller = new AbortController();
    const low = watch(limiter.acquire(2, controller.signal)); // 2 in flight: blocked by its ceiling
    const high = watch(limiter.acquire(4));
    await flushMicrotasks();
    expect(high.settled).toBe(false); // FIFO: behind the blocked head
    controller.abort();
    await flushMicrotasks();
    expect(low.error).toBeInstanceOf(AbortError);
    expect(high.settled).toBe(true);
    for (const p of permits) p.release({ kind: 'success' });
  });
});

describe('AimdLimiter: pacing and Retry-After', () => {
  /** One request with a 100 ms round trip, throttled: the limit reaches its floor (2 → 1). */
  async function pacedLimiter() {
    const s = setup({ initialRttMs: 100 });
    const [p] = await grab(s.limiter, 1, 2);
    await s.clock.advance(100);
    p!.release({ kind: 'throttled' });
    return s;
  }

  it('does not pace while halving the limit can still slow down', async () => {
    const { limiter, clock } = setup();
    const permits = await grab(limiter, 8, 8);
    await clock.advance(100);
    for (const p of permits) p.release({ kind: 'throttled' });
    expect(limiter.limit).toBe(4);
    expect(limiter.pacingRate).toBeUndefined();
  });

  it('starts pacing when the limit reaches its floor, at 0.7 × the rate it was sending', async () => {
    const { limiter } = await pacedLimiter();
    expect(limiter.limit).toBe(1);
    // One request in flight per 100 ms round trip: 10/s; × 0.7.
    expect(limiter.pacingRate).toBeCloseTo(7, 9);
  });

  it('spaces dispatches 1/rate apart, sleeping on the clock', async () => {
    const { limiter, clock } = await pacedLimiter();
    const gap = 1000 / 7;
    const sleepsBefore = clock.sleeps.length;
    const first = watch(limiter.acquire(2));
    await flushMicrotasks();
    // The last send left at t=0, so the next slot is at `gap`; now is 100.
    expect(first.settled).toBe(false);
    expect(clock.sleeps.slice(sleepsBefore)).toHaveLength(1);
    expect(clock.sleeps.at(-1)).toBeCloseTo(gap - 100, 9);
    await clock.advance(gap - 100);
    expect(first.settled).toBe(true);
    const sentAt = clock.now();
    (first.value as Permit).release({ kind: 'cancelled' });
    const second = watch(limiter.acquire(2));
    await flushMicrotasks();
    await clock.advance(gap - 1);
    expect(second.settled).toBe(false);
    await clock.advance(1);
    expect(second.settled).toBe(true);
    expect(clock.now() - sentAt).toBeCloseTo(gap, 9);
  });

  it('aborting a pacing wait rejects with AbortError, frees the slot and leaves no timer', async () => {
    const { limiter, clock } = await pacedLimiter();
    const controller = new AbortController();
    const waiting = watch(limiter.acquire(2, controller.signal));
    const behind = watch(limiter.acquire(2));
    await flushMicrotasks();
    expect(clock.pending).toBe(1);
    expect(limiter.queued).toBe(2);
    controller.abort('stop');
    await flushMicrotasks();
    expect(waiting.error).toBeInstanceOf(AbortError);
    expect((waiting.error as AbortError).cause).toBe('stop');
    // The slot went to the next waiter, which now sleeps for the same send time.
    expect(limiter.queued).toBe(1);
    expect(clock.pending).toBe(1);
    await clock.runNext();
    expect(behind.settled).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('a throttle with retryAfterMs pauses every new dispatch to the host for that long', async () => {
    const { limiter, clock } = setup({ pacing: false });
    const permits = await grab(limiter, 4, 8);
    permits[0]!.release({ kind: 'throttled', retryAfterMs: 5000 }); // limit 8 → 4
    for (const p of permits.slice(1)) p.release({ kind: 'success' });
    const a = watch(limiter.acquire(8));
    const b = watch(limiter.acquire(8));
    await flushMicrotasks();
    await clock.advance(4999);
    expect(a.settled).toBe(false);
    expect(b.settled).toBe(false);
    await clock.advance(1);
    expect(a.settled).toBe(true);
    expect(b.settled).toBe(true);
    // A later hint that ends sooner does not shorten a longer pause.
    (a.value as Permit).release({ kind: 'throttled', retryAfterMs: 10_000 });
    (b.value as Permit).release({ kind: 'throttled', retryAfterMs: 1 });
    const c = watch(limiter.acquire(8));
    await clock.advance(9_999);
    expect(c.settled).toBe(false);
    await clock.advance(1);
    expect(c.settled).toBe(true);
  });

  it('a pause that begins while a waiter sleeps for its send time holds that waiter too', async () => {
    const { limiter, clock } = setup();
    const [a, c] = await grab(limiter, 2, 4);
    a!.release({ kind: 'throttled', retryAfterMs: 1000 }); // limit 4 → 2, paused until 1000
    const b = watch(limiter.acquire(4));
    await flushMicrotasks();
    await clock.advance(500);
    // An older request's hint (its event is already counted) still extends the pause.
    c!.release({ kind: 'throttled', retryAfterMs: 2000 });
    expect(limiter.limit).toBe(2);
    await clock.advance(500);
    expect(b.settled).toBe(false);
    await clock.advance(1499);
    expect(b.settled).toBe(false);
    await clock.advance(1);
    expect(b.settled).toBe(true);
  });
});

describe('AimdLimiter: a Retry-After pause never outlasts a caller’s patience', () => {
  it('a hint longer than the maxWait of the call that got it pauses the host for maxWait only', async () => {
    const { limiter, clock } = setup({ pacing: false });
    const [p] = await grab(limiter, 1, 8);
    p!.release({ kind: 'throttled', retryAfterMs: 5000, maxWaitMs: 200 });
    const next = watch(limiter.acquire(8, undefined, 60_000));
    await clock.advance(199);
    expect(next.settled).toBe(false);
    await clock.advance(1);
    expect(next.settled).toBe(true);
  });

  it('a pause from one call holds another call at most that call’s own maxWait, whatever the queue order', async () => {
    const { limiter, clock } = setup({ pacing: false });
    const [p] = await grab(limiter, 1, 8);
    p!.release({ kind: 'throttled', retryAfterMs: 5000 }); // no maxWait given: the full 5 s
    const patient = watch(limiter.acquire(8, undefined, 60_000));
    const hasty = watch(limiter.acquire(8, undefined, 300));
    await clock.advance(299);
    expect(hasty.settled).toBe(false);
    await clock.advance(1);
    // The hasty call leaves at its own cap, ahead of the patient one queued before it.
    expect(hasty.settled).toBe(true);
    expect(patient.settled).toBe(false);
    await clock.advance(4700);
    expect(patient.settled).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('an abort while paused rejects at once and leaves no timer', async () => {
    const { limiter, clock } = setup({ pacing: false });
    const [p] = await grab(limiter, 1, 8);
    p!.release({ kind: 'throttled', retryAfterMs: 5000 });
    const controller = new AbortController();
    const waiting = watch(limiter.acquire(8, controller.signal, 60_000));
    await flushMicrotasks();
    controller.abort('stop');
    await flushMicrotasks();
    expect(waiting.error).toBeInstanceOf(AbortError);
    expect(clock.pending).toBe(0);
  });
});

describe('AimdState: throttles that arrive whatever the load', () => {
  /** A state with noise detection and a known round trip, steady at `ceiling`. */
  function noisy(ceiling: number) {
    const events: LimitTransition[] = [];
    const s = new AimdState({
      pacing: false,
      slowStart: false,
      initialRttMs: 10,
      notify: (t) => events.push(t),
    });
    s.admit(ceiling, 0);
    /** One dispatch at a full window, answered as `throttled` says. */
    const send = (throttled: boolean) => {
      const d = s.dispatch(0, ceiling, Math.min(s.snapshot().limit, ceiling));
      if (throttled) return s.onThrottle(1, d);
      s.onSuccess(10, d);
      return undefined;
    };
    return { s, events, send, limit: () => s.snapshot().limit };
  }

  it('undoes a cut that did not lower the share and takes that share as the noise floor', () => {
    const { s, events, send, limit } = noisy(16);
    // 1 throttle in 8 at 16 in flight: the first is a congestion event (nothing learned).
    for (let i = 0; i < 7; i++) send(false);
    expect(send(true)).toBe('congestion');
    expect(limit()).toBe(8);
    // At 8 the share stays 1 in 8: the cut is on trial, throttles are held, not cut again.
    const verdicts: (string | undefined)[] = [];
    for (let i = 0; i < 24; i++) verdicts.push(send(i % 8 === 7));
    expect(verdicts.filter((v) => v === 'congestion')).toEqual([]);
    expect(limit()).toBe(16);
    expect(events.at(-1)).toMatchObject({ kind: 'restore', before: 8, after: 16 });
    expect(s.snapshot()).toMatchObject({ restores: 1 });
    expect(s.snapshot().noiseShare).toBeCloseTo(1 / 8, 9);
    // From now on throttles within that share cut nothing, and need not back off.
    for (let i = 0; i < 64; i++) expect(send(i % 8 === 7)).not.toBe('congestion');
    expect(limit()).toBe(16);
  });

  it('keeps a cut that made the throttles stop (a limit that depends on load)', () => {
    const { s, send, limit } = noisy(16);
    for (let i = 0; i < 7; i++) send(false);
    send(true);
    expect(limit()).toBe(8);
    for (let i = 0; i < 64; i++) send(false);
    expect(s.snapshot()).toMatchObject({ restores: 0, noiseShare: 0 });
    expect(limit()).toBeGreaterThanOrEqual(8);
    // The next throttle is congestion again.
    expect(send(true)).toBe('congestion');
  });

  it('tries no cut of a window under 3: a small client stays cooperative', () => {
    const { s, send, limit } = noisy(2);
    for (let i = 0; i < 7; i++) send(false);
    send(true);
    expect(limit()).toBe(1);
    for (let i = 0; i < 24; i++) send(i % 8 === 7);
    expect(s.snapshot().restores).toBe(0);
  });

  it('a host that throttles before it ever answered: a pause of the retry delay, no cut', () => {
    const s = new AimdState({ pacing: false });
    s.admit(8, 0);
    const verdict = s.onThrottle(1, s.dispatch(0, 8, 1), { retryDelayMs: 400, maxWaitMs: 60_000 });
    expect(verdict).toBe('congestion');
    expect(s.pausedUntil).toBe(401);
    expect(s.snapshot()).toMatchObject({ limit: 1, decreases: 0 });
    // Slow start goes on after the first success.
    s.onSuccess(420, s.dispatch(410, 8, 1));
    expect(s.snapshot().limit).toBe(2);
  });

  it('without pauseUnanswered (a paced fleet spaces the sends): no pause, but a Retry-After still pauses', () => {
    const s = new AimdState({ pacing: false });
    s.pauseUnanswered = false;
    s.admit(8, 0);
    expect(s.onThrottle(1, s.dispatch(0, 8, 1), { retryDelayMs: 400, maxWaitMs: 60_000 })).toBe('congestion');
    expect(s.pausedUntil).toBeLessThan(1);
    s.onThrottle(2, s.dispatch(2, 8, 1), { retryDelayMs: 400, retryAfterMs: 1000, maxWaitMs: 60_000 });
    expect(s.pausedUntil).toBe(1002);
  });
});

describe('AimdState: probing at an in-flight cap', () => {
  it('a failed probe one step above a level that held goes back to that level, and the next probe waits twice as long', () => {
    const { s, limit, full, successes } = state({ probeWindows: 2 });
    s.admit(8, 0);
    s.onThrottle(0, full(8)); // 8 → 4; congestion at 8
    successes(4 + 5 + 6, 8); // 4 → 5 → 6 → 7 (one window each below the congestion level)
    expect(limit()).toBe(7);
    successes(7 * 2, 8); // the step onto 8 takes 2 windows
    expect(limit()).toBe(8);
    s.onThrottle(0, full(8)); // the probe of 8 fails: back to 7, not 4
    expect(limit()).toBe(7);
    successes(7 * 2, 8);
    expect(limit()).toBe(7); // the next probe waits 4 windows
    successes(7 * 2, 8);
    expect(limit()).toBe(8);
  });
});

describe('AimdLimiter: observability', () => {
  it('exposes a snapshot and notifies transition listeners (unsubscribe works, a throwing one is harmless)', async () => {
    const { limiter, clock } = setup({ pacing: false });
    const seen: AdaptiveTransition[] = [];
    const unsubscribe = limiter.onTransition((t) => seen.push(t));
    limiter.onTransition(() => {
      throw new Error('listener bug');
    });
    const changes: number[] = [];
    limiter.onChange(() => changes.push(limiter.inFlight));
    await clock.advance(42);
    const permits = await grab(limiter, 4, 4);
    permits[0]!.release({ kind: 'throttled' });
    expect(seen).toEqual([
      {
        kind: 'decrease',
        before: 4,
        after: 2,
        ceiling: 4,
        pacingRate: undefined,
        host: 'idx.svc.test',
        at: 42,
      },
    ]);
    expect(changes.length).toBeGreaterThan(0);
    unsubscribe();
    for (const p of permits.slice(1)) p.release({ kind: 'success' });
    const [p] = await grab(limiter, 1, 4);
    p!.release({ kind: 'throttled' });
    expect(seen).toHaveLength(1);
    expect(limiter.snapshot()).toMatchObject({
      host: 'idx.svc.test',
      limit: 1,
      inFlight: 0,
      queued: 0,
      throttles: 2,
      congestionEvents: 2,
      decreases: 2,
      increases: 0,
    });
    expect(limiter.idle).toBe(true);
  });
});

describe('AimdLimiter: a throttled slot stays taken for the rest of a round trip', () => {
  it('a queued request waits until a round trip after the throttled one was sent', async () => {
    const { limiter, clock } = setup({ pacing: false, holdThrottled: true, initialRttMs: 50 });
    const [a, b] = await grab(limiter, 2, 2);
    await clock.advance(5); // the throttle comes back in 5 ms, the successes in 50
    a!.release({ kind: 'throttled' }); // 2 → 1: the queue now waits for one slot
    b!.release({ kind: 'success' });
    const next = watch(limiter.acquire(2));
    await flushMicrotasks();
    // Without the hold the freed slot would send it at once, into the same rejection.
    expect(next.settled).toBe(false);
    expect(limiter.inFlight).toBe(0);
    await clock.advance(44);
    expect(next.settled).toBe(false);
    await clock.advance(1); // 50 ms after `a` was sent
    expect(next.settled).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('no hold for a throttle with Retry-After (the pause spaces requests) or when turned off', async () => {
    for (const [holdThrottled, retryAfterMs] of [
      [true, 0],
      [false, undefined],
    ] as const) {
      const { limiter } = setup({ pacing: false, holdThrottled, initialRttMs: 50 });
      const [a] = await grab(limiter, 1, 1);
      a!.release({ kind: 'throttled', retryAfterMs });
      const next = watch(limiter.acquire(1));
      await flushMicrotasks();
      expect(next.settled).toBe(true);
    }
  });

  it('dispose cancels a hold and leaves no timer', async () => {
    const { limiter, clock } = setup({ pacing: false, holdThrottled: true, initialRttMs: 50 });
    const [a] = await grab(limiter, 1, 1);
    a!.release({ kind: 'throttled' });
    expect(clock.pending).toBe(1);
    limiter.dispose();
    await flushMicrotasks();
    expect(clock.pending).toBe(0);
  });
});
