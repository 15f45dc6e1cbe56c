/**
 * Retry delays the limiter ends early when the host runs dry (RetrySleepers through
 * AimdLimiter.retryWait), noise throttles retried at once, and how the retry loop uses
 * them. ManualClock and seeded random; no real sleeps.
 */
import { describe, expect, it } from 'vitest';
import { AbortError, apiErrorFromStatus } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { AimdLimiter } from '../../src/resilience/adaptive.js';
import { flushMicrotasks, ManualClock, seededRandom } from '../../src/resilience/clock.js';
import type { HostLimiter, Permit, ThrottleVerdict } from '../../src/resilience/limiter.js';
import { type FailureClass, withRetries } from '../../src/resilience/retry.js';
import { RetryEvents } from '../../src/resilience/retry-events.js';
import { RetrySleepers, RetryWait } from '../../src/resilience/retry-wait.js';

function setup() {
  const clock = new ManualClock(0);
  const limiter = new AimdLimiter({
    clock,
    logger: silentLogger,
    host: 'h',
    slowStart: false,
    initialRttMs: 10,
    noise: false,
    holdThrottled: false,
  });
  return { clock, limiter };
}

/** Sleep out a throttle's delay through the limiter; resolves whether it ended early. */
async function backoff(
  limiter: AimdLimiter,
  clock: ManualClock,
  ms: number,
  ceiling: number,
  signal?: AbortSignal,
) {
  const wait = limiter.retryWait(ceiling);
  const start = clock.now();
  await wait.wait(wait.plan(ms, { throttle: true, hinted: false }), signal);
  return clock.now() - start < ms;
}

/** Track whether a promise has settled, without awaiting it. */
function watch<T>(p: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe('AimdLimiter.retryWait: retry delays end early when the host runs dry', () => {
  it('ends a sleep once a success came after it began and nothing is in flight or queued', async () => {
    const { clock, limiter } = setup();
    const [a, b] = [await limiter.acquire(4), await limiter.acquire(4)];
    await clock.advance(10);
    a.release({ kind: 'throttled' });
    const sleep = watch(backoff(limiter, clock, 500, 4));
    await flushMicrotasks();
    expect(limiter.sleeping).toBe(1);
    await clock.advance(5);
    b.release({ kind: 'success' });
    await flushMicrotasks();
    expect(sleep).toMatchObject({ settled: true, value: true });
    expect(clock.now()).toBe(15);
    expect(limiter.sleeping).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('with wakeRetries: false, always runs its length', async () => {
    const clock = new ManualClock(0);
    const limiter = new AimdLimiter({
      clock,
      logger: silentLogger,
      host: 'h',
      slowStart: false,
      wakeRetries: false,
    });
    const [a, b] = [await limiter.acquire(4), await limiter.acquire(4)];
    a.release({ kind: 'throttled' });
    const sleep = watch(backoff(limiter, clock, 500, 4));
    b.release({ kind: 'success' });
    await clock.advance(499);
    expect(sleep.settled).toBe(false);
    await clock.advance(1);
    expect(sleep).toMatchObject({ settled: true, value: false });
  });

  it('runs its length without a success since it began (a lone throttled request is not retried at once)', async () => {
    const { clock, limiter } = setup();
    (await limiter.acquire(4)).release({ kind: 'success' });
    const a = await limiter.acquire(4);
    a.release({ kind: 'throttled' });
    const sleep = watch(backoff(limiter, clock, 500, 4));
    await clock.advance(499);
    expect(sleep.settled).toBe(false);
    await clock.advance(1);
    expect(sleep).toMatchObject({ settled: true, value: false });
  });

  it('does not wake while requests are in flight or queued', async () => {
    const { clock, limiter } = setup();
    const permits: Permit[] = [];
    for (let i = 0; i < 3; i++) permits.push(await limiter.acquire(4));
    permits[0]!.release({ kind: 'throttled' }); // 4 → 2
    const sleep = watch(backoff(limiter, clock, 500, 4));
    permits[1]!.release({ kind: 'success' }); // one still in flight
    await flushMicrotasks();
    expect(sleep.settled).toBe(false);
    permits[2]!.release({ kind: 'success' });
    await flushMicrotasks();
    expect(sleep).toMatchObject({ settled: true, value: true });
    await clock.advance(0);
  });

  it('does not wake when the latest answer, the one that left the host dry, was a throttle', async () => {
    const { clock, limiter } = setup();
    const permits: Permit[] = [];
    for (let i = 0; i < 3; i++) permits.push(await limiter.acquire(4));
    permits[0]!.release({ kind: 'throttled' });
    const sleep = watch(backoff(limiter, clock, 500, 4));
    permits[1]!.release({ kind: 'success' });
    permits[2]!.release({ kind: 'throttled' });
    await flushMicrotasks();
    expect(sleep.settled).toBe(false);
    await clock.advance(500);
    expect(sleep).toMatchObject({ settled: true, value: false });
  });

  it('wakes at most the effective limit, soonest-ending first', async () => {
    const { clock, limiter } = setup();
    const permits: Permit[] = [];
    for (let i = 0; i < 4; i++) permits.push(await limiter.acquire(4));
    for (const p of permits.slice(0, 3)) p.release({ kind: 'throttled' }); // one event: 4 → 2
    expect(limiter.limit).toBe(2);
    const sleeps = [900, 300, 600].map((ms) => watch(backoff(limiter, clock, ms, 4)));
    permits[3]!.release({ kind: 'success' });
    await flushMicrotasks();
    expect(sleeps.map((s) => s.settled)).toEqual([false, true, true]);
    await clock.advance(900);
    expect(sleeps[0]).toMatchObject({ settled: true, value: false });
  });

  it('an abort during the sleep rejects with AbortError (cause: the reason) and leaves no timer', async () => {
    const { clock, limiter } = setup();
    const controller = new AbortController();
    const sleep = watch(backoff(limiter, clock, 500, 4, controller.signal));
    controller.abort('stop');
    await flushMicrotasks();
    expect(sleep.error).toBeInstanceOf(AbortError);
    expect((sleep.error as AbortError).cause).toBe('stop');
    expect(clock.pending).toBe(0);
    expect(limiter.sleeping).toBe(0);
  });
});

const classify = (error: unknown): FailureClass => {
  const status = (error as { status: number }).status;
  return {
    retryable: true,
    throttle: status === 429,
    rateLimited: status === 429,
    label: status,
    retryAfterMs: (error as { retryAfterMs?: number }).retryAfterMs,
  };
};

describe('withRetries with a limiter that can end retry delays early', () => {
  /** A limiter whose every wakeable sleep ends at once, recording what it was asked. */
  function wakingLimiter(verdict?: ThrottleVerdict) {
    const backoffs: number[] = [];
    /** For each sleep: clocked by successes (a noise throttle's retry) or not. */
    const clocked: boolean[] = [];
    class InstantWake extends RetrySleepers {
      override async sleep(
        ms: number,
        _ceiling: number,
        _successes: number,
        _signal?: AbortSignal,
        byClock = false,
      ): Promise<boolean> {
        backoffs.push(ms);
        clocked.push(byClock);
        return true;
      }
    }
    const sleepers = new InstantWake(new ManualClock(0), true, () => {});
    let clock: ManualClock | undefined;
    const limiter: HostLimiter = {
      limit: 4,
      inFlight: 0,
      throttles: 0,
      async acquire(): Promise<Permit> {
        return { release: (o) => (o.kind === 'throttled' ? verdict : undefined) };
      },
      retryWait: (ceiling) => new RetryWait(clock!, ceiling, { sleepers, successes: () => 0 }),
    };
    return { limiter, backoffs, clocked, useClock: (c: ManualClock) => (clock = c) };
  }

  function run(
    waking: ReturnType<typeof wakingLimiter>,
    statuses: (number | { status: number; retryAfterMs: number })[],
  ) {
    const clock = new ManualClock(0);
    waking.useClock(clock);
    const limiter = waking.limiter;
    let attempts = 0;
    const attempt = async (n: number) => {
      attempts = n;
      const step = statuses[n - 1];
      if (step === undefined) return 'ok';
      const { status, retryAfterMs } =
        typeof step === 'number' ? { status: step, retryAfterMs: undefined } : step;
      throw apiErrorFromStatus({ status, host: 'h', attempts: n, retryAfterMs });
    };
    const done = withRetries(
      attempt,
      { maxRetries: 3, backoffFactor: 0.25, maxWait: 60, classify },
      {
        clock,
        random: seededRandom(3),
        events: new RetryEvents(silentLogger),
        host: 'h',
        limiter,
        ceiling: 4,
      },
    );
    return { clock, done, attempts: () => attempts };
  }

  it('after an early retry is throttled again, every later delay of the call runs its length', async () => {
    const waking = wakingLimiter();
    const { backoffs } = waking;
    const { clock, done } = run(waking, [429, 429, 429]);
    const result = watch(done);
    await flushMicrotasks();
    // Delay 1 went to the limiter (ended at once); the early retry was throttled, so
    // delays 2 and 3 are the clock's, full length.
    expect(backoffs).toHaveLength(1);
    expect(clock.sleeps).toHaveLength(1);
    await clock.runNext();
    expect(clock.sleeps).toHaveLength(2);
    await clock.runNext();
    expect(result).toMatchObject({ settled: true, value: 'ok' });
    expect(backoffs).toHaveLength(1);
  });

  it('a server hint (Retry-After) or a non-throttle failure is slept out on the clock; a plain 429 goes to the limiter', async () => {
    const waking = wakingLimiter();
    const { backoffs } = waking;
    const { clock, done } = run(waking, [{ status: 429, retryAfterMs: 200 }, 429, 500]);
    const result = watch(done);
    await flushMicrotasks();
    expect(clock.sleeps).toEqual([200]);
    await clock.runNext();
    expect(backoffs).toHaveLength(1);
    expect(clock.sleeps).toHaveLength(2);
    await clock.runNext();
    expect(result).toMatchObject({ settled: true, value: 'ok' });
    expect(backoffs).toHaveLength(1);
  });

  it('a throttle judged noise sleeps through the limiter (clocked by successes), a hinted one on the clock', async () => {
    const waking = wakingLimiter('noise');
    const { clock, done } = run(waking, [429, 429, { status: 429, retryAfterMs: 300 }]);
    const result = watch(done);
    await flushMicrotasks();
    // Two noise throttles went to the limiter (ended at once here); the first retry was
    // clocked by successes, and once it was throttled again the second waits as
    // congestion's do (ended early only when the host runs dry): a limit taken for noise
    // cannot spend a call's attempts at one per success. The hinted one sleeps on the clock.
    expect(waking.backoffs).toHaveLength(2);
    expect(waking.clocked).toEqual([true, false]);
    expect(clock.sleeps).toEqual([300]);
    await clock.runNext();
    expect(result).toMatchObject({ settled: true, value: 'ok' });
  });
});
