/**
 * The small interface between the retry loop and whatever decides how many requests may
 * be in flight to a host and when the next may leave (the adaptive limiter). The retry
 * loop knows only this; the limiter's state and decisions stay behind it so they can be
 * swapped (e.g. for one coordinated across processes).
 */

/** What comes with a throttle besides the dispatch it answers. Times in ms. */
export interface ThrottleInfo {
  /** The server's hint (Retry-After), if any. */
  retryAfterMs?: number | undefined;
  /** The patience of the call that got it (`maxWait`): a host pause it starts is never longer. */
  maxWaitMs?: number | undefined;
  /** The delay the throttled request will wait before its retry: how long a fresh host is given. */
  retryDelayMs?: number | undefined;
}

/** How an attempt that held a permit ended. */
export type AttemptOutcome =
  /** 2xx / OK. */
  | { kind: 'success' }
  /** Throttling: HTTP 429 or 503, gRPC RESOURCE_EXHAUSTED or UNAVAILABLE. */
  | ({ kind: 'throttled' } & ThrottleInfo)
  /** Any other failure (network error, other 5xx, 4xx): says nothing about congestion. */
  | { kind: 'failed' }
  /** The caller aborted. */
  | { kind: 'cancelled' };

/**
 * What a throttle meant to the limiter: `congestion` (it cut the level), `noise` (within
 * what throttles arriving whatever the load explain: nothing was cut and the request need
 * not back off), `counted` (part of an event already handled, or still being judged).
 */
export type ThrottleVerdict = 'congestion' | 'noise' | 'counted';

/** How a failed attempt bears on the wait before the next. */
export interface RetryCause {
  /** A throttle (429/503, RESOURCE_EXHAUSTED/UNAVAILABLE). */
  throttle: boolean;
  /** The delay is the server's hint. */
  hinted: boolean;
  /** What the limiter made of the throttle, if it was one and a limiter saw it. */
  verdict?: ThrottleVerdict | undefined;
}

/** The waits between one call's attempts (one per call: it may remember its early retries). */
export interface RetryWaits {
  /** The delay (ms) the next attempt waits, given the spec's `delayMs` and what failed. */
  plan(delayMs: number, cause: RetryCause): number;
  /** Wait out the planned delay; rejects with an `AbortError` if the signal fires. */
  wait(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Leave to send one attempt. Release exactly once. */
export interface Permit {
  /** Report how the attempt ended; for a throttle, what it meant (`undefined`: congestion). */
  release(outcome: AttemptOutcome): ThrottleVerdict | undefined;
}

/** Gate for one host: acquire before each attempt (retries included), release after. */
export interface HostLimiter {
  /**
   * Wait for leave to send: a free slot under `min(limit, ceiling)` and, when pacing is
   * active, the next send slot; a Retry-After pause of the host holds it for at most
   * `maxWaitMs` (the call's patience). Rejects with an `AbortError` if the signal fires first.
   */
  acquire(ceiling: number, signal?: AbortSignal, maxWaitMs?: number): Promise<Permit>;
  /** The adaptive limit now. */
  readonly limit: number;
  /** Permits held now. */
  readonly inFlight: number;
  /** Throttled outcomes seen over the limiter's life (progress reports count from a call's start). */
  readonly throttles: number;
  /** Acquirers waiting for a permit, when the implementation tracks them. */
  readonly queued?: number;
  /** Be told when limit, in-flight or queue may have changed; returns an unsubscribe function. */
  onChange?(listener: () => void): () => void;
  /**
   * The waits between the attempts of one call with `ceiling` (see `retry-wait.ts`).
   * Without it the retry loop sleeps each delay on its clock.
   */
  retryWait?(ceiling: number): RetryWaits;
  /** Retry delays being slept out through `retryWait` now, when the implementation tracks them. */
  readonly sleeping?: number;
}

/** Hands out one {@link HostLimiter} per host. */
export interface LimiterRegistry {
  get(host: string): HostLimiter;
  /** Drop every limiter, releasing what their states hold (the client's `close()` calls it). */
  close?(): void;
}
