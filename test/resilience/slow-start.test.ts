/**
 * Slow start, RTT sampling and when pacing starts (AimdState decisions, no clock needed:
 * times are passed in).
 */
import { describe, expect, it } from 'vitest';
import { AimdState } from '../../src/resilience/aimd-state.js';
import type { LimitTransition } from '../../src/resilience/limiter-state.js';

function state(options: { pacing?: false } = {}) {
  const events: LimitTransition[] = [];
  // The classic rule (every throttle of a new epoch counts); noise detection has its own tests.
  const s = new AimdState({ noise: false, ...options, notify: (t) => events.push(t) });
  const limit = () => s.snapshot().limit;
  return { s, events, limit };
}

/** One round trip of a full window at `ceiling`: dispatch min(limit, ceiling), all succeed. */
function roundTrip(s: AimdState, ceiling: number, now: number, rttMs = 10): void {
  const n = Math.min(s.snapshot().limit, ceiling);
  const sent = Array.from({ length: n }, () => s.dispatch(now, ceiling, n));
  for (const d of sent) s.onSuccess(now + rttMs, d);
}

describe('AimdState: slow start', () => {
  it('starts a fresh host at one request in flight and doubles per round trip up to the ceiling', () => {
    const { s, limit } = state({ pacing: false });
    expect(s.admit(32, 0)).toBe(true);
    expect(limit()).toBe(1);
    expect(s.admit(32, 1)).toBe(false);
    const seen = [limit()];
    for (let t = 0; limit() < 32; t += 10) {
      roundTrip(s, 32, t);
      seen.push(limit());
    }
    // Five round trips to reach 32: an unthrottled load is barely slowed.
    expect(seen).toEqual([1, 2, 4, 8, 16, 32]);
    roundTrip(s, 32, 100);
    expect(limit()).toBe(32);
  });

  it('the second throttle ends it, halving what was in flight when the throttled request left', () => {
    const { s, limit, events } = state({ pacing: false });
    s.admit(32, 0);
    roundTrip(s, 32, 0); // 2
    roundTrip(s, 32, 10); // 4
    // The 3rd and 4th of a window of 4 are throttled; the window has meanwhile grown to 6.
    const window = [1, 2, 3, 4].map(() => s.dispatch(20, 32, 4));
    for (const d of window.slice(0, 2)) s.onSuccess(30, d);
    expect(limit()).toBe(6);
    // One throttle of a window of several is not enough: a random one would end the ramp.
    expect(s.onThrottle(30, window[2]!)).toBe('counted');
    expect(limit()).toBe(6);
    s.onThrottle(30, window[3]!);
    expect(limit()).toBe(2);
    expect(events.at(-1)).toMatchObject({ kind: 'decrease', before: 6, after: 2 });
    // From here on AIMD: one slot per window of full-window successes, not one per success.
    s.onSuccess(40, s.dispatch(40, 32, 2));
    expect(limit()).toBe(2);
    s.onSuccess(40, s.dispatch(40, 32, 2));
    expect(limit()).toBe(3);
  });

  it('a throttle of a request sent alone ends it at once (one at a time is already too many)', () => {
    const { s, limit } = state({ pacing: false });
    s.admit(32, 0);
    s.onSuccess(10, s.dispatch(0, 32, 1)); // 2: a round trip is known
    s.onThrottle(20, s.dispatch(10, 32, 1));
    expect(limit()).toBe(1);
    expect(s.snapshot().congestionEvents).toBe(1);
  });

  it('does not grow on successes of a window less than half used', () => {
    const { s, limit } = state({ pacing: false });
    s.admit(8, 0);
    roundTrip(s, 8, 0);
    roundTrip(s, 8, 10);
    expect(limit()).toBe(4);
    for (let i = 0; i < 20; i++) s.onSuccess(20 + i, s.dispatch(20 + i, 8, 1));
    expect(limit()).toBe(4);
  });

  it('does not hold back a call without a ceiling of its own (single requests)', () => {
    const { s } = state({ pacing: false });
    for (let held = 0; held < 50; held++) expect(s.admit(Number.POSITIVE_INFINITY, held)).toBe(true);
    // ...but a bulk call on the same host is in slow start.
    expect(s.admit(8, 0)).toBe(true);
    expect(s.admit(8, 1)).toBe(false);
  });
});

describe('AimdState: round trips and pacing', () => {
  it('samples the RTT from successes only: an instant 429 leaves it alone', () => {
    const { s } = state();
    s.admit(4, 0);
    s.onSuccess(10, s.dispatch(0, 4, 1));
    expect(s.snapshot().smoothedRttMs).toBe(10);
    s.onThrottle(20, s.dispatch(20, 4, 2));
    expect(s.snapshot().smoothedRttMs).toBe(10);
  });

  it('does not start pacing above the floor even when the window looked under-used', () => {
    const s = new AimdState({ slowStart: false });
    s.admit(8, 0);
    // One request in flight at a time, 10 ms each (a window of 8 used by 1): 100/s sent,
    // well below what the halved limit (4 per 10 ms = 400/s) allows.
    for (let t = 0; t < 200; t += 10) s.onSuccess(t + 10, s.dispatch(t, 8, 1));
    s.onThrottle(200, s.dispatch(200, 8, 1));
    expect(s.snapshot().limit).toBe(4);
    expect(s.snapshot().pacingRate).toBeUndefined();
  });
});
