/**
 * ThrottleEvidence's trials: a cut whose share of throttles stays about the same is noise
 * (the level comes back and the share becomes the floor); one whose share falls as a limit
 * predicts, or rises far above the share before it, is congestion.
 */
import { describe, expect, it } from 'vitest';
import { ThrottleEvidence } from '../../src/resilience/throttle-evidence.js';

/** `n` dispatches answered in order; `throttledAt(i)` says which were throttled. Returns the verdicts. */
function answer(e: ThrottleEvidence<string>, n: number, throttledAt: (i: number) => boolean) {
  const verdicts = [];
  for (let i = 0; i < n; i++) {
    e.sent();
    const v = e.record(throttledAt(i));
    if (v) verdicts.push(v);
  }
  return verdicts;
}

describe('ThrottleEvidence trials', () => {
  it('finds noise when a halving leaves the share where it was; the level comes back', () => {
    const e = new ThrottleEvidence<string>();
    answer(e, 40, (i) => i % 8 === 7); // 1 in 8 before the cut
    e.cut('level before', 0.5);
    const verdicts = answer(e, 40, (i) => i % 8 === 7); // 1 in 8 after it
    expect(verdicts).toEqual([
      { verdict: 'noise', restore: 'level before', noise: expect.closeTo(0.125, 1) },
    ]);
    expect(e.noise).toBeGreaterThan(0.1);
  });

  it('finds congestion when the share falls as a limit would have it fall', () => {
    const light = new ThrottleEvidence<string>();
    answer(light, 40, (i) => i % 3 === 2); // a third
    light.cut('level before', 0.5);
    expect(answer(light, 64, () => false)).toEqual([{ verdict: 'congestion' }]);
    expect(light.noise).toBe(0);
  });

  it('finds congestion, not noise, when the share rose far above the share before the cut', () => {
    // A token bucket's burst drained while the limit was being reached: 1 throttle in 40
    // before the cut, then the lower level, still above the bucket's rate, draws its
    // steady share of 1 in 4. The rule before took this for noise (1/4 is more than
    // 0.7 × 1/40) and set a floor of 25 %, under which a load-dependent share passed for
    // noise from then on.
    const e = new ThrottleEvidence<string>();
    answer(e, 40, (i) => i === 39);
    e.cut('level before', 0.75);
    const verdicts = answer(e, 16, (i) => i % 4 === 3);
    expect(verdicts).toEqual([{ verdict: 'congestion' }]);
    expect(e.noise).toBe(0);
  });
});

describe('ThrottleEvidence noise floor', () => {
  it('forgets a floor when a share far beyond it cuts: the trial that taught it misled', () => {
    // A bucket's burst: 1 in 8 throttled before a cut and after it, so the trial takes
    // the share for noise (floor 1/8). Then the level restored draws over half (the
    // bucket's steady share at that level). The rule before kept the floor, and each
    // later cut needed the share past what 1/8 explains: a third of requests refused
    // against a bucket of 60/s, and a batch at times spent all its attempts.
    const e = new ThrottleEvidence<string>();
    answer(e, 40, (i) => i % 8 === 7);
    e.cut('level before', 0.5);
    answer(e, 40, (i) => i % 8 === 7);
    expect(e.noise).toBeGreaterThan(0.1);
    answer(e, 32, (i) => i % 3 !== 0);
    expect(e.congested()).toBe(true);
    e.cut('restored level', 0.5);
    expect(e.noise).toBe(0);
  });

  it('keeps the floor when the share that cuts is not heavy', () => {
    const e = new ThrottleEvidence<string>();
    answer(e, 40, (i) => i % 8 === 7);
    e.cut('level before', 0.5);
    answer(e, 40, (i) => i % 8 === 7);
    const floor = e.noise;
    // A third: past what 1/8 explains over 64 dispatches, short of half.
    answer(e, 64, (i) => i % 3 === 2);
    expect(e.congested()).toBe(true);
    e.cut('restored level', 0.5);
    expect(e.noise).toBe(floor);
  });
});

describe('ThrottleEvidence trials at a low random share', () => {
  it('does not take a few quiet dozen dispatches at a random 5 % for a cut that helped', () => {
    // 1 in 20 before the cut and after it. 64 dispatches at 5 % hold fewer than 3
    // throttles more than a third of the time; the rule before ended the trial there as
    // congestion. Now it waits for the third throttle, and the share kept is noise.
    const e = new ThrottleEvidence<string>();
    answer(e, 60, (i) => i % 20 === 9);
    const before = e.share;
    e.cut('level before', 0.5);
    const verdicts = answer(e, 80, (i) => i === 20 || i === 50 || i === 66);
    expect(verdicts).toEqual([
      { verdict: 'noise', restore: 'level before', noise: expect.closeTo(3 / 67, 2) },
    ]);
    expect(before).toBeCloseTo(0.05, 1);
  });

  it('still ends a trial as congestion when the throttles all but stopped', () => {
    const e = new ThrottleEvidence<string>();
    answer(e, 40, (i) => i % 5 === 4); // a fifth
    e.cut('level before', 0.5);
    // One throttle, then none: a fifth would have drawn six or seven by 33 dispatches.
    const verdicts = answer(e, 40, (i) => i === 3);
    expect(verdicts).toEqual([{ verdict: 'congestion' }]);
  });
});
