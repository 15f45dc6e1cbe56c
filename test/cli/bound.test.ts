import { describe, expect, it } from 'vitest';
import { lowerBound } from '../../src/cli/bound.js';
import { type DemoFigures, type DemoFlags, summaryRows } from '../../src/cli/demo.js';

const defaults = {
  requests: 200,
  batchSize: 100,
  rps: 20,
  burst: 20,
  idleSeconds: 0,
  latencyMs: 100,
  maxConcurrency: 16,
};

describe('lowerBound', () => {
  it('a throttled run: the admitted rate binds, from the one token the bucket starts with', () => {
    const bound = lowerBound(defaults, 13);
    expect(bound.kind).toBe('admitted rate');
    expect(bound.seconds).toBeCloseTo(199 / 20 + 0.1, 9);
    expect(bound.binding).toBe(true);
    expect(bound.vectorsPerSecond).toBe(2000);
    // Tokens gathered between setting the limit and starting, at most a bucketful.
    expect(lowerBound({ ...defaults, idleSeconds: 0.5 }, 13).seconds).toBeCloseTo(189 / 20 + 0.1, 9);
    expect(lowerBound({ ...defaults, idleSeconds: 60 }, 13).seconds).toBeCloseTo(180 / 20 + 0.1, 9);
  });

  it('an unthrottled run (--rps 1000): latency at the ceiling binds, not the far admitted rate', () => {
    const bound = lowerBound({ ...defaults, rps: 1000, burst: 1000 }, 0);
    expect(bound.kind).toBe('latency at the ceiling');
    expect(bound.seconds).toBeCloseTo(13 * 0.1, 9); // ⌈200 / 16⌉ rounds of 100 ms
    expect(bound.binding).toBe(true);
    expect(bound.vectorsPerSecond).toBe(16_000);
  });

  it('no latency and no throttling: no limit of the emulator bound the run', () => {
    expect(lowerBound({ ...defaults, rps: 1000, burst: 1000, latencyMs: 0 }, 0).binding).toBe(false);
    expect(lowerBound({ ...defaults, latencyMs: 0 }, 0).binding).toBe(false);
  });
});

describe('the demo summary', () => {
  const flags: DemoFlags = {
    vectors: 20_000,
    dimension: 128,
    rps: 20,
    maxConcurrency: 16,
    batchSize: 100,
    latencyMs: 100,
    maxRetries: 5,
    grpc: false,
    report: false,
    seed: 42,
    progressInterval: 2000,
  };
  const figures = (bound = lowerBound(defaults, 13)): DemoFigures => ({
    seconds: 10.4,
    vectorsPerSecond: 1923,
    requestsNeeded: 200,
    bound,
    ratio: 10.4 / bound.seconds,
    server: { total: 213, accepted: 200, rejected: 13, throttled: 13, faulted: 0 },
    throttledSeen: 13,
    decreases: 9,
    increases: 23,
    finalLimit: 2,
    verification: { ok: true, stored: 20_000, summary: 'ok', problems: [], latenciesMs: [] },
    loaderSeconds: [10],
  });
  const row = (rows: [string, string][], label: string) => rows.find(([k]) => k === label)?.[1];

  it('names the throttling code of the transport used', () => {
    expect(row(summaryRows(flags, figures(), 11), 'Requests rejected')).toContain('13 throttled with 429');
    expect(row(summaryRows({ ...flags, grpc: true }, figures(), 11), 'Requests rejected')).toContain(
      '13 throttled with RESOURCE_EXHAUSTED',
    );
  });

  it('says what the bound is, and shows no ratio when no limit was reached', () => {
    const rows = summaryRows(flags, figures(), 11);
    expect(row(rows, 'Lower bound')).toBe(
      '10.05 s, admitted rate: (200 requests − 1 token in the bucket) ÷ 20 req/s + 100 ms',
    );
    expect(row(rows, 'Wall time ÷ lower bound')).toBe('1.03×');
    const free = summaryRows(flags, figures(lowerBound({ ...defaults, rps: 1000, latencyMs: 0 }, 0)), 11);
    expect(row(free, 'Wall time ÷ lower bound')).toMatch(/^not shown: the emulator throttled nothing/);
  });
});
