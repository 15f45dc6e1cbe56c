/**
 * Dispatch pacing for one host. A concurrency limit cannot go below one request in
 * flight, i.e. one request per round trip; a server that admits fewer requests per
 * second than that keeps throttling however low the limit goes. The pacer spaces
 * dispatch *times* so the client can go slower than one per round trip.
 *
 * It is GCRA-shaped: each dispatch takes the next send slot, `slot = max(now, tat)`,
 * and the theoretical arrival time of the one after is `tat = slot + 1/rate`. Here `tat`
 * is derived from the last send and the *current* rate, so a rate cut applies to the
 * very next dispatch rather than one slot later.
 *
 * The rate starts unset (no pacing). On a congestion event that the concurrency limit
 * cannot absorb it becomes a fraction of the measured send rate, counted at dispatch
 * (exact and timely, unlike successes, which arrive a round trip late); each later event
 * multiplies it again; while requests succeed it recovers; and it switches off once it
 * exceeds what the concurrency limit allows anyway (then the limit is the tighter brake).
 *
 * A limit that stays put (a rate limit of the server's) shows itself as two events at
 * about the same rate: from then on the rate goes just under that level and holds there,
 * probing above it only every so many round trips; a failed probe goes back to the level
 * instead of cutting the whole way again. Without this a client paced at a bucket's rate
 * saw-toothed between 0.7× and 1× it, one throttle every few requests.
 */

/** Tuning of {@link GcraPacer}. The defaults are the measured ones (docs/adaptive.md). */
export interface PacerOptions {
  /** Rate after a congestion event, as a fraction of the rate it happened at. Default 0.7. */
  decreaseFactor?: number;
  /**
   * Recovery per second of successes, as a fraction of the rate set at the last
   * congestion event (additive: back to the pre-event rate in about 1.4 s after a 0.7
   * cut) and, once past that rate, of the current rate (so a server that got faster is
   * found in seconds, not minutes). Default 0.3.
   */
  recoveryPerSecond?: number;
  /**
   * The fewest successes a full recovery from one cut may take. Caps each success's
   * step, so at low rates (a few requests per second) a cycle still spans this many
   * requests and at most about one in this many is throttled. Default 32.
   */
  recoverySuccesses?: number;
  /**
   * Recovery that every client of a host makes alike: this many requests per round trip
   * are added to the rate per round trip (a rate in req/s grows by `additivePerRtt / RTT`
   * each second). The larger of this and the proportional recovery above applies.
   * Default 0.04.
   */
  additivePerRtt?: number;
  /** Time constant (ms) of the decaying rate meters. Default 1000. */
  meterWindowMs?: number;
  /**
   * The level pacing holds after a second congestion event at about the rate of the one
   * before (within 5 %), as a fraction of that rate. Default 0.95. `false`: every event
   * cuts by `decreaseFactor` (the rule before).
   */
  plateau?: number | false;
  /** Round trips at that level before a probe above it, doubled per failed probe (up to 8×). Default 32. */
  probeRtts?: number;
}

/** Default {@link PacerOptions.decreaseFactor}. */
export const DEFAULT_PACING_DECREASE = 0.7;
/** Default {@link PacerOptions.recoveryPerSecond}. */
export const DEFAULT_PACING_RECOVERY_PER_SECOND = 0.3;
/** Default {@link PacerOptions.recoverySuccesses}. */
export const DEFAULT_PACING_RECOVERY_SUCCESSES = 32;
/** Default {@link PacerOptions.additivePerRtt}. */
export const DEFAULT_PACING_ADDITIVE_PER_RTT = 0.04;
/** Default {@link PacerOptions.meterWindowMs}. */
export const DEFAULT_METER_WINDOW_MS = 1000;
/** Default {@link PacerOptions.plateau}. */
export const DEFAULT_PACING_PLATEAU = 0.95;
/** Default {@link PacerOptions.probeRtts}. */
export const DEFAULT_PACING_PROBE_RTTS = 32;

/** Two congestion events at rates within this ratio of each other are at the same level. */
const SAME_LEVEL = 0.95;
/** The most doublings of the wait before a probe, after failed probes of one level. */
const MAX_PROBE_BACKOFF = 3;

/**
 * Requests per second sent recently: an exponentially decaying count with time constant
 * `windowMs`, normalised by the part of the window the current burst of activity has
 * actually covered (so the first few dispatches are not read as a trickle).
 */
export class SendRateMeter {
  private count = 0;
  private last = Number.NEGATIVE_INFINITY;
  private since = 0;

  constructor(private readonly windowMs: number = DEFAULT_METER_WINDOW_MS) {
    if (!(windowMs > 0)) throw new RangeError(`meter window must be positive, got ${windowMs}`);
  }

  /** Count one dispatch at `now` (ms). */
  record(now: number): void {
    const gap = now - this.last;
    // A gap longer than the window means activity restarted: measure from here, or a
    // burst after an idle spell would be averaged with the silence before it.
    if (gap > this.windowMs) {
      this.count = 0;
      this.since = now;
    } else if (gap > 0) {
      this.count *= Math.exp(-gap / this.windowMs);
    }
    this.count += 1;
    this.last = Math.max(this.last, now);
  }

  /**
   * Requests per second at `now`. `minSpanMs` (at least 1 ms) bounds how short a span a
   * burst is spread over: a burst sent at one instant is read as `count / minSpanMs`.
   */
  rate(now: number, minSpanMs = 1): number {
    if (this.count === 0) return 0;
    const decayed = this.count * Math.exp(-Math.max(0, now - this.last) / this.windowMs);
    const span = Math.max(now - this.since, minSpanMs, 1);
    const covered = this.windowMs * (1 - Math.exp(-span / this.windowMs));
    return (decayed / covered) * 1000;
  }
}

/** A throttle this soon (ms) after pacing was switched off restarts it below where it ended... */
const RESTART_WINDOW_MS = 3000;
/** ...and restarts no higher than this share of the rate it ended at. */
const RESTART_FACTOR = 0.95;

/** A pacer's setting: the rate (`undefined`: not pacing) and its recovery reference. */
export interface PacerLevel {
  rate: number | undefined;
  base?: number | undefined;
}

/** Send-slot scheduler of one host: pacing rate and next slot. */
export class GcraPacer {
  private readonly factor: number;
  private readonly recovery: number;
  private readonly recoverySuccesses: number;
  private readonly additivePerRtt: number;
  /** Dispatches per second: what was sent recently. */
  private readonly sent: SendRateMeter;
  /** Successes per second: what the server admitted recently. */
  private readonly admitted: SendRateMeter;
  private currentRate: number | undefined;
  private lastSend = Number.NEGATIVE_INFINITY;
  /** Rate set at the last congestion event: the additive step is a fraction of it. */
  private base = 0;
  private lastRecovery = 0;
  /** When pacing last switched off (its rate past what the limit carries), and at what capacity. */
  private endedAt = Number.NEGATIVE_INFINITY;
  private endedRate = 0;
  private readonly plateauFactor: number | undefined;
  private readonly probeRtts: number;
  /** The rate the last full cut happened at: a second event near it confirms a level. */
  private peak: number | undefined;
  /** The confirmed level pacing holds (`undefined`: none). */
  private plateau: number | undefined;
  /** When the plateau was taken; failed probes above it in a row (each doubles the wait). */
  private heldSince = 0;
  private probeFailures = 0;

  constructor(options: PacerOptions = {}) {
    this.factor = options.decreaseFactor ?? DEFAULT_PACING_DECREASE;
    this.recovery = options.recoveryPerSecond ?? DEFAULT_PACING_RECOVERY_PER_SECOND;
    this.recoverySuccesses = options.recoverySuccesses ?? DEFAULT_PACING_RECOVERY_SUCCESSES;
    this.additivePerRtt = options.additivePerRtt ?? DEFAULT_PACING_ADDITIVE_PER_RTT;
    if (!(this.additivePerRtt >= 0)) {
      throw new RangeError(`additivePerRtt must be >= 0, got ${this.additivePerRtt}`);
    }
    if (!(this.factor > 0 && this.factor < 1)) {
      throw new RangeError(`decreaseFactor must be in (0, 1), got ${this.factor}`);
    }
    if (!(this.recovery >= 0)) throw new RangeError(`recoveryPerSecond must be >= 0, got ${this.recovery}`);
    if (!(this.recoverySuccesses >= 1)) {
      throw new RangeError(`recoverySuccesses must be >= 1, got ${this.recoverySuccesses}`);
    }
    this.plateauFactor = options.plateau === false ? undefined : (options.plateau ?? DEFAULT_PACING_PLATEAU);
    this.probeRtts = options.probeRtts ?? DEFAULT_PACING_PROBE_RTTS;
    if (this.plateauFactor !== undefined && !(this.plateauFactor > 0 && this.plateauFactor <= 1)) {
      throw new RangeError(`plateau must be in (0, 1] or false, got ${this.plateauFactor}`);
    }
    if (!(this.probeRtts >= 0)) throw new RangeError(`probeRtts must be >= 0, got ${this.probeRtts}`);
    const window = options.meterWindowMs ?? DEFAULT_METER_WINDOW_MS;
    this.sent = new SendRateMeter(window);
    this.admitted = new SendRateMeter(window);
  }

  /** Pacing rate in requests per second, or `undefined` when not pacing. */
  get rate(): number | undefined {
    return this.currentRate;
  }

  /** The rate and its recovery reference, to put back with {@link restore}. */
  level(): PacerLevel {
    return { rate: this.currentRate, base: this.base };
  }

  /**
   * Put back a level from {@link level} (a cut found not to help), or take a rate learned
   * elsewhere (`{ rate }`, e.g. by other processes): recovery starts from `now`.
   */
  restore(level: PacerLevel, now: number): void {
    this.currentRate = level.rate;
    this.base = level.base ?? level.rate ?? 0;
    this.lastRecovery = now;
    this.forgetLevel();
  }

  /** Earliest time (ms) the next dispatch may leave by the pacing slot, never before `now`. */
  nextSendAt(now: number): number {
    if (this.currentRate === undefined) return now;
    return Math.max(now, this.lastSend + 1000 / this.currentRate);
  }

  /** A dispatch left at `now`: it takes the slot and is counted by the send meter. */
  recordSend(now: number): void {
    this.lastSend = Math.max(this.lastSend, now);
    this.sent.record(now);
  }

  /** A request was admitted (answered with success) at `now`. */
  recordAdmitted(now: number): void {
    this.admitted.record(now);
  }

  /** Successes per second recently (req/s); see {@link SendRateMeter.rate}. */
  admittedRate(now: number, minSpanMs?: number): number {
    return this.admitted.rate(now, minSpanMs);
  }

  /**
   * Start pacing (or set the rate) at `rate` req/s; recovery starts from `now`. Pacing that
   * switched off less than {@link RESTART_WINDOW_MS} ago was switched off too soon
   * (the throttle that restarts it proves it): it restarts no higher than
   * {@link RESTART_FACTOR} × the rate it ended at, whatever the admitted rate (measured
   * while a bucket's burst still drained, it can be far above what the limit carries).
   * A deeper restart (0.7×, a full cut) kept one process against a bucket of 60/s at
   * 20 ms at 1.23x the bound in the simulation (its window cut to one request per round
   * trip, under the paced rate, ends pacing at once, and every restart went 30 % under);
   * this one at 1.07-1.08x, and random 429s on 25 % at 3.2x the fault-free time (median
   * of 20 seeds, before the retry rule of retry-wait.ts took it to 3.8x) instead of 4.4x.
   */
  start(now: number, rate: number): void {
    const next =
      now - this.endedAt < RESTART_WINDOW_MS ? Math.min(rate, RESTART_FACTOR * this.endedRate) : rate;
    this.restore({ rate: next, base: next }, now);
  }

  /** The measured send rate (req/s); see {@link SendRateMeter.rate}. */
  measuredRate(now: number, minSpanMs?: number): number {
    return this.sent.rate(now, minSpanMs);
  }

  /**
   * One congestion event. The rate it happened at is the measured send rate, or
   * `burstRate` (the throttled request's own window: in flight ÷ round trip) when higher,
   * since a one-second average smooths away the burst that caused the event; or the
   * pacing rate, when lower. The cut is `decreaseFactor` × that.
   *
   * `capacity` is what the concurrency limit allows (req/s): when the cut rate is not
   * below it, the limit is the tighter brake and pacing stays (or goes) off. When it is,
   * pacing starts or continues; and if the server admitted less than the cut rate
   * meanwhile, the rate goes down to that (at most one more factor): one step to the
   * target instead of several cuts, each of which costs a throttled request.
   *
   * A level (the lower of that rate and the one measured: a window may have kept the send
   * rate under the pacing rate) within 5 % of the last full cut's confirms a limit there:
   * instead of a cut the rate goes to {@link PacerOptions.plateau} × the level and holds
   * (see {@link onSuccess}). A throttle of a probe above a held level goes back to it, and
   * the next probe waits twice as long. Anything else is a full cut and forgets the level.
   */
  onCongestion(now: number, capacity: number, burstRate = 0, minSpanMs?: number): void {
    const sent = this.sent.rate(now, minSpanMs);
    const at = Math.min(this.currentRate ?? Number.POSITIVE_INFINITY, Math.max(sent, burstRate));
    const level = Math.min(at, sent);
    if (this.currentRate !== undefined && this.plateauFactor !== undefined) {
      if (this.plateau !== undefined && this.currentRate > this.plateau && level >= this.plateau) {
        this.hold(now, this.plateau, Math.min(this.probeFailures + 1, MAX_PROBE_BACKOFF));
        return;
      }
      const peak = this.peak;
      if (
        this.plateau === undefined &&
        peak !== undefined &&
        level >= SAME_LEVEL * peak &&
        SAME_LEVEL * level <= peak
      ) {
        this.hold(now, this.plateauFactor * Math.min(level, peak), 0);
        return;
      }
    }
    let next = this.factor * at;
    this.forgetLevel();
    if (!(next > 0) || next >= capacity) {
      this.currentRate = undefined;
      return;
    }
    const admitted = this.admitted.rate(now, minSpanMs);
    if (admitted > 0 && admitted < next) next = Math.max(admitted, this.factor * next);
    this.currentRate = next;
    this.base = next;
    this.lastRecovery = now;
    this.peak = level;
  }

  /** Pace at the confirmed level `rate` from `now` on, `failures` probes above it having failed. */
  private hold(now: number, rate: number, failures: number): void {
    this.currentRate = rate;
    this.plateau = rate;
    this.base = rate;
    this.lastRecovery = now;
    this.heldSince = now;
    this.probeFailures = failures;
  }

  private forgetLevel(): void {
    this.peak = undefined;
    this.plateau = undefined;
    this.probeFailures = 0;
  }

  /**
   * A request succeeded: recover for the time since the last step (see
   * {@link PacerOptions.recoveryPerSecond} and {@link PacerOptions.recoverySuccesses}),
   * then switch off if the rate now exceeds `capacity` (what the concurrency limit
   * allows, req/s): the limit is the tighter brake again. At a held level the rate stays
   * for {@link PacerOptions.probeRtts} round trips (doubled per failed probe) before it
   * recovers above it, as a probe; once it passes the rate of the last full cut by as
   * much as the plateau is under it (÷ 0.95), the limit has moved and the level is forgotten.
   */
  onSuccess(now: number, capacity: number, rttMs: number): void {
    if (this.currentRate === undefined) return;
    // Credit at most a couple of send intervals (and at least a second): an idle spell
    // is not evidence that a faster rate would be admitted.
    const maxCredit = Math.max(1000, 2000 / this.currentRate);
    const dt = Math.min(Math.max(0, now - this.lastRecovery), maxCredit);
    this.lastRecovery = Math.max(this.lastRecovery, now);
    // Additive up to the rate the last event happened at, multiplicative beyond it.
    const reference = this.currentRate > this.base / this.factor ? this.currentRate : this.base;
    const perSecond = (this.recovery * reference * dt) / 1000;
    const perSuccess = (reference * (1 / this.factor - 1)) / this.recoverySuccesses;
    // The same absolute step for every client of a host (a fraction of a request per round
    // trip, per round trip): clients sharing a limit converge to equal rates, which steps
    // proportional to each one's own rate would never make them do (AIMD, not MIMD).
    const additive = (this.additivePerRtt * dt) / Math.max(rttMs, 1);
    const plateau = this.plateau;
    // Counted in round trips, not successes: a client with a small share of a limit held
    // for a fixed count of its own successes waited seconds, and when the clients beside it
    // finished it could not take up the freed rate (8 clients sharing a bucket: 1.16x ->
    // 1.19x the bound over 100 seeds of the simulation; with round trips, 1.17x).
    if (plateau !== undefined && this.currentRate >= plateau) {
      const wait = this.probeRtts * Math.max(rttMs, 1) * 2 ** this.probeFailures;
      if (now - this.heldSince < wait) return;
    }
    this.currentRate += Math.max(additive, Math.min(perSecond, perSuccess));
    const factor = this.plateauFactor;
    if (this.peak !== undefined && factor !== undefined && this.currentRate > this.peak / factor) {
      this.forgetLevel();
    }
    if (this.currentRate > capacity) {
      this.endedAt = now;
      this.endedRate = capacity;
      this.currentRate = undefined;
    }
  }
}
