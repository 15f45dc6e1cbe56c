/**
 * The in-process state of one host's adaptive limiter and its decisions: a concurrency
 * limit (AIMD with slow start), dispatch pacing below one request per round trip, the
 * Retry-After pause, and the evidence that tells congestion from throttles that arrive
 * whatever the load. It implements the {@link LimiterState} seam; the queue, the sleeping
 * and the logs are `adaptive.ts`'s.
 */
import type {
  Dispatch,
  LimiterSnapshot,
  LimiterState,
  LimitTransition,
  ThrottleInfo,
  ThrottleVerdict,
  TransitionKind,
} from './limiter-state.js';
import { GcraPacer, type PacerLevel, type PacerOptions } from './pacer.js';
import { ThrottleEvidence, type ThrottleEvidenceOptions } from './throttle-evidence.js';

/** Options of {@link AimdState}. */
export interface AimdStateOptions {
  /** Pacer tuning, or `false` for plain AIMD (no pacing; Retry-After pauses still apply). */
  pacing?: PacerOptions | false | undefined;
  /**
   * Windows of successes a step takes when it reaches or passes the limit at which the
   * last congestion event happened (default 8; 1 = plain AIMD). Below that level a step
   * takes one window. Each probe of that level that fails doubles it (up to 8 times).
   */
  probeWindows?: number | undefined;
  /**
   * Slow start (default `true`): a host with nothing learned starts at one request in
   * flight and grows by one per success (doubling per round trip) until the first
   * congestion event or the call's ceiling. `false`: start at the first call's ceiling.
   * Calls without a ceiling of their own (`Infinity`, single requests) are not held
   * back by it.
   */
  slowStart?: boolean | undefined;
  /**
   * Telling random throttles from congestion (see `throttle-evidence.ts`), or `false` to
   * treat every throttle of a request sent since the last cut as a congestion event (the
   * rule before; what the spec's text describes).
   */
  noise?: ThrottleEvidenceOptions | false | undefined;
  /**
   * A round trip (ms) already known, e.g. learned by other processes: the state then
   * treats the host as one that has answered (no pause for a throttle before the first
   * success) and paces from it at once.
   */
  initialRttMs?: number | undefined;
  /**
   * Keep a throttled request's slot taken until a round trip after it was sent (default
   * `true`; see {@link LimiterState.holdAfterThrottle}). `false`: freed at once, as the
   * spec's algorithm does.
   */
  holdThrottled?: boolean | undefined;
  /** Told of every transition, synchronously. */
  notify?: ((transition: LimitTransition) => void) | undefined;
}

/** Default {@link AimdStateOptions.probeWindows}. */
export const DEFAULT_PROBE_WINDOWS = 8;

/** The slow-start window of a fresh host: one request in flight. */
export const INITIAL_WINDOW = 1;

/** Weight of a new round-trip sample in the smoothed RTT (TCP's 1/8). */
const RTT_GAIN = 1 / 8;

/** Pacing set from the admitted rate goes this far below it (the rate admitted was the limit's). */
const PACE_BELOW_ADMITTED = 0.95;

/**
 * The smallest window whose cut is tried (see `throttle-evidence.ts`). A client with fewer
 * requests in flight is too small a part of what a server sees for its own cut to tell
 * whether throttles are about load; such a client stays cooperative (every cut stands).
 * (Measured in docs/adaptive.md: 2 let clients sharing a limit take each other's
 * throttles for noise; 4 left a client under 25 % random throttles stuck at the floor.)
 */
const MIN_TRIED_WINDOW = 3;

/** Throttles that end slow start. */
const SLOW_START_THROTTLES = 2;

/** The most doublings of the probe wait after failed probes of one level. */
const MAX_PROBE_BACKOFF = 3;

/** What undoing a cut needs. */
interface Level {
  limit: number;
  learned: boolean;
  congestedAt: number | undefined;
  pacer: PacerLevel | undefined;
}

/**
 * In-process AIMD state with pacing:
 * - slow start: the limit starts at one request in flight and grows by one per success
 *   (doubling per round trip) until the first congestion event or the ceiling; that event
 *   halves what was in flight when the throttled request left. (Without slow start the
 *   limit starts at the first call's ceiling and, until an event, follows a higher one up.)
 * - a congestion event cuts the limit once per event: throttles of requests that left
 *   before the last cut are the same event. The cut halves the limit, except where the
 *   level that failed was a probe one step above a level that held: then it goes back to
 *   that level, and the next probe of it waits twice as long;
 * - after `limit` successes of requests that left into a full window (one round trip's
 *   worth) it grows by one, up to the ceiling; a step onto or past the level of the last
 *   congestion event takes `probeWindows` windows instead; failures and cancellations are
 *   neutral and do not break the streak;
 * - pacing (see {@link GcraPacer}) takes over where the limit cannot go lower: it starts
 *   only when an event leaves the limit at its floor of 1;
 * - not every throttle is congestion: each cut is a trial, and a cut that does not lower
 *   the share of throttles is undone, its share becoming the noise floor; throttles within
 *   what that floor explains cut nothing (see {@link ThrottleEvidence});
 * - a Retry-After on a congestion event pauses the host, for no longer than the `maxWait`
 *   of the call that got it.
 */
export class AimdState implements LimiterState {
  private limit = 0;
  private learned = false;
  private epoch = 0;
  private streak = 0;
  private srtt: number | undefined;
  /** The effective limit at the last congestion event; forgotten once the limit passes it. */
  private congestedAt: number | undefined;
  /** The limit before the last increase: where a failed probe of the next step goes back to. */
  private lastGood: number | undefined;
  /** Failed probes of the congestion level in a row (each doubles the next probe's wait). */
  private probeFailures = 0;
  /** Throttles seen in slow start (it ends at the second). */
  private slowStartThrottles = 0;
  /** The most requests in flight when one that succeeded left. */
  private widest = 0;
  private readonly probeWindows: number;
  private readonly slowStart: boolean;
  private readonly holdThrottled: boolean;
  private throttles = 0;
  private congestionEvents = 0;
  private decreases = 0;
  private increases = 0;
  private restores = 0;
  private pauseEnd = Number.NEGATIVE_INFINITY;
  private readonly pacer: GcraPacer | undefined;
  private readonly evidence: ThrottleEvidence<Level> | undefined;
  private readonly notify: (transition: LimitTransition) => void;

  constructor(options: AimdStateOptions = {}) {
    this.pacer = options.pacing === false ? undefined : new GcraPacer(options.pacing ?? {});
    this.evidence = options.noise === false ? undefined : new ThrottleEvidence<Level>(options.noise ?? {});
    this.notify = options.notify ?? (() => {});
    this.probeWindows = options.probeWindows ?? DEFAULT_PROBE_WINDOWS;
    this.slowStart = options.slowStart ?? true;
    this.holdThrottled = options.holdThrottled ?? true;
    if (options.initialRttMs !== undefined) {
      if (!(options.initialRttMs >= 0))
        throw new RangeError(`initialRttMs must be >= 0, got ${options.initialRttMs}`);
      this.srtt = options.initialRttMs;
    }
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
    return this.pacer ? this.pacer.nextSendAt(now) : now;
  }

  get pausedUntil(): number {
    return this.pauseEnd;
  }

  dispatch(now: number, ceiling: number, inFlight: number): Dispatch {
    this.pacer?.recordSend(now);
    this.evidence?.sent();
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
    this.widest = Math.max(this.widest, d.inFlight);
    this.pacer?.recordAdmitted(now);
    // Left before the last cut: it says nothing about the new level.
    if (d.epoch !== this.epoch) return;
    if (this.judge(this.evidence?.record(false), now, d.ceiling)) return;
    if (this.pacer && this.pacer.rate !== undefined) {
      this.pacer.onSuccess(now, this.capacity(d.ceiling), this.rtt());
      if (this.pacer.rate === undefined) this.emit('pacing', this.limit, this.limit, d.ceiling);
    }
    if (this.limit >= d.ceiling) {
      this.streak = 0;
      return;
    }
    // A cut on trial holds its level until the trial is decided: it is what is measured.
    if (this.evidence?.trying) return;
    if (this.inSlowStart()) {
      // One more per success is a doubling per round trip (TCP's slow start). A window
      // less than half used proves nothing about a bigger one (RFC 7661).
      if (d.inFlight * 2 < this.limit) return;
      this.step(d.ceiling);
      return;
    }
    // Only a full window proves the limit could be higher (congestion window validation);
    // a success with slots to spare neither counts nor breaks the streak.
    if (!d.windowFull) return;
    const probing = this.congestedAt !== undefined && this.limit + 1 >= this.congestedAt;
    const windows = probing ? this.probeWindows * 2 ** this.probeFailures : 1;
    if (++this.streak < this.limit * windows) return;
    this.streak = 0;
    this.step(d.ceiling);
    if (this.congestedAt !== undefined && this.limit > this.congestedAt) {
      // The level that failed holds now: probing is over.
      this.congestedAt = undefined;
      this.probeFailures = 0;
    }
  }

  onThrottle(now: number, d: Dispatch, info: ThrottleInfo = {}): ThrottleVerdict {
    this.throttles += 1;
    // No RTT sample: a throttle is often answered at once (a gateway's 429), and taking it
    // in would read the round trip as shorter than the service time.
    if (d.epoch !== this.epoch) {
      // Part of an event already handled: its hint protects the host like the event's.
      this.pause(now, info.retryAfterMs, info.maxWaitMs);
      return 'counted';
    }
    if (this.srtt === undefined) {
      // A host that throttles before it has answered anything gives no level to cut and no
      // round trip to pace by, and answers at once: without a pause every queued request
      // would be sent and refused within milliseconds. Give it the throttled request's own
      // retry delay (jittered, so clients that start together do not come back together),
      // and go on from where it was (slow start continues). A server's Retry-After is
      // honoured whatever `pauseUnanswered` says.
      if (this.pauseUnanswered || info.retryAfterMs !== undefined) {
        this.pause(now, info.retryAfterMs ?? info.retryDelayMs, info.maxWaitMs);
      }
      this.epoch += 1;
      this.congestionEvents += 1;
      return 'congestion';
    }
    const evidence = this.evidence;
    if (evidence) {
      const verdict = evidence.record(true);
      // Undone: the cut did not help, so this throttle is one of the random ones.
      if (this.judge(verdict, now, d.ceiling)) return 'noise';
      if (!evidence.congested()) {
        // Within what chance explains. While a cut is on trial that is not known yet: the
        // request backs off as usual; once a floor is known it need not.
        return evidence.trying ? 'counted' : 'noise';
      }
    }
    const slowStart = this.inSlowStart();
    if (
      slowStart &&
      this.tolerateSlowStartThrottle &&
      d.inFlight >= 2 &&
      ++this.slowStartThrottles < SLOW_START_THROTTLES
    ) {
      // One throttle of a window of several does not end slow start: a window that
      // overshoots a limit draws several at once, while one random throttle would
      // otherwise stop the ramp early. A throttle of a request sent alone does (one at a
      // time was already too many: e.g. other clients hold the limit).
      return 'counted';
    }
    let base = this.effective(d.ceiling);
    // Slow start ends here: halve what was in flight when the throttled request left (the
    // window may have grown since). An unbounded limit (ceiling Infinity) does the same.
    if (slowStart || !Number.isFinite(base)) base = Math.max(1, Math.min(base, d.inFlight));
    // Only a cut of a window of several requests is tried, or a cut of pacing by a client
    // that has had such a window answered before. A client that never got further is a
    // small part of what a server sees: whether its own cut lowered the share tells little
    // (other clients may fill the gap), and taking their throttles for noise would make it
    // the unfair one. A client that had a wide window and fell to pacing may only have been
    // driven there by random throttles, and must be able to find that out.
    // Nor is slow start's exit: its share mixes the windows it grew through (mostly
    // successes at levels far below the one that failed), so a cut that was too small
    // (e.g. 8 → 4 at a cap of 3) would look as if it had not helped.
    const tried =
      this.tryCuts && !slowStart && (this.pacer?.rate === undefined ? base : this.widest) >= MIN_TRIED_WINDOW;
    const saved = tried ? this.level() : undefined;
    this.pause(now, info.retryAfterMs, info.maxWaitMs);
    this.epoch += 1;
    this.congestionEvents += 1;
    this.streak = 0;
    this.learned = true;
    const before = this.limit;
    if (
      !slowStart &&
      this.lastGood !== undefined &&
      base === this.lastGood + 1 &&
      this.congestedAt !== undefined
    ) {
      // A failed probe one step above a level that held: back to it, probe later.
      this.limit = this.lastGood;
      this.probeFailures = Math.min(this.probeFailures + 1, MAX_PROBE_BACKOFF);
    } else {
      this.limit = Math.max(1, Math.floor(base / 2));
      this.probeFailures = 0;
    }
    this.congestedAt = base;
    this.lastGood = undefined;
    const rateBefore = this.pacer?.rate;
    const rtt = this.rtt();
    const admitted = this.pacer?.admittedRate(now, rtt) ?? 0;
    if (
      !slowStart &&
      this.pacer &&
      rateBefore === undefined &&
      this.limit === 1 &&
      admitted > this.capacity(d.ceiling) * 1.05
    ) {
      // Cut to the floor, one request in flight could not carry what the server has been
      // admitting (the limit lies between 1 and 2 in flight per round trip): keep enough
      // requests in flight for that rate and pace just under it instead.
      this.limit = Math.min(base, Math.max(this.limit, Math.ceil((admitted * rtt) / 1000)));
      this.pacer.start(now, PACE_BELOW_ADMITTED * admitted);
    } else {
      const burstRate = (d.inFlight * 1000) / rtt;
      // At the floor the limit has nothing left to give: pacing is the only brake. Above
      // it, pacing does not start (capacity 0): the halved limit is the brake, and a window
      // that looks under-used may only be one whose requests were rejected at once and are
      // asleep in a retry delay. Pacing already on is cut as before.
      // Slow start's exit only halves: pacing waits for an event at the floor that shows
      // one request at a time is still too many.
      const capacity =
        this.limit === 1 && !slowStart
          ? Number.POSITIVE_INFINITY
          : this.pacer?.rate !== undefined
            ? this.capacity(d.ceiling)
            : 0;
      this.pacer?.onCongestion(now, capacity, burstRate, rtt);
    }
    evidence?.cut(saved, this.load(d.ceiling) / Math.max(base * (1000 / rtt), this.load(d.ceiling)));
    if (this.limit !== before) {
      this.decreases += 1;
      this.emit('decrease', before, this.limit, d.ceiling);
    } else if (this.pacer && this.pacer.rate !== rateBefore) {
      this.emit('pacing', before, before, d.ceiling);
    }
    return 'congestion';
  }

  holdAfterThrottle(now: number, d: Dispatch, verdict: ThrottleVerdict): number {
    // A host that has answered nothing yet is paused instead (no round trip to go by); a
    // throttle the noise floor explains says nothing about the load, and its retry will
    // most likely be admitted.
    if (!this.holdThrottled || this.srtt === undefined || verdict === 'noise') return 0;
    return Math.max(0, d.sentAt + this.rtt() - now);
  }

  /**
   * Take what was learned elsewhere (other processes, through a coordinator): a
   * concurrency limit (it ends slow start; a lower one is a cut, so throttles of requests
   * sent before it count as its event), a pause, and a noise floor (the share of throttles
   * that arrive whatever the load; 0 forgets it). Transitions are told as usual.
   */
  adopt(
    level: { limit?: number | undefined; pausedUntil?: number | undefined; noise?: number | undefined },
    ceiling: number,
  ): void {
    if (level.pausedUntil !== undefined) this.pauseEnd = Math.max(this.pauseEnd, level.pausedUntil);
    if (level.noise !== undefined) this.evidence?.adoptFloor(level.noise);
    const limit = level.limit === undefined ? undefined : Math.max(1, Math.floor(level.limit));
    if (limit === undefined || !(limit >= 1)) return;
    const before = this.limit;
    this.learned = true;
    if (limit === before) return;
    this.limit = limit;
    this.streak = 0;
    this.lastGood = undefined;
    if (limit < before) {
      this.epoch += 1;
      this.decreases += 1;
      this.emit('decrease', before, limit, ceiling);
    } else {
      this.increases += 1;
      this.emit('increase', before, limit, ceiling);
    }
  }

  /**
   * Whether this state puts its own cuts on trial (when it tells noise at all: option
   * `noise`). A coordinated state turns it off while its fleet paces: the fleet's trial of
   * its cut is the one that matters, and a process's own, read from its own few requests,
   * took a token bucket's draining burst for noise and let its refusals run unreported.
   */
  tryCuts = true;

  /**
   * Whether a throttle before the host has answered anything pauses the host for the
   * throttled request's retry delay (below). A coordinated state turns it off while its
   * fleet paces: the fleet's schedule already spaces every send, and a fresh process whose
   * first request was refused sat idle for its whole retry delay (a 500-vector job of 170 ms
   * took 0.6-0.9 s, one or several per run of 48 such jobs).
   */
  pauseUnanswered = true;

  /**
   * Whether one throttle of a window of several leaves slow start going (below). A
   * coordinated state turns it off: its fleet's first event is what paces every process.
   */
  tolerateSlowStartThrottle = true;

  /** Whether this state tells throttles that arrive whatever the load from congestion (option `noise`). */
  get tellsNoise(): boolean {
    return this.evidence !== undefined;
  }

  snapshot(): LimiterSnapshot {
    return {
      limit: this.limit,
      pacingRate: this.pacer?.rate,
      pausedUntil: this.pauseEnd,
      throttles: this.throttles,
      congestionEvents: this.congestionEvents,
      decreases: this.decreases,
      increases: this.increases,
      smoothedRttMs: this.srtt,
      noiseShare: this.evidence?.noise ?? 0,
      restores: this.restores,
    };
  }

  /**
   * A server hint protects every dispatch to the host, for no longer than the call that
   * got it would wait (its `maxWait`).
   */
  private pause(now: number, retryAfterMs: number | undefined, maxWaitMs: number | undefined): void {
    if (retryAfterMs === undefined || !(retryAfterMs > 0)) return;
    this.pauseEnd = Math.max(this.pauseEnd, now + Math.min(retryAfterMs, maxWaitMs ?? retryAfterMs));
  }

  /** Act on a trial's verdict; true when a cut was undone (the caller's outcome is spent). */
  private judge(
    verdict: ReturnType<ThrottleEvidence<Level>['record']>,
    now: number,
    ceiling: number,
  ): boolean {
    if (verdict?.verdict !== 'noise') return false;
    const saved = verdict.restore;
    const before = this.limit;
    this.limit = Math.max(this.limit, saved.limit);
    this.learned = saved.learned;
    this.slowStartThrottles = 0;
    this.congestedAt = undefined;
    this.probeFailures = 0;
    this.lastGood = undefined;
    if (this.pacer && saved.pacer) this.pacer.restore(saved.pacer, now);
    // Outcomes of requests sent at the cut level say nothing about the restored one.
    this.epoch += 1;
    this.streak = 0;
    this.restores += 1;
    this.emit('restore', before, this.limit, ceiling);
    return true;
  }

  private level(): Level {
    return {
      limit: this.limit,
      learned: this.learned,
      congestedAt: this.congestedAt,
      pacer: this.pacer?.level(),
    };
  }

  /** One step up (slow start or additive increase). */
  private step(ceiling: number): void {
    const before = this.limit;
    this.lastGood = before;
    this.limit += 1;
    this.increases += 1;
    this.emit('increase', before, this.limit, ceiling);
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

  /** Requests per second this level sends at most: the pacing rate, or limit / round trip. */
  private load(ceiling: number): number {
    return Math.min(this.pacer?.rate ?? Number.POSITIVE_INFINITY, this.capacity(ceiling));
  }

  /** Requests per second the concurrency limit allows: limit / round trip. */
  private capacity(ceiling: number): number {
    return (this.effective(ceiling) * 1000) / this.rtt();
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
