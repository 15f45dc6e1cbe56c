/**
 * The seam between the adaptive limiter's queue (`adaptive.ts`) and its state: the state's
 * three decisions (acquire, on success, on throttle) and what it reports, so another
 * implementation (e.g. one that shares the rate and limit between processes through
 * Redis) can replace the in-process one (`aimd-state.ts`) without touching the queue, the
 * logs or the retry loop.
 *
 * The decisions are synchronous on purpose: they run on every dispatch and response. A
 * shared implementation keeps a local mirror it decides on and reconciles with the
 * shared store in the background (publishing congestion events, adopting a lower fleet
 * rate), rather than adding a store round trip to every request.
 */
import type { ThrottleInfo, ThrottleVerdict } from './limiter.js';

export type { ThrottleInfo, ThrottleVerdict };

/** What the state remembers about one dispatch; handed back with its outcome. */
export interface Dispatch {
  /** Congestion epoch when it left; an outcome from an older epoch belongs to an event already handled. */
  readonly epoch: number;
  /** When it left (clock ms). */
  readonly sentAt: number;
  /** The ceiling (`maxConcurrency`) of the call it belongs to. */
  readonly ceiling: number;
  /** Requests in flight when it left, itself included. */
  readonly inFlight: number;
  /** Whether that filled the window (`inFlight >= min(limit, ceiling)`). */
  readonly windowFull: boolean;
}

/**
 * What changed: `ceiling` = an unlearned limit followed a higher ceiling (only without slow
 * start); `pacing` = pacing switched or was cut; `restore` = a cut undone because it did
 * not lower the share of throttles (they arrive whatever the load).
 */
export type TransitionKind = 'decrease' | 'increase' | 'ceiling' | 'pacing' | 'restore';

/** One change of the limit or of pacing. */
export interface LimitTransition {
  kind: TransitionKind;
  /** The limit before and after (equal for `pacing`). */
  before: number;
  after: number;
  /** Ceiling of the call whose outcome caused it. */
  ceiling: number;
  /** Pacing rate after (req/s), `undefined` when not pacing. */
  pacingRate: number | undefined;
}

/** Counters and settings, read-only, for progress bars and telemetry. */
export interface LimiterSnapshot {
  /**
   * The concurrency limit; 0 before the first acquire. Until the first throttle it is the
   * slow-start window (from 1, doubling per round trip of successes up to the ceiling).
   * Without slow start it starts at the first ceiling (`Infinity` if that was).
   */
  limit: number;
  /** Pacing rate (req/s), `undefined` when not pacing. */
  pacingRate: number | undefined;
  /** End of the Retry-After pause (clock ms); in the past when none. */
  pausedUntil: number;
  /** Throttled responses seen. */
  throttles: number;
  /** Congestion events: throttles that counted (one per event, not per response). */
  congestionEvents: number;
  /** Times the limit went down / up. */
  decreases: number;
  increases: number;
  /** Smoothed round-trip time (ms) of successful attempts, `undefined` before the first. */
  smoothedRttMs: number | undefined;
  /** Share of throttles taken to arrive whatever the load (0 until a cut was found not to help). */
  noiseShare: number;
  /** Cuts undone because they did not lower the share of throttles. */
  restores: number;
}

/** The state behind one host's limiter and its decisions. */
export interface LimiterState {
  /**
   * Acquire, first half: may one more request take a slot under `ceiling` with `held`
   * slots taken? The first call fixes the starting limit (1 in slow start, else its ceiling).
   */
  admit(ceiling: number, held: number): boolean;
  /** Acquire, second half: the earliest time (ms) the next dispatch may leave by pacing. */
  sendAt(now: number): number;
  /** End (clock ms) of the Retry-After pause of the host; in the past when none. */
  readonly pausedUntil: number;
  /** A dispatch leaves now with `inFlight` requests in flight (itself included). */
  dispatch(now: number, ceiling: number, inFlight: number): Dispatch;
  /** Decision on success. */
  onSuccess(now: number, dispatch: Dispatch): void;
  /**
   * Decision on a throttle (429/503, RESOURCE_EXHAUSTED/UNAVAILABLE), with the server's
   * hint and the call's retry settings. Returns what the throttle meant (`undefined` =
   * congestion).
   */
  onThrottle(now: number, dispatch: Dispatch, info?: ThrottleInfo): ThrottleVerdict | undefined;
  /**
   * After {@link onThrottle}: how long (ms from `now`) the throttled request's slot stays
   * taken. A rejection answered at once would otherwise free its slot at once, and a queue
   * behind it would be sent into the same rejection as fast as the server can answer: a
   * concurrency limit only bounds the rate (limit ÷ round trip) if every request holds its
   * slot for about a round trip. Absent or 0: freed at once. `verdict`: what
   * {@link onThrottle} answered.
   */
  holdAfterThrottle?(now: number, dispatch: Dispatch, verdict: ThrottleVerdict): number;
  snapshot(): LimiterSnapshot;
  /** The host's limiter is being dropped (registry eviction, client close): release what is held. */
  dispose?(): void;
}
