import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ApiError,
  apiErrorFromStatus,
  ConnectionError,
  RateLimitError,
  ServerError,
} from '../../src/errors.js';
import { ManualClock, seededRandom } from '../../src/resilience/clock.js';
import type { AttemptOutcome, HostLimiter, Permit } from '../../src/resilience/limiter.js';
import { type FailureClass, type RetryPolicy, withRetries } from '../../src/resilience/retry.js';
import { RetryEvents } from '../../src/resilience/retry-events.js';
import { InstantClock, recordingLogger } from '../helpers/clocks.js';

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

function classify(error: unknown): FailureClass {
  if (error instanceof ApiError) {
    const retryable = RETRYABLE.has(error.status);
    return {
      retryable,
      throttle: error.status === 429 || error.status === 503,
      rateLimited: error.status === 429,
      label: error.status,
      retryAfterMs: retryable ? error.retryAfterMs : undefined,
    };
  }
  if (error instanceof ConnectionError)
    return { retryable: true, throttle: false, rateLimited: false, label: 'ECONNRESET' };
  return { retryable: false, throttle: false, rateLimited: false, label: 'ERROR' };
}

function policy(maxRetries = 3, backoffFactor = 0.25, maxWait = 60): RetryPolicy {
  return { maxRetries, backoffFactor, maxWait, classify };
}

function failing(status: number, extra: { retryAfterMs?: number } = {}) {
  return (attempt: number) => apiErrorFromStatus({ status, host: 'h', attempts: attempt, ...extra });
}

/** An attempt function playing a script: statuses to throw, then a value. */
function script(steps: (number | 'reset' | 'ok')[]) {
  const calls: number[] = [];
  const fn = async (attempt: number) => {
    calls.push(attempt);
    const step = steps[attempt - 1] ?? 'ok';
    if (step === 'ok') return `ok@${attempt}`;
    if (step === 'reset')
      throw new ConnectionError('reset', { host: 'h', attempts: attempt, code: 'ECONNRESET' });
    throw failing(step)(attempt);
  };
  return { fn, calls };
}

function ctx(clock = new InstantClock(), logger = recordingLogger().logger) {
  return { clock, random: seededRandom(1), events: new RetryEvents(logger), host: 'h' };
}

describe('withRetries', () => {
  it('maxRetries: 0 makes exactly one attempt', async () => {
    const { fn, calls } = script([429, 'ok']);
    await expect(withRetries(fn, policy(0), ctx())).rejects.toBeInstanceOf(RateLimitError);
    expect(calls).toEqual([1]);
  });

  it.each([408, 429, 500, 502, 503, 504])('retries %i and then succeeds', async (status) => {
    const { fn, calls } = script([status, status, 'ok']);
    await expect(withRetries(fn, policy(), ctx())).resolves.toBe('ok@3');
    expect(calls).toEqual([1, 2, 3]);
  });

  it.each([400, 401, 403, 404, 409, 422])('throws %i at once', async (status) => {
    const { fn, calls } = script([status, 'ok']);
    const error = await withRetries(fn, policy(), ctx()).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(status);
    expect(error.attempts).toBe(1);
    expect(calls).toEqual([1]);
  });

  it('an empty retryable set retries no status', async () => {
    const none: RetryPolicy = {
      ...policy(),
      classify: (e) => ({ ...classify(e), retryable: !(e instanceof ApiError) }),
    };
    const { fn, calls } = script([503, 'ok']);
    await expect(withRetries(fn, none, ctx())).rejects.toBeInstanceOf(ServerError);
    expect(calls).toEqual([1]);
  });

  it('retries network failures', async () => {
    const { fn } = script(['reset', 'reset', 'ok']);
    await expect(withRetries(fn, policy(), ctx())).resolves.toBe('ok@3');
  });

  it('after exhaustion throws the last typed error with attempts = total', async () => {
    const { fn, calls } = script([429, 429, 429, 429, 429]);
    const error = await withRetries(fn, policy(3), ctx()).catch((e) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.attempts).toBe(4);
    expect(error.message).toContain('after 4 attempts');
    expect(error.message).toContain('maxRetries');
    expect(calls).toEqual([1, 2, 3, 4]);
  });

  it('sleeps decorrelated-jitter delays, in the spec windows', async () => {
    const clock = new InstantClock();
    const { fn } = script([500, 500, 500, 'ok']);
    await withRetries(fn, policy(3), ctx(clock));
    const [d1, d2, d3] = clock.sleeps.map((ms) => ms / 1000) as [number, number, number];
    expect(d1).toBeGreaterThanOrEqual(0.25);
    expect(d1).toBeLessThanOrEqual(0.75);
    expect(d2).toBeLessThanOrEqual(Math.max(0.25, d1 * 3));
    expect(d3).toBeLessThanOrEqual(Math.max(0.25, d2 * 3));
    // Same seed, same schedule.
    const again = new InstantClock();
    await withRetries(script([500, 500, 500, 'ok']).fn, policy(3), ctx(again));
    expect(again.sleeps).toEqual(clock.sleeps);
  });

  it('honours Retry-After, capped at maxWait', async () => {
    const clock = new InstantClock();
    let n = 0;
    const fn = async (attempt: number) => {
      n++;
      if (n === 1) throw failing(429, { retryAfterMs: 2000 })(attempt);
      if (n === 2) throw failing(503, { retryAfterMs: 120_000 })(attempt);
      return 'ok';
    };
    await withRetries(fn, policy(3, 0.25, 10), ctx(clock));
    expect(clock.sleeps).toEqual([2000, 10_000]);
  });

  it('logs the spec throttle record per retry and INFO once per host', async () => {
    const { records, logger } = recordingLogger();
    const events = new RetryEvents(logger);
    const c = { clock: new InstantClock(), random: () => 0.562, events, host: 'my-index.svc.pinecone.io' };
    await withRetries(script([429, 429, 'ok']).fn, policy(3), c);
    await withRetries(script([429, 'ok']).fn, policy(3), c);
    const debug = records.filter((r) => r.level === 'debug').map((r) => r.message);
    expect(debug[0]).toBe(
      'Throttled response: status=429 host=my-index.svc.pinecone.io attempt=1/4 delay=0.531s',
    );
    expect(debug).toHaveLength(3);
    expect(debug[1]).toMatch(
      /^Throttled response: status=429 host=my-index\.svc\.pinecone\.io attempt=2\/4 delay=\d+\.\d{3}s$/,
    );
    const info = records.filter((r) => r.level === 'info');
    expect(info).toHaveLength(1);
    expect(info[0]!.message).toMatch(
      /^Rate limited by host=my-index\.svc\.pinecone\.io\. Adaptive concurrency will reduce in-flight requests\. See \S+ for details\.$/,
    );
    expect(info[0]!.fields.logger).toBe('pinecone._internal.http_client');
    expect(
      records.every(
        (r) => r.fields.logger === 'pinecone._internal.http_client' && typeof r.fields.event === 'string',
      ),
    ).toBe(true);
  });

  it('an abort during backoff settles at once and leaves no pending timer', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const { fn, calls } = script([503, 'ok']);
    const promise = withRetries(fn, policy(), { ...ctx(), clock, signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    expect(clock.pending).toBe(1);
    const reason = new Error('stop');
    controller.abort(reason);
    const error = await promise.catch((e) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.name).toBe('AbortError');
    expect(error.cause).toBe(reason);
    expect(clock.pending).toBe(0);
    expect(calls).toEqual([1]);
  });

  it('an already-aborted signal sends nothing', async () => {
    const { fn, calls } = script(['ok']);
    const error = await withRetries(fn, policy(), { ...ctx(), signal: AbortSignal.abort('x') }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(calls).toEqual([]);
  });

  it('holds a limiter permit per attempt and reports each outcome', async () => {
    const outcomes: AttemptOutcome[] = [];
    let held = 0;
    const limiter: HostLimiter = {
      limit: 4,
      throttles: 0,
      get inFlight() {
        return held;
      },
      async acquire(): Promise<Permit> {
        held++;
        return {
          release(outcome) {
            held--;
            outcomes.push(outcome);
            return undefined;
          },
        };
      },
    };
    const { fn } = script([429, 500, 'ok']);
    await withRetries(fn, policy(), { ...ctx(), limiter, ceiling: 4 });
    expect(outcomes.map((o) => o.kind)).toEqual(['throttled', 'failed', 'success']);
    expect(held).toBe(0);
  });
});
