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
   */
  onCongestion(now: number, capacity: number, burstRate = 0, minSpanMs?: number): void {
    const at = Math.min(
      this.currentRate ?? Number.POSITIVE_INFINITY,
      Math.max(this.sent.rate(now, minSpanMs), burstRate),
    );
    let next = this.factor * at;
    if (!(next > 0) || next >= capacity) {
      this.currentRate = undefined;
      return;
    }
    const admitted = this.admitted.rate(now, minSpanMs);
    if (admitted > 0 && admitted < next) next = Math.max(admitted, this.factor * next);
    this.currentRate = next;
    this.base = next;
    this.lastRecovery = now;
  }

  /**
   * A request succeeded: recover for the time since the last step (see
   * {@link PacerOptions.recoveryPerSecond} and {@link PacerOptions.recoverySuccesses}),
   * then switch off if the rate now exceeds `capacity` (what the concurrency limit
   * allows, req/s): the limit is the tighter brake again.
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
    this.currentRate += Math.max(additive, Math.min(perSecond, perSuccess));
    if (this.currentRate > capacity) {
      this.endedAt = now;
      this.endedRate = capacity;
      this.currentRate = undefined;
    }
  }
}
