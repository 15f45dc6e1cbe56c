/**
 * The adaptive limiter's state and its three decisions (acquire, on success, on
 * throttle), kept apart from the queueing in `adaptive.ts` so another implementation
 * (e.g. one that shares the rate and limit between processes through Redis) can replace
 * it without touching the queue, the logs or the retry loop.
 *
 * The decisions are synchronous on purpose: they run on every dispatch and response. A
 * shared implementation keeps a local mirror it decides on and reconciles with the
 * shared store in the background (publishing congestion events, adopting a lower fleet
 * rate), rather than adding a store round trip to every request.
 */
import { GcraPacer, type PacerOptions } from './pacer.js';

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
 * start); `pacing` = pacing switched or was cut.
 */
export type TransitionKind = 'decrease' | 'increase' | 'ceiling' | 'pacing';

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
}

/** The state behind one host's limiter and its decisions. */
export interface LimiterState {
  /**
   * Acquire, first half: may one more request take a slot under `ceiling` with `held`
   * slots taken? The first call fixes the starting limit (1 in slow start, else its ceiling).
   */
  admit(ceiling: number, held: number): boolean;
  /** Acquire, second half: the earliest time (ms) the next dispatch may leave. */
  sendAt(now: number): number;
  /** A dispatch leaves now with `inFlight` requests in flight (itself included). */
  dispatch(now: number, ceiling: number, inFlight: number): Dispatch;
  /** Decision on success. */
  onSuccess(now: number, dispatch: Dispatch): void;
  /** Decision on a throttle (429/503, RESOURCE_EXHAUSTED/UNAVAILABLE). */
  onThrottle(now: number, dispatch: Dispatch, retryAfterMs?: number): void;
  snapshot(): LimiterSnapshot;
}

/** Options of {@link AimdState}. */
export interface AimdStateOptions {
  /** Pacer tuning, or `false` for plain AIMD (no pacing; Retry-After pauses still apply). */
  pacing?: PacerOptions | false | undefined;
  /**
   * Windows of successes a step takes when it reaches or passes the limit at which the
   * last congestion event happened (default 8; 1 = plain AIMD). Below that level a step
   * takes one window.
   */
  probeWindows?: number | undefined;
  /**
   * Slow start (default `true`): a host with nothing learned starts at one request in
   * flight and grows by one per success (doubling per round trip) until the first
   * throttle or the call's ceiling. `false`: start at the first call's ceiling.
   * Calls without a ceiling of their own (`Infinity`, single requests) are not held
   * back by it.
   */
  slowStart?: boolean | undefined;
  /** Told of every transition, synchronously. */
  notify?: ((transition: LimitTransition) => void) | undefined;
}

/** Default {@link AimdStateOptions.probeWindows}. */
export const DEFAULT_PROBE_WINDOWS = 8;

/** The slow-start window of a fresh host: one request in flight. */
export const INITIAL_WINDOW = 1;

/** Weight of a new round-trip sample in the smoothed RTT (TCP's 1/8). */
const RTT_GAIN = 1 / 8;

/**
 * In-process AIMD state with pacing:
 * - slow start: the limit starts at one request in flight and grows by one per success
 *   (doubling per round trip) until the first throttle or the ceiling; the first throttle
 *   halves what was in flight when the throttled request left. (Without slow start the
 *   limit starts at the first call's ceiling and, until a throttle, follows a higher one up.)
 * - a congestion event halves it (never below 1), once per event: throttles of requests
 *   that left before the last decrease are the same event;
 * - after `limit` consecutive successes (one window, as TCP grows by one segment per
 *   round trip) of requests that left into a full window it grows by one, up to the
 *   ceiling; a step onto or past the level of the last congestion event takes
 *   `probeWindows` windows instead; failures and cancellations are neutral and do not
 *   break the streak;
 * - pacing (see {@link GcraPacer}) takes over where the limit cannot go lower: it starts
 *   only when a congestion event leaves the limit at its floor of 1.
 */
export class AimdState implements LimiterState {
  private limit = 0;
  private learned = false;
  private epoch = 0;
  private streak = 0;
  private srtt: number | undefined;
  /** The effective limit at the last congestion event; forgotten once the limit passes it. */
  private congestedAt: number | undefined;
  private readonly probeWindows: number;
  private readonly slowStart: boolean;
  private throttles = 0;
  private congestionEvents = 0;
  private decreases = 0;
  private increases = 0;
  private readonly pacer: GcraPacer | undefined;
  private readonly pauseOnly = new GcraPacer();
  private readonly notify: (transition: LimitTransition) => void;

  constructor(options: AimdStateOptions = {}) {
    this.pacer = options.pacing === false ? undefined : new GcraPacer(options.pacing ?? {});
    this.notify = options.notify ?? (() => {});
    this.probeWindows = options.probeWindows ?? DEFAULT_PROBE_WINDOWS;
    this.slowStart = options.slowStart ?? true;
    if (!(this.probeWindows >= 1))
      throw new RangeError(`probeWindows must be >= 1, got ${this.probeWindows}`);
  }

  admit(ceiling: number, held: number): boolean {
    if (this.limit === 0) {
      this.limit = this.slowStart ? Math.min(INITIAL_WINDOW, ceiling) : ceiling;
    } else if (!this.learned && !this.slowStart && ceiling > this.limit) {
      // Nothing learned yet: the old limit was only an earlier call's cap.
      const before = this.limit;
      this.limit = ceiling;
      this.emit('ceiling', before, ceiling, ceiling);
    }
    return held < this.effective(ceiling);
  }

  sendAt(now: number): number {
    return (this.pacer ?? this.pauseOnly).nextSendAt(now);
  }

  dispatch(now: number, ceiling: number, inFlight: number): Dispatch {
    (this.pacer ?? this.pauseOnly).recordSend(now);
    return {
      epoch: this.epoch,
      sentAt: now,
      ceiling,
      inFlight,
      windowFull: inFlight >= this.effective(ceiling),
    };
  }

  onSuccess(now: number, d: Dispatch): void {
    this.sampleRtt(now - d.sentAt);
    this.pacer?.recordAdmitted(now);
    // Left before the last decrease: it says nothing about the new window.
    if (d.epoch !== this.epoch) return;
    if (this.pacer && this.pacer.rate !== undefined) {
      this.pacer.onSuccess(now, this.capacity(d.ceiling));
      if (this.pacer.rate === undefined) this.emit('pacing', this.limit, this.limit, d.ceiling);
    }
    if (this.limit >= d.ceiling) {
      this.streak = 0;
      return;
    }
    if (this.inSlowStart()) {
      // One more per success is a doubling per round trip (TCP's slow start). A window
      // less than half used proves nothing about a bigger one (RFC 7661).
      if (d.inFlight * 2 < this.limit) return;
      const before = this.limit;
      this.limit += 1;
      this.increases += 1;
      this.emit('increase', before, this.limit, d.ceiling);
      return;
    }
    // Only a full window proves the limit could be higher (congestion window validation);
    // a success with slots to spare neither counts nor breaks the streak.
    if (!d.windowFull) return;
    const probing = this.congestedAt !== undefined && this.limit + 1 >= this.congestedAt;
    if (++this.streak < this.limit * (probing ? this.probeWindows : 1)) return;
    this.streak = 0;
    const before = this.limit;
    this.limit += 1;
    if (this.congestedAt !== undefined && this.limit > this.congestedAt) this.congestedAt = undefined;
    this.increases += 1;
    this.emit('increase', before, this.limit, d.ceiling);
  }

  onThrottle(now: number, d: Dispatch, retryAfterMs?: number): void {
    this.throttles += 1;
    // No RTT sample: a throttle is often answered at once (a gateway's 429), and taking it
    // in would read the round trip as shorter than the service time.
    // A server hint protects every dispatch to the host, whichever event it belongs to.
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      (this.pacer ?? this.pauseOnly).pauseUntil(now + retryAfterMs);
    }
    if (d.epoch !== this.epoch) return;
    this.epoch += 1;
    this.congestionEvents += 1;
    this.streak = 0;
    const slowStart = this.inSlowStart();
    this.learned = true;
    const before = this.limit;
    let base = this.effective(d.ceiling);
    // Slow start ends here: halve what was in flight when the throttled request left (the
    // window may have grown since). An unbounded limit (ceiling Infinity) does the same.
    if (slowStart || !Number.isFinite(base)) base = Math.max(1, Math.min(base, d.inFlight));
    this.congestedAt = base;
    this.limit = Math.max(1, Math.floor(base / 2));
    const rateBefore = this.pacer?.rate;
    // Before any success, the throttled request's own round trip stands in for the RTT.
    const rtt = Math.max(this.srtt ?? now - d.sentAt, 1);
    const burstRate = (d.inFlight * 1000) / rtt;
    // At the floor the limit has nothing left to give: pacing is the only brake. Above it,
    // pacing does not start (capacity 0): the halved limit is the brake, and a window that
    // looks under-used may only be one whose requests were rejected at once and are asleep
    // in a retry delay. Pacing already on is cut as before.
    const capacity =
      this.limit === 1
        ? Number.POSITIVE_INFINITY
        : this.pacer?.rate !== undefined
          ? this.capacity(d.ceiling)
          : 0;
    this.pacer?.onCongestion(now, capacity, burstRate, rtt);
    if (this.limit !== before) {
      this.decreases += 1;
      this.emit('decrease', before, this.limit, d.ceiling);
    } else if (this.pacer && this.pacer.rate !== rateBefore) {
      this.emit('pacing', before, before, d.ceiling);
    }
  }

  snapshot(): LimiterSnapshot {
    return {
      limit: this.limit,
      pacingRate: this.pacer?.rate,
      pausedUntil: (this.pacer ?? this.pauseOnly).pausedUntil,
      throttles: this.throttles,
      congestionEvents: this.congestionEvents,
      decreases: this.decreases,
      increases: this.increases,
      smoothedRttMs: this.srtt,
    };
  }

  /** In slow start: nothing learned yet (the window grows by one per success). */
  private inSlowStart(): boolean {
    return this.slowStart && !this.learned;
  }

  /** The limit a call with `ceiling` works under; a call without a ceiling skips slow start. */
  private effective(ceiling: number): number {
    if (this.inSlowStart() && !Number.isFinite(ceiling)) return ceiling;
    return Math.min(this.limit, ceiling);
  }

  /** Requests per second the concurrency limit allows: limit / round trip. */
  private capacity(ceiling: number): number {
    return (Math.min(this.limit, ceiling) * 1000) / this.rtt();
  }

  /** The smoothed round trip in ms, at least 1 (a clock that never moves reads as 1 ms). */
  private rtt(): number {
    return Math.max(this.srtt ?? 0, 1);
  }

  private sampleRtt(ms: number): void {
    if (!(ms >= 0)) return;
    this.srtt = this.srtt === undefined ? ms : this.srtt + RTT_GAIN * (ms - this.srtt);
  }

  private emit(kind: TransitionKind, before: number, after: number, ceiling: number): void {
    this.notify({ kind, before, after, ceiling, pacingRate: this.pacer?.rate });
  }
}
