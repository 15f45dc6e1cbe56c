/**
 * The adaptive limiter against simulated throttling servers, in simulated time: the real
 * bulk engine and retry loop, a ManualClock, seeded latency. Deterministic; the figures
 * are simulated time, not wall-clock time. docs/adaptive.md has the full table.
 */
import { describe, expect, it } from 'vitest';
import { type SimOptions, simulate } from './adaptive-sim.js';

const base = { latencyMs: 20, jitterMs: 10, seed: 7, ceiling: 8 } as const;
const regimes: Record<string, Pick<SimOptions, 'server' | 'requests'>> = {
  'a token bucket looser than the natural rate': {
    server: { kind: 'bucket', ratePerSecond: 250, burst: 25 },
    requests: 1500,
  },
  'a token bucket below one request per round trip': {
    server: { kind: 'bucket', ratePerSecond: 20, burst: 5 },
    requests: 1000,
  },
  'a cap of 3 requests in flight': { server: { kind: 'inflight', cap: 3 }, requests: 800 },
};

describe('adaptive limiter in simulation', () => {
  for (const [name, regime] of Object.entries(regimes)) {
    it(`stores everything with few rejections against ${name}`, async () => {
      const ours = await simulate({ ...base, ...regime, algorithm: 'adaptive' });
      const spec = await simulate({ ...base, ...regime, algorithm: 'spec' });
      expect(ours.storedShare).toBe(1);
      expect(ours.rejectedShare).toBeLessThan(0.06);
      expect(ours.ratio).toBeLessThan(1.15);
      // Never worse than the spec's literal algorithm on rejections.
      expect(ours.rejectedShare).toBeLessThanOrEqual(spec.rejectedShare);
    });
  }

  it('the spec’s literal algorithm loses data below one request per round trip; pacing does not', async () => {
    const regime = { server: { kind: 'bucket', ratePerSecond: 5, burst: 2 }, requests: 300 } as const;
    const spec = await simulate({ ...base, ...regime, algorithm: 'spec' });
    const ours = await simulate({ ...base, ...regime, algorithm: 'adaptive' });
    expect(spec.storedShare).toBeLessThan(1);
    expect(ours.storedShare).toBe(1);
    expect(ours.pacingRate).toBeDefined();
  });

  it('climbs back to the ceiling when throttling stops mid-run', async () => {
    const result = await simulate({
      ...base,
      algorithm: 'adaptive',
      ceiling: 16,
      server: { kind: 'inflight', cap: 3 },
      throttleUntilMs: 5000,
      requests: 8000,
    });
    expect(result.storedShare).toBe(1);
    expect(result.finalLimit).toBe(16);
    expect(result.pacingRate).toBeUndefined();
  });

  it('climbs back, and stops pacing, when a rate limit below one per round trip is lifted', async () => {
    const result = await simulate({
      ...base,
      algorithm: 'adaptive',
      server: { kind: 'bucket', ratePerSecond: 20, burst: 5 },
      throttleUntilMs: 10_000,
      requests: 2000,
    });
    expect(result.storedShare).toBe(1);
    expect(result.finalLimit).toBe(8);
    expect(result.pacingRate).toBeUndefined();
  });
});
