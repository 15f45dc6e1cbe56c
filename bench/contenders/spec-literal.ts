/**
 * The spec's adaptive algorithm exactly as its text reads ("On every retryable response
 * (429, 503, ...) the limiter halves the effective concurrency ... After a streak of
 * consecutive successful requests, it recovers by one slot"), as a {@link LimiterState}
 * for the SDK's `AimdLimiter`. So the benchmark's "spec" contender differs from this SDK
 * in the limiter's decisions only: same retry loop, bulk engine and transport.
 *
 * Literal means: every throttled response halves (8 simultaneous 429s take 8 → 1), the
 * streak is `limit` consecutive successes, there is no pacing and no Retry-After pause.
 */
import type {
  Dispatch,
  LimiterSnapshot,
  LimiterState,
  LimitTransition,
  ThrottleVerdict,
} from '../../src/resilience/limiter-state.js';

/** The spec's AIMD, literally: halve on every throttle, +1 after `limit` consecutive successes. */
export class SpecLiteralState implements LimiterState {
  private limit = 0;
  private streak = 0;
  private throttles = 0;
  private decreases = 0;
  private increases = 0;

  constructor(private readonly notify: (transition: LimitTransition) => void = () => {}) {}

  admit(ceiling: number, held: number): boolean {
    if (this.limit === 0) this.limit = ceiling;
    return held < Math.min(this.limit, ceiling);
  }

  /** No pacing: a slot is all a dispatch needs. */
  sendAt(now: number): number {
    return now;
  }

  /** No Retry-After pause either. */
  readonly pausedUntil = Number.NEGATIVE_INFINITY;

  dispatch(now: number, ceiling: number, inFlight: number): Dispatch {
    return { epoch: 0, sentAt: now, ceiling, inFlight, windowFull: true };
  }

  onSuccess(_now: number, d: Dispatch): void {
    if (this.limit >= d.ceiling) return;
    if (++this.streak < this.limit) return;
    this.streak = 0;
    this.limit += 1;
    this.increases += 1;
    this.notify({
      kind: 'increase',
      before: this.limit - 1,
      after: this.limit,
      ceiling: d.ceiling,
      pacingRate: undefined,
    });
  }

  onThrottle(_now: number, d: Dispatch): ThrottleVerdict {
    this.throttles += 1;
    this.streak = 0;
    const before = this.limit;
    this.limit = Math.max(1, Math.floor(Math.min(this.limit, d.ceiling) / 2));
    if (this.limit === before) return 'congestion';
    this.decreases += 1;
    this.notify({ kind: 'decrease', before, after: this.limit, ceiling: d.ceiling, pacingRate: undefined });
    return 'congestion';
  }

  snapshot(): LimiterSnapshot {
    return {
      limit: this.limit,
      pacingRate: undefined,
      pausedUntil: Number.NEGATIVE_INFINITY,
      throttles: this.throttles,
      congestionEvents: this.throttles,
      decreases: this.decreases,
      increases: this.increases,
      smoothedRttMs: undefined,
      noiseShare: 0,
      restores: 0,
    };
  }
}
