import { describe, expect, it } from 'vitest';
import { StatsRecorder } from '../../src/local/stats.js';
import { ManualClock } from '../../src/resilience/clock.js';

describe('StatsRecorder', () => {
  it('counts per operation and outcome and classifies accepted, throttled and faulted', () => {
    const stats = new StatsRecorder(new ManualClock());
    stats.record('upsert', 200, 100);
    stats.record('upsert', 429);
    stats.record('upsert', 'reset');
    stats.record('upsert', 503);
    stats.record('query', 400);
    stats.record('query', 'truncated');
    const snap = stats.snapshot({ index: 'i', seed: 1, inFlight: 0, namespaces: { __default__: 100 } });
    expect(snap.requests).toEqual({ total: 6, accepted: 1, rejected: 5, throttled: 1, faulted: 3 });
    expect(snap.operations).toEqual({
      upsert: { '200': 1, '429': 1, reset: 1, '503': 1 },
      query: { '400': 1, truncated: 1 },
    });
    expect(snap.vectors).toEqual({ total: 100, namespaces: { __default__: 100 }, upserted: 100 });
  });

  it('keeps a per-second timeline with gaps filled by zeros', async () => {
    const clock = new ManualClock();
    const stats = new StatsRecorder(clock);
    stats.record('upsert', 200, 10);
    stats.observeInFlight(3);
    await clock.advance(2500);
    stats.record('upsert', 429);
    stats.observeInFlight(1);
    const { timeline, inFlight } = stats.snapshot({ index: 'i', seed: 1, inFlight: 0, namespaces: {} });
    expect(timeline).toEqual([
      { t: 0, accepted: 1, rejected: 0, throttled: 0, faulted: 0, vectorsUpserted: 10, inFlightMax: 3 },
      { t: 1, accepted: 0, rejected: 0, throttled: 0, faulted: 0, vectorsUpserted: 0, inFlightMax: 0 },
      { t: 2, accepted: 0, rejected: 1, throttled: 1, faulted: 0, vectorsUpserted: 0, inFlightMax: 1 },
    ]);
    expect(inFlight).toEqual({ current: 0, max: 3 });
    stats.reset();
    expect(stats.snapshot({ index: 'i', seed: 1, inFlight: 0, namespaces: {} }).requests.total).toBe(0);
  });
});
