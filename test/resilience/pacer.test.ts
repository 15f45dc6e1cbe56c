import { describe, expect, it } from 'vitest';
import { GcraPacer, SendRateMeter } from '../../src/resilience/pacer.js';

/** Within `tolerance` (a fraction) of `expected`: the meters are estimates, by design. */
function expectNear(actual: number | undefined, expected: number, tolerance: number): void {
  expect(actual).toBeDefined();
  expect(Math.abs(actual! - expected) / expected).toBeLessThanOrEqual(tolerance);
}

describe('SendRateMeter', () => {
  it('reads a steady rate exactly, from the first dispatches on', () => {
    const m = new SendRateMeter(1000);
    for (let t = 0; t <= 200; t += 10) m.record(t);
    expectNear(m.rate(200), 100, 0.06); // 21 sends over 200 ms
    for (let t = 210; t <= 5000; t += 10) m.record(t);
    expectNear(m.rate(5000), 100, 0.01);
  });

  it('follows a change of rate within about a window', () => {
    const m = new SendRateMeter(1000);
    for (let t = 0; t <= 5000; t += 10) m.record(t);
    for (let t = 5040; t <= 10_000; t += 40) m.record(t);
    expectNear(m.rate(10_000), 25, 0.05);
  });

  it('reads a burst sent at one instant over minSpanMs, and decays when nothing is sent', () => {
    const m = new SendRateMeter(1000);
    for (let i = 0; i < 8; i++) m.record(0);
    expectNear(m.rate(0, 20), 8 / 0.02, 0.02);
    expectNear(m.rate(0), 8000, 0.001); // never over less than 1 ms
    expect(m.rate(3000)).toBeLessThan(m.rate(1000));
    expect(new SendRateMeter().rate(5)).toBe(0);
  });

  it('restarts after an idle spell longer than the window instead of averaging the silence in', () => {
    const m = new SendRateMeter(1000);
    m.record(0);
    for (let t = 60_000; t <= 60_100; t += 10) m.record(t);
    expectNear(m.rate(60_100), 100, 0.15); // 11 sends over 100 ms
  });

  it('rejects a non-positive window', () => {
    expect(() => new SendRateMeter(0)).toThrow(RangeError);
  });
});

/** A round trip so long that the additive step is nil: the proportional recovery alone. */
const NO_ADDITIVE = 1e12;

describe('GcraPacer', () => {
  /** A pacer that sent one request every 10 ms for a second (100/s). */
  function busyPacer(options = {}) {
    const p = new GcraPacer(options);
    for (let t = 0; t <= 1000; t += 10) p.recordSend(t);
    return p;
  }

  it('does not pace until a congestion event', () => {
    const p = busyPacer();
    expect(p.rate).toBeUndefined();
    expect(p.nextSendAt(1000)).toBe(1000);
  });

  it('a congestion event the limit cannot absorb sets 0.7 × the rate sent; slots are 1/rate apart', () => {
    const p = busyPacer();
    p.onCongestion(1000, Number.POSITIVE_INFINITY);
    expectNear(p.rate, 70, 0.02);
    const gap = 1000 / p.rate!;
    // slot = max(now, tat) where tat = last send + 1/rate.
    expect(p.nextSendAt(1000)).toBeCloseTo(1000 + gap, 9);
    expect(p.nextSendAt(1000 + 2 * gap)).toBe(1000 + 2 * gap);
    p.recordSend(1000 + gap);
    expect(p.nextSendAt(1000 + gap)).toBeCloseTo(1000 + 2 * gap, 9);
  });

  it('stays off when the cut rate is still above what the concurrency limit allows', () => {
    const p = busyPacer();
    p.onCongestion(1000, 50);
    expect(p.rate).toBeUndefined();
  });

  it('uses the burst rate of the throttled window when it is higher than the average', () => {
    const p = busyPacer();
    p.onCongestion(1000, Number.POSITIVE_INFINITY, 400);
    expect(p.rate).toBeCloseTo(280, 9);
  });

  it('each later event multiplies again (by what was sent, when that is lower)', () => {
    const p = busyPacer();
    p.onCongestion(1000, Number.POSITIVE_INFINITY);
    const first = p.rate!;
    p.onCongestion(1000, Number.POSITIVE_INFINITY);
    expect(p.rate).toBeCloseTo(first * 0.7, 9);
  });

  it('steps down to what the server admitted when lower, by at most one more factor', () => {
    const p = busyPacer();
    for (let t = 0; t <= 1000; t += 50) p.recordAdmitted(t); // 20/s admitted of 100/s sent
    p.onCongestion(1000, Number.POSITIVE_INFINITY);
    const first = p.rate!;
    expectNear(first, 70 * 0.7, 0.02); // 21/s is below 0.7 × 70: one more factor only
    p.onCongestion(1000, Number.POSITIVE_INFINITY);
    expectNear(p.rate, first * 0.7 * 0.7, 1e-9); // 21/s still below: again
    const second = p.rate!;
    p.onCongestion(1000, Number.POSITIVE_INFINITY);
    expectNear(p.rate, second * 0.7, 1e-9); // now 0.7 × rate is below what was admitted
  });

  it('recovers 30 % of the cut rate per second of successes, then switches off above the capacity', () => {
    const p = busyPacer({ recoverySuccesses: 1 });
    p.onCongestion(1000, Number.POSITIVE_INFINITY);
    const base = p.rate!;
    p.onSuccess(1500, Number.POSITIVE_INFINITY, NO_ADDITIVE);
    expect(p.rate).toBeCloseTo(base * (1 + 0.3 * 0.5), 9);
    p.onSuccess(2000, Number.POSITIVE_INFINITY, NO_ADDITIVE);
    expect(p.rate).toBeCloseTo(base * 1.3, 9);
    p.onSuccess(2100, base, NO_ADDITIVE);
    expect(p.rate).toBeUndefined();
  });

  it('restarted within 3 s of recovery switching it off, starts below where it ended', () => {
    const p = new GcraPacer();
    p.start(0, 23.9);
    // Recovery passes what the limit carries (24 req/s): pacing switches off.
    p.onSuccess(500, 24, NO_ADDITIVE);
    expect(p.rate).toBeUndefined();
    // A throttle soon after proves it switched off too soon: not at the admitted rate
    // (measured while a burst drained, above what the limit carries), under where it ended.
    p.start(1500, 30);
    expect(p.rate).toBeCloseTo(0.95 * 24, 9);
    // Later, a start is taken as asked.
    p.onSuccess(60_000, 10, NO_ADDITIVE);
    expect(p.rate).toBeUndefined();
    p.start(70_000, 25);
    expect(p.rate).toBe(25);
  });

  it('caps each success’s step so a full recovery takes at least recoverySuccesses successes', () => {
    const p = busyPacer();
    p.onCongestion(1000, Number.POSITIVE_INFINITY);
    const base = p.rate!;
    p.onSuccess(2000, Number.POSITIVE_INFINITY, NO_ADDITIVE); // a second: 30 % allowed, but one success
    expect(p.rate).toBeCloseTo(base + (base * (1 / 0.7 - 1)) / 32, 9);
  });

  it('past the rate of the last event, recovery is multiplicative', () => {
    const p = busyPacer({ recoverySuccesses: 1 });
    p.onCongestion(1000, Number.POSITIVE_INFINITY);
    const base = p.rate!;
    for (let t = 1100; t <= 3000; t += 100) p.onSuccess(t, Number.POSITIVE_INFINITY, NO_ADDITIVE);
    const before = p.rate!;
    expect(before).toBeGreaterThan(base / 0.7);
    p.onSuccess(3100, Number.POSITIVE_INFINITY, NO_ADDITIVE);
    expect(p.rate).toBeCloseTo(before * (1 + 0.3 * 0.1), 9);
  });

  it('an idle spell earns at most a second of recovery', () => {
    const p = busyPacer({ recoverySuccesses: 1 });
    p.onCongestion(1000, Number.POSITIVE_INFINITY);
    const base = p.rate!;
    p.onSuccess(60_000, Number.POSITIVE_INFINITY, NO_ADDITIVE);
    expect(p.rate).toBeCloseTo(base * 1.3, 9);
  });

  it('adds the same absolute step to every client when that is larger (fair shares of one limit)', () => {
    // Proportional recovery off: the absolute step alone.
    const slow = busyPacer({ recoveryPerSecond: 0 });
    const fast = busyPacer({ recoveryPerSecond: 0 });
    slow.onCongestion(1000, Number.POSITIVE_INFINITY);
    fast.start(1000, slow.rate! * 4);
    const [a, b] = [slow.rate!, fast.rate!];
    // RTT 20 ms: 0.04 requests per round trip per round trip is 2 req/s per second.
    slow.onSuccess(1500, Number.POSITIVE_INFINITY, 20);
    fast.onSuccess(1500, Number.POSITIVE_INFINITY, 20);
    expect(slow.rate! - a).toBeCloseTo(1, 9);
    expect(fast.rate! - b).toBeCloseTo(1, 9);
  });

  /** Sends and successes at 100/s from `from` (exclusive) to `to`, with a round trip of 20 ms. */
  function run(p: GcraPacer, from: number, to: number) {
    for (let t = from + 10; t <= to; t += 10) {
      p.recordSend(t);
      p.onSuccess(t, Number.POSITIVE_INFINITY, 20);
    }
  }

  /** A pacer cut at 100/s (its first event), then recovered past that while sending 100/s. */
  function cutAt100ThenRecovered(options = {}) {
    const p = busyPacer({ recoverySuccesses: 1, ...options });
    p.onCongestion(1000, Number.POSITIVE_INFINITY);
    run(p, 1000, 2600);
    expect(p.rate!).toBeGreaterThan(100);
    return p;
  }

  it('a second event at about the rate of the first holds just under it instead of cutting again', () => {
    const p = cutAt100ThenRecovered();
    p.onCongestion(2600, Number.POSITIVE_INFINITY);
    // 0.95 × the level both events happened at (100/s sent), not 0.7 × the rate.
    expectNear(p.rate, 95, 0.01);
    // The rule before: the whole cut again.
    const before = cutAt100ThenRecovered({ plateau: false });
    before.onCongestion(2600, Number.POSITIVE_INFINITY);
    expectNear(before.rate, 70, 0.01);
  });

  it('holds the level for probeRtts round trips, then probes; a failed probe goes back and waits twice as long', () => {
    const p = cutAt100ThenRecovered();
    p.onCongestion(2600, Number.POSITIVE_INFINITY);
    const level = p.rate!;
    // 32 round trips of 20 ms: no recovery for 640 ms.
    run(p, 2600, 3230);
    expect(p.rate).toBe(level);
    run(p, 3230, 3300);
    expect(p.rate!).toBeGreaterThan(level);
    // The probe is throttled: back to the level, not a cut below it...
    p.onCongestion(3300, Number.POSITIVE_INFINITY);
    expect(p.rate).toBe(level);
    // ...and the next probe waits 1280 ms.
    run(p, 3300, 4570);
    expect(p.rate).toBe(level);
    run(p, 4570, 4600);
    expect(p.rate!).toBeGreaterThan(level);
  });

  it('a throttle at the held level itself, or far from the last event’s rate, is a full cut', () => {
    const p = cutAt100ThenRecovered();
    p.onCongestion(2600, Number.POSITIVE_INFINITY);
    const level = p.rate!;
    // Throttled while holding: the limit moved below the level.
    run(p, 2600, 2700);
    p.onCongestion(2700, Number.POSITIVE_INFINITY);
    expectNear(p.rate, 0.7 * level, 1e-9);
    // A second event far below the first one's rate is a full cut too.
    const q = busyPacer();
    q.onCongestion(1000, Number.POSITIVE_INFINITY); // at 100/s: 70
    for (let t = 1020; t <= 4000; t += 20) q.recordSend(t); // 50/s sent since
    q.onCongestion(4000, Number.POSITIVE_INFINITY);
    expectNear(q.rate, 0.7 * 50, 0.05); // a hold would be 0.95 × 50
    expect(q.rate!).toBeLessThan(40);
  });

  it('validates its options', () => {
    expect(() => new GcraPacer({ decreaseFactor: 1 })).toThrow(RangeError);
    expect(() => new GcraPacer({ decreaseFactor: 0 })).toThrow(RangeError);
    expect(() => new GcraPacer({ recoveryPerSecond: -1 })).toThrow(RangeError);
    expect(() => new GcraPacer({ recoverySuccesses: 0 })).toThrow(RangeError);
    expect(() => new GcraPacer({ additivePerRtt: -1 })).toThrow(RangeError);
    expect(() => new GcraPacer({ plateau: 0 })).toThrow(RangeError);
    expect(() => new GcraPacer({ plateau: 1.5 })).toThrow(RangeError);
    expect(() => new GcraPacer({ probeRtts: -1 })).toThrow(RangeError);
  });
});
