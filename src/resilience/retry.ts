/**
 * The retry loop, transport-agnostic: attempt → classify → (delay) → attempt again.
 * Transports supply the attempt and a classifier; the loop owns attempts counting,
 * decorrelated jitter, server hints, abort and the per-attempt limiter permit.
 */
import { AbortError } from '../errors.js';
import { decorrelatedJitter } from './backoff.js';
import { type Clock, type RandomSource, throwIfAborted } from './clock.js';
import type { HostLimiter, RetryWaits, ThrottleVerdict } from './limiter.js';
import type { RetryEvents } from './retry-events.js';

/** What the loop needs to know about a failed attempt. */
export interface FailureClass {
  /** Retry it (if attempts remain)? */
  retryable: boolean;
  /** Throttling (HTTP 429/503, gRPC RESOURCE_EXHAUSTED/UNAVAILABLE): the limiter backs off. */
  throttle: boolean;
  /** Rate limiting proper (HTTP 429, gRPC RESOURCE_EXHAUSTED): the once-per-host INFO record. */
  rateLimited: boolean;
  /** What the log shows as `status=`: HTTP status, gRPC code name or network error code. */
  label: number | string;
  /** Server hint, milliseconds. */
  retryAfterMs?: number | undefined;
}

/** Settings of one retrying call. Times in seconds, like the spec. */
export interface RetryPolicy {
  maxRetries: number;
  backoffFactor: number;
  maxWait: number;
  /** Classifies an error thrown by an attempt. */
  classify(error: unknown): FailureClass;
}

/** Everything else one call of {@link withRetries} uses. */
export interface RetryContext {
  clock: Clock;
  random: RandomSource;
  events: RetryEvents;
  /** Host label for logs and limiter. */
  host: string;
  signal?: AbortSignal | undefined;
  /** When given, every attempt (retries too) holds a permit from it. */
  limiter?: HostLimiter | undefined;
  /** Ceiling passed to the limiter (the call's maxConcurrency). */
  ceiling?: number | undefined;
  /** Told of each failed attempt's class before the loop decides (for progress counters). */
  onFailure?: ((failure: FailureClass) => void) | undefined;
}

/** An attempt: receives its 1-based number so errors can carry `attempts`. */
export type Attempt<T> = (attempt: number, signal: AbortSignal | undefined) => Promise<T>;

/**
 * Run `attempt` until it succeeds, a failure is not retryable, or `maxRetries` retries
 * have been spent. The error thrown is the last attempt's (its `attempts` says how many
 * were made). An abort rejects at once with an {@link AbortError} and nothing is sent after.
 */
export async function withRetries<T>(
  attempt: Attempt<T>,
  policy: RetryPolicy,
  ctx: RetryContext,
): Promise<T> {
  const { clock, signal } = ctx;
  const total = policy.maxRetries + 1;
  // Milliseconds inside; the policy is in the spec's seconds.
  const floorMs = policy.backoffFactor * 1000;
  const maxWaitMs = policy.maxWait * 1000;
  const ceiling = ctx.ceiling ?? Number.POSITIVE_INFINITY;
  const waits: RetryWaits = ctx.limiter?.retryWait?.(ceiling) ?? plainWaits(clock);
  let prevDelayMs = floorMs;
  for (let n = 1; ; n++) {
    throwIfAborted(signal);
    const permit = ctx.limiter ? await ctx.limiter.acquire(ceiling, signal, maxWaitMs) : undefined;
    let failure: FailureClass;
    let verdict: ThrottleVerdict | undefined;
    let hinted: boolean;
    let delayMs: number;
    try {
      const result = await attempt(n, signal);
      permit?.release({ kind: 'success' });
      return result;
    } catch (error) {
      if (signal?.aborted) {
        permit?.release({ kind: 'cancelled' });
        throw error instanceof AbortError ? error : new AbortError(signal.reason);
      }
      failure = policy.classify(error);
      const retrying = failure.retryable && n < total;
      // The delay before the retry, if there is one: the server's hint (capped at maxWait),
      // else decorrelated jitter. The limiter is told it with the outcome.
      hinted = failure.retryAfterMs !== undefined;
      delayMs = !retrying
        ? 0
        : hinted
          ? Math.min(failure.retryAfterMs!, maxWaitMs)
          : decorrelatedJitter(prevDelayMs, floorMs, maxWaitMs, ctx.random);
      // Released before any sleep: a request backing off must not hold a concurrency slot.
      verdict = permit?.release(
        failure.throttle
          ? {
              kind: 'throttled',
              retryAfterMs: failure.retryAfterMs,
              maxWaitMs,
              retryDelayMs: retrying ? delayMs : undefined,
            }
          : { kind: 'failed' },
      );
      if (failure.rateLimited) ctx.events.rateLimited(ctx.host);
      ctx.onFailure?.(failure);
      setAttempts(error, n);
      if (!retrying) throw error;
    }
    prevDelayMs = Math.max(delayMs, floorMs);
    const waitMs = waits.plan(delayMs, { throttle: failure.throttle, hinted, verdict });
    ctx.events.retrying(failure.label, ctx.host, n, total, waitMs / 1000);
    await waits.wait(waitMs, signal);
  }
}

/** Waits without a limiter: every delay runs its length on the clock. */
function plainWaits(clock: Clock): RetryWaits {
  return { plan: (delayMs) => delayMs, wait: (ms, signal) => clock.sleep(ms, signal) };
}

function setAttempts(error: unknown, attempts: number): void {
  if (error && typeof error === 'object' && 'attempts' in error) {
    (error as { attempts: number }).attempts = attempts;
  }
}
