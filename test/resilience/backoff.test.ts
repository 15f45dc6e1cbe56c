import { describe, expect, it } from 'vitest';
import { decorrelatedJitter, parseRetryAfter } from '../../src/resilience/backoff.js';
import { seededRandom } from '../../src/resilience/clock.js';

describe('decorrelatedJitter', () => {
  it('draws each delay from [backoffFactor, max(backoffFactor, prev*3)], capped at maxWait', () => {
    for (const seed of [1, 2, 3, 42, 1234, 99999]) {
      const random = seededRandom(seed);
      for (const [factor, cap] of [
        [0.25, 60],
        [0.5, 2],
        [0.01, 0.05],
      ] as const) {
        let prev: number = factor;
        for (let attempt = 1; attempt <= 12; attempt++) {
          const upper = Math.max(factor, prev * 3);
          const delay = decorrelatedJitter(prev, factor, cap, random);
          expect(delay).toBeGreaterThanOrEqual(Math.min(factor, cap));
          expect(delay).toBeLessThanOrEqual(Math.min(upper, cap));
          prev = delay;
        }
      }
    }
  });

  it('matches the spec table: first retry window is [0.25, 0.75] with defaults, mean ~0.5 s', () => {
    const random = seededRandom(7);
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const d = decorrelatedJitter(0.25, 0.25, 60, random);
      expect(d).toBeGreaterThanOrEqual(0.25);
      expect(d).toBeLessThanOrEqual(0.75);
      sum += d;
    }
    expect(sum / n).toBeCloseTo(0.5, 1);
  });

  it('typical second and third delays follow the spec (~0.9 s, ~2.4 s order)', () => {
    const random = seededRandom(11);
    const n = 20_000;
    const sums = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      let prev = 0.25;
      for (let k = 0; k < 3; k++) {
        prev = decorrelatedJitter(prev, 0.25, 60, random);
        sums[k]! += prev;
      }
    }
    const means = sums.map((s) => s / n);
    expect(means[0]).toBeCloseTo(0.5, 1);
    expect(means[1]).toBeGreaterThan(0.7);
    expect(means[1]).toBeLessThan(1.1);
    expect(means[2]).toBeGreaterThan(1.0);
  });

  it('is exactly the formula for given random draws', () => {
    expect(decorrelatedJitter(0.25, 0.25, 60, () => 0)).toBe(0.25);
    expect(decorrelatedJitter(0.25, 0.25, 60, () => 0.5)).toBe(0.5);
    expect(decorrelatedJitter(10, 0.25, 60, () => 0.999999)).toBeCloseTo(30, 3);
    expect(decorrelatedJitter(100, 0.25, 60, () => 0.9)).toBe(60);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds, decimals, retry-after-ms and HTTP dates', () => {
    expect(parseRetryAfter({ 'retry-after': '3' })).toBe(3000);
    expect(parseRetryAfter({ 'retry-after': '0.5' })).toBe(500);
    expect(parseRetryAfter({ 'retry-after-ms': '120', 'retry-after': '9' })).toBe(120);
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter({ 'retry-after': new Date(now + 7000).toUTCString() }, now)).toBe(7000);
    expect(parseRetryAfter({ 'retry-after': new Date(now - 7000).toUTCString() }, now)).toBe(0);
  });
  it('ignores absent and unparseable hints', () => {
    expect(parseRetryAfter({})).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': 'soon' })).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': '-4' })).toBeUndefined();
    expect(parseRetryAfter(new Headers({ 'Retry-After': '2' }))).toBe(2000);
  });
});
