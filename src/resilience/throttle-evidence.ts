/**
 * Whether throttles are about our load (congestion) or arrive whatever the load (noise:
 * a shared, noisy project; a proxy shedding at random). Only an experiment can tell: a
 * load-dependent limit (token bucket, in-flight cap) stops throttling once the client goes
 * below it, while a fixed share of random throttles stays the same at any rate. So every
 * cut is a trial: if throttles go on at about the share they had before the cut, the cut
 * did not help, the level before it is restored and the share becomes the noise floor;
 * from then on only throttles beyond what that floor explains count as congestion.
 *
 * The evidence is counted per dispatch at the current level (reset at every cut), decayed
 * so that it reflects the last few dozen dispatches, and compared with the noise floor by a
 * binomial bound.
 */

/** Tuning of {@link ThrottleEvidence}. The defaults are the measured ones (docs/adaptive.md). */
export interface ThrottleEvidenceOptions {
  /** Dispatches the decayed counts reflect (default 64). */
  horizon?: number;
  /** Standard deviations above the noise floor before throttles count as congestion (default 2.5). */
  z?: number;
  /** Throttles after a cut that decide a trial (default 3). */
  trialThrottles?: number;
  /**
   * Dispatches after a cut without that many throttles that decide it was congestion
   * (default 64; twice that when some throttles came). Sooner when the throttles are far
   * fewer than the share before the cut would draw: none in `3 / share before`
   * dispatches, one in `6.6 /`, two in `8.4 /`.
   */
  trialOutcomes?: number;
  /**
   * A trial finds noise when the share after the cut fell by less than `1 - sameShare` of
   * what a load-dependent limit predicts (`1 - (1 - before) / cut`); default 0.7. A cut
   * that helps drives a load-dependent share to that prediction, near zero.
   */
  sameShare?: number;
  /**
   * A share at or above this (with at least 2 throttles at the level) is congestion
   * whatever the floor: its cut is not tried, and during a trial it cuts again (default 0.5).
   */
  heavyShare?: number;
  /**
   * A trial finds noise only if the share after the cut is at most this many binomial
   * standard deviations above the share before it (default 3).
   */
  riseZ?: number;
}

/** Default {@link ThrottleEvidenceOptions}. */
export const DEFAULT_THROTTLE_EVIDENCE: Required<ThrottleEvidenceOptions> = {
  horizon: 64,
  z: 2.5,
  trialThrottles: 3,
  trialOutcomes: 64,
  sameShare: 0.7,
  heavyShare: 0.5,
  riseZ: 3,
};

/** How a trial ended. */
export type TrialVerdict<S> = { verdict: 'noise'; restore: S; noise: number } | { verdict: 'congestion' };

interface Trial<S> {
  saved: S;
  /** The share that led to the cut. */
  before: number;
  /** The load after the cut ÷ the load before (all cuts of the trial together). */
  factor: number;
}

/** The fewest outcomes after a cut that may decide its trial. */
const MIN_TRIAL_OUTCOMES = 16;

/** A trial whose cut lowered the load by less than this (after ÷ before) proves nothing. */
const LEAST_CUT = 0.85;

/**
 * The throttle evidence of one host: decayed counts at the current level, the noise floor,
 * and the trial of the last cut. `S` is whatever the caller needs to undo a cut.
 */
export class ThrottleEvidence<S> {
  readonly #o: Required<ThrottleEvidenceOptions>;
  readonly #decay: number;
  #n = 0;
  #t = 0;
  /** Outcomes and throttles at the current level (not decayed). */
  #levelN = 0;
  #levelT = 0;

  /** Throttles and outcomes since the trial began (not decayed). */
  #trialN = 0;
  #trialT = 0;
  #noise = 0;
  #trial: Trial<S> | undefined;

  constructor(options: ThrottleEvidenceOptions = {}) {
    this.#o = { ...DEFAULT_THROTTLE_EVIDENCE, ...options };
    const o = this.#o;
    if (!(o.horizon >= 1)) throw new RangeError(`horizon must be >= 1, got ${o.horizon}`);
    if (!(o.sameShare > 0 && o.sameShare <= 1))
      throw new RangeError(`sameShare must be in (0, 1], got ${o.sameShare}`);
    if (!(o.heavyShare > 0 && o.heavyShare <= 1)) {
      throw new RangeError(`heavyShare must be in (0, 1], got ${o.heavyShare}`);
    }
    this.#decay = 1 - 1 / o.horizon;
  }

  /** The estimated share of throttles that arrive whatever the load (0 until a trial finds some). */
  get noise(): number {
    return this.#noise;
  }

  /**
   * Take a noise floor learned elsewhere (a fleet's trial, through a coordinator); 0
   * forgets the floor. A trial running here goes on.
   */
  adoptFloor(noise: number): void {
    if (!(noise >= 0 && noise < 1)) throw new RangeError(`noise must be in [0, 1), got ${noise}`);
    this.#noise = noise;
  }

  /** Whether a cut is on trial. */
  get trying(): boolean {
    return this.#trial !== undefined;
  }

  /** The share of throttles at this level (decayed), 0 before any outcome. */
  get share(): number {
    return this.#n > 0 ? this.#t / this.#n : 0;
  }

  /**
   * A dispatch left at the current level. Shares are counted per dispatch, not per answer:
   * a throttle is answered at once and a success a round trip later, so counting answers
   * would read a level's first moments as all throttles. A request still in flight is
   * counted as not throttled, which it nearly always turns out to be.
   */
  sent(): void {
    this.#n = this.#n * this.#decay + 1;
    this.#t *= this.#decay;
    this.#levelN += 1;
    if (this.#trial) this.#trialN += 1;
  }

  /**
   * A dispatch made at the current level was answered (`throttled` or not). Returns a
   * trial's verdict when this answer decides it.
   */
  record(throttled: boolean): TrialVerdict<S> | undefined {
    if (throttled) {
      this.#t += 1;
      this.#levelT += 1;
    }
    if (!this.#trial) {
      // With no trial running, a floor that is too high sinks towards what is seen.
      if (!throttled && this.#noise > 0 && this.#n >= this.#o.horizon / 2 && this.share < this.#noise) {
        this.#noise += (this.share - this.#noise) / (4 * this.#o.horizon);
      }
      return undefined;
    }
    if (throttled) this.#trialT += 1;
    return this.#judge();
  }

  /**
   * Does the throttle just recorded make the share more than noise explains? With no floor
   * learned, any throttle does. During a trial only a heavy share does.
   */
  congested(): boolean {
    // During a trial only a heavy share cuts again: the share before the cut is known
    // from few outcomes, and cutting on each throttle would never let the trial end.
    if (this.#trial) return this.#levelT >= 2 && this.share >= this.#o.heavyShare;
    return this.#t > allowance(this.#n, this.#noise, this.#o.z);
  }

  /**
   * A cut to `factor` × the load was made on the current evidence: start counting afresh
   * at the new level and, unless the share was heavy (only congestion explains it), a
   * trial is already running (it keeps the level before the first cut, and the factors
   * multiply) or `saved` is `undefined` (the caller does not want this cut tried), put
   * the cut on trial with `saved` (what undoing it needs).
   */
  cut(saved: S | undefined, factor: number): void {
    const before = this.share;
    const heavy = before >= this.#o.heavyShare && this.#levelT >= 2;
    // A heavy share where a noise floor is known is far beyond what that floor explains
    // (the cut needed the z bound passed, and random throttles at a floor's share almost
    // never reach half a window): the trial that taught the floor misled (e.g. a bucket's
    // burst diluted its share before the cut). Kept, it let the pacer recover until a
    // third of all requests were refused. Forget it; the next cut is a trial again and
    // learns the floor anew if there is one.
    if (heavy) this.#noise = 0;
    if (this.#trial) this.#trial.factor *= factor;
    else if (saved !== undefined && !heavy) this.#trial = { saved, before, factor };
    // A trial judges the latest level: a second cut restarts its count, not its saved level.
    this.#trialN = 0;
    this.#trialT = 0;
    this.#newLevel();
  }

  /** Forget the trial and the counts (e.g. when the level was set from outside). */
  reset(): void {
    this.#trial = undefined;
    this.#newLevel();
  }

  #newLevel(): void {
    this.#n = 0;
    this.#t = 0;
    this.#levelN = 0;
    this.#levelT = 0;
  }

  #judge(): TrialVerdict<S> | undefined {
    const trial = this.#trial!;
    const o = this.#o;
    if (this.#trialT >= o.trialThrottles && this.#trialN >= MIN_TRIAL_OUTCOMES) {
      this.#trial = undefined;
      const after = this.#trialT / this.#trialN;
      // The share a load-dependent limit would show after the cut: the share of a limit of
      // R at load r is 1 - R / r.
      if (!(trial.factor < LEAST_CUT)) return { verdict: 'congestion' };
      const ifLimit = Math.max(0, 1 - (1 - trial.before) / trial.factor);
      // Nor, for noise, may it have risen far above the share before: random throttles keep
      // their share, while a limit that was still being reached when the cut was made
      // (e.g. a token bucket's burst draining: the share before it mostly successes) throws
      // its steady share at the lower level. Taking that for the noise floor would pass a
      // load-dependent share off as noise for good.
      const n = this.#trialN;
      const most = trial.before + (o.riseZ * Math.sqrt(n * trial.before * (1 - trial.before))) / n;
      if (after >= ifLimit + o.sameShare * (trial.before - ifLimit) && after <= most) {
        // The share fell far less than a limit's would: not about our load.
        this.#noise = after;
        this.#newLevel();
        return { verdict: 'noise', restore: trial.saved, noise: after };
      }
      return { verdict: 'congestion' };
    }
    // Far fewer throttles than the share before the cut would have drawn: none where that
    // share draws none once in 20 (the quick verdict for a limit the cut got under), one
    // or two where it draws that few once in 100; or the cap, twice as far when some
    // throttles came. Before, any trial with fewer than 3 throttles in 64 dispatches was
    // congestion: at a random 5 % that is 37 % of trials, each one a cut that stood and
    // a client that could fall to the floor before it learned the noise (5 of 20 seeds
    // over 3x the fault-free time in the simulation; now 2).
    const expected = this.#trialN * trial.before;
    const fewer =
      this.#trialN >= 8 &&
      poissonAtMost(this.#trialT, expected) < (this.#trialT === 0 ? QUIET_ODDS : FEWER_ODDS);
    const cap = this.#trialT === 0 ? o.trialOutcomes : 2 * o.trialOutcomes;
    if (fewer || this.#trialN >= cap) {
      this.#trial = undefined;
      return { verdict: 'congestion' };
    }
    return undefined;
  }
}

/** Odds below which "fewer throttles than the share before draws" ends a trial (see #judge). */
const FEWER_ODDS = 0.01;
/** The same for no throttle at all (the rule before: none in `3 / share before` dispatches). */
const QUIET_ODDS = 0.05;

/** P(X <= k) for X Poisson with mean `mu`. */
function poissonAtMost(k: number, mu: number): number {
  let term = Math.exp(-mu);
  let sum = term;
  for (let i = 1; i <= k; i++) {
    term *= mu / i;
    sum += term;
  }
  return sum;
}

/**
 * The most throttles among `n` outcomes (a decayed count) that a share `p` of random ones
 * explains: the mean plus `z` standard deviations plus one. With no floor (`p = 0`) none.
 */
export function allowance(n: number, p: number, z: number = DEFAULT_THROTTLE_EVIDENCE.z): number {
  if (!(p > 0)) return 0;
  return n * p + z * Math.sqrt(n * p * (1 - p)) + 1;
}
