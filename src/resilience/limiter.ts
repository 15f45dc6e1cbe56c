/**
 * The small interface between the retry loop and whatever decides how many requests may
 * be in flight to a host and when the next may leave (the adaptive limiter). The retry
 * loop knows only this; the limiter's state and decisions stay behind it so they can be
 * swapped (e.g. for one coordinated across processes).
 */

/** How an attempt that held a permit ended. */
export type AttemptOutcome =
  /** 2xx / OK. */
  | { kind: 'success' }
  /** Throttling: HTTP 429 or 503, gRPC RESOURCE_EXHAUSTED or UNAVAILABLE. */
  | { kind: 'throttled'; retryAfterMs?: number | undefined }
  /** Any other failure (network error, other 5xx, 4xx): says nothing about congestion. */
  | { kind: 'failed' }
  /** The caller aborted. */
  | { kind: 'cancelled' };

/** Leave to send one attempt. Release exactly once. */
export interface Permit {
  release(outcome: AttemptOutcome): void;
}

/** Gate for one host: acquire before each attempt (retries included), release after. */
export interface HostLimiter {
  /**
   * Wait for leave to send: a free slot under `min(limit, ceiling)` and, when pacing is
   * active, the next send slot. Rejects with an `AbortError` if the signal fires first.
   */
  acquire(ceiling: number, signal?: AbortSignal): Promise<Permit>;
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
   * Sleep out a retry's backoff delay (ms) for a call with `ceiling`; the limiter may end
   * it early (resolving `true`) when the host has run dry. Rejects with an `AbortError`
   * if the signal fires. Without it the retry loop sleeps on its clock.
   */
  backoff?(ms: number, ceiling: number, signal?: AbortSignal): Promise<boolean>;
  /** Retry delays being slept out through `backoff` now, when the implementation tracks them. */
  readonly sleeping?: number;
}

/** Hands out one {@link HostLimiter} per host. */
export interface LimiterRegistry {
  get(host: string): HostLimiter;
}
