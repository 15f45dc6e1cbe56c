import { describe, expect, it } from 'vitest';
import { EmulatorError } from '../../src/local/errors.js';
import {
  type FaultConfig,
  type FaultDecision,
  FaultInjector,
  validateFaultConfig,
} from '../../src/local/faults.js';
import { ManualClock } from '../../src/resilience/clock.js';

function injector(config: FaultConfig, clock = new ManualClock()) {
  return new FaultInjector(config, { name: 'demo', defaultSeed: 42, clock });
}

function actions(f: FaultInjector, n: number): string[] {
  return Array.from({ length: n }, () => {
    const d = f.decide('upsert');
    return d.action === 'error' ? `error:${d.status}` : d.action;
  });
}

const MIXED: FaultConfig = {
  errorRates: { 500: 0.05, 502: 0.05, 503: 0.1, 504: 0.05 },
  resetRate: 0.05,
  truncateRate: 0.05,
  malformedRate: 0.05,
  latency: { fixedMs: 5, jitterMs: 10 },
};

describe('token bucket rate limit', () => {
  it('admits 1 + rps * seconds requests from the moment it is set', async () => {
    const clock = new ManualClock();
    const f = injector({ rateLimit: { rps: 10 } }, clock);
    let accepted = 0;
    // A client far faster than the limit: one request every 10 ms, t = 0 .. 10 s inclusive.
    for (let i = 0; i <= 1000; i++) {
      if (f.decide('upsert').action === 'proceed') accepted++;
      await clock.advance(10);
    }
    expect(accepted).toBe(1 + 10 * 10);
  });

  it('lets a burst through after an idle spell, never more than `burst`', async () => {
    const clock = new ManualClock();
    const f = injector({ rateLimit: { rps: 10, burst: 5 } }, clock);
    await clock.advance(10_000);
    expect(actions(f, 8)).toEqual([...Array(5).fill('proceed'), ...Array(3).fill('throttle')]);
  });

  it('answers 429 RESOURCE_EXHAUSTED with Retry-After when configured', () => {
    const f = injector({ rateLimit: { rps: 1, retryAfterSeconds: 2 } });
    f.decide('query');
    const d = f.decide('query');
    expect(d.action).toBe('throttle');
    const err = (d as Extract<FaultDecision, { action: 'throttle' }>).error;
    expect(err).toMatchObject({ httpStatus: 429, grpcCode: 8, retryAfterSeconds: 2 });
    expect(err.dataPlaneBody()).toEqual({
      code: 8,
      message: expect.stringMatching(/1 requests per second/),
      details: [],
    });
  });
});

describe('in-flight cap', () => {
  it('throttles requests beyond maxInFlight until one leaves', () => {
    const f = injector({ maxInFlight: 2 });
    expect(f.decide('upsert').action).toBe('proceed');
    f.enter();
    expect(f.decide('upsert').action).toBe('proceed');
    f.enter();
    const third = f.decide('upsert');
    expect(third).toMatchObject({ action: 'throttle', reason: 'in-flight' });
    f.leave();
    expect(f.decide('upsert').action).toBe('proceed');
    expect(f.inFlight).toBe(1);
  });
});

describe('seeded fault sequences', () => {
  it('replays identically for the same seed, and differs for another', () => {
    const a = actions(injector({ ...MIXED, seed: 7 }), 300);
    const b = actions(injector({ ...MIXED, seed: 7 }), 300);
    const c = actions(injector({ ...MIXED, seed: 8 }), 300);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a)).toEqual(
      new Set([
        'proceed',
        'reset',
        'truncate',
        'malformed',
        'error:500',
        'error:502',
        'error:503',
        'error:504',
      ]),
    );
  });

  it('restarts the sequence on configure()', () => {
    const f = injector({ ...MIXED, seed: 3 });
    const first = actions(f, 100);
    f.configure({ ...MIXED, seed: 3 });
    expect(actions(f, 100)).toEqual(first);
  });

  it('gives a request the same fate whether or not earlier ones were throttled', async () => {
    const clock = new ManualClock();
    const plain = injector({ ...MIXED, seed: 11 }, clock);
    const limited = injector({ ...MIXED, seed: 11, rateLimit: { rps: 50 } }, clock);
    for (let i = 0; i < 200; i++) {
      const p = plain.decide('upsert');
      const l = limited.decide('upsert');
      if (l.action !== 'throttle') expect(l).toEqual(p);
      await clock.advance(7);
    }
  });

  it('hits each configured rate closely over many requests', () => {
    const f = injector({ errorRates: { 503: 0.2 }, resetRate: 0.1, seed: 5 });
    const seq = actions(f, 20_000);
    const share = (a: string) => seq.filter((x) => x === a).length / seq.length;
    expect(share('error:503')).toBeGreaterThan(0.19);
    expect(share('error:503')).toBeLessThan(0.21);
    expect(share('reset')).toBeGreaterThan(0.09);
    expect(share('reset')).toBeLessThan(0.11);
  });

  it('adds latency in [fixedMs, fixedMs + jitterMs)', () => {
    const f = injector({ latency: { fixedMs: 20, jitterMs: 5 }, seed: 1 });
    for (let i = 0; i < 100; i++) {
      const d = f.decide('query') as Extract<FaultDecision, { action: 'proceed' }>;
      expect(d.delayMs).toBeGreaterThanOrEqual(20);
      expect(d.delayMs).toBeLessThan(25);
    }
  });

  it('leaves operations outside `operations` alone', () => {
    const f = injector({ errorRates: { 500: 1 }, operations: ['upsert'] });
    expect(f.decide('query')).toEqual({ action: 'proceed', delayMs: 0 });
    expect(f.decide('upsert').action).toBe('error');
  });

  it('sends plain-text bodies for proxy statuses 502 and 504', () => {
    const d502 = injector({ errorRates: { 502: 1 } }).decide('upsert');
    const d503 = injector({ errorRates: { 503: 1 } }).decide('upsert');
    expect(d502).toMatchObject({ action: 'error', status: 502, proxyText: expect.any(String) });
    expect(d503).toMatchObject({ action: 'error', status: 503, error: { grpcCode: 14 } });
    expect((d503 as { proxyText?: string }).proxyText).toBeUndefined();
  });
});

describe('fault kinds that real servers show', () => {
  it('injects a random 429 at its share whatever the load, as RESOURCE_EXHAUSTED', () => {
    const f = injector({ errorRates: { 429: 0.25 }, seed: 3 });
    const seq = actions(f, 20_000);
    const share = seq.filter((a) => a === 'error:429').length / seq.length;
    expect(share).toBeGreaterThan(0.24);
    expect(share).toBeLessThan(0.26);
    const d = injector({ errorRates: { 429: 1 } }).decide('upsert');
    expect(d).toMatchObject({ action: 'error', status: 429, error: { httpStatus: 429, grpcCode: 8 } });
    expect((d as { error: EmulatorError }).error.retryAfterSeconds).toBeUndefined();
  });

  it('puts Retry-After on the configured share of injected statuses, the same for a seed', () => {
    const config: FaultConfig = {
      errorRates: { 429: 0.2, 503: 0.2 },
      errorRetryAfter: { seconds: 1, share: 0.5 },
      seed: 11,
    };
    const hints = (f: FaultInjector) =>
      Array.from({ length: 10_000 }, () => {
        const d = f.decide('upsert');
        return d.action === 'error' ? `${d.status}:${d.error.retryAfterSeconds ?? '-'}` : d.action;
      });
    const seq = hints(injector(config));
    expect(hints(injector(config))).toEqual(seq);
    for (const status of ['429', '503']) {
      const withHint = seq.filter((x) => x === `${status}:1`).length;
      const without = seq.filter((x) => x === `${status}:-`).length;
      expect(withHint / (withHint + without)).toBeGreaterThan(0.45);
      expect(withHint / (withHint + without)).toBeLessThan(0.55);
    }
    // Share defaults to all of them.
    const all = injector({ errorRates: { 503: 1 }, errorRetryAfter: { seconds: 2 } }).decide('query');
    expect(all).toMatchObject({
      action: 'error',
      status: 503,
      error: { retryAfterSeconds: 2, grpcCode: 14 },
    });
  });

  it('hangs, resets after the write, and sends slow bodies at their rates', () => {
    const f = injector({
      hangRate: 0.1,
      resetAfterWriteRate: 0.1,
      slowBodyRate: 0.1,
      slowBodyMs: 300,
      seed: 9,
    });
    const decisions = Array.from({ length: 20_000 }, () => f.decide('upsert'));
    for (const kind of ['hang', 'reset-after-write', 'slow-body']) {
      const share = decisions.filter((d) => d.action === kind).length / decisions.length;
      expect(share, kind).toBeGreaterThan(0.09);
      expect(share, kind).toBeLessThan(0.11);
    }
    expect(decisions.find((d) => d.action === 'slow-body')).toEqual({
      action: 'slow-body',
      delayMs: 0,
      durationMs: 300,
    });
    expect(injector({ slowBodyRate: 1 }).decide('upsert')).toMatchObject({ durationMs: 2000 });
  });
});

describe('validateFaultConfig', () => {
  const bad: [unknown, RegExp][] = [
    [{ rateLimit: { rps: 0 } }, /rateLimit.rps/],
    [{ rateLimit: { rps: 5, burst: 0.5 } }, /burst/],
    [{ maxInFlight: 0 }, /maxInFlight/],
    [{ maxInFlight: 1.5 }, /maxInFlight/],
    [{ errorRates: { 501: 0.1 } }, /501/],
    [{ errorRates: { 500: 1.5 } }, /errorRates.500/],
    [{ resetRate: 0.6, truncateRate: 0.6 }, /add up/],
    [{ latency: { fixedMs: -1 } }, /latency.fixedMs/],
    // Past Node's timer range a delay silently becomes 1 ms: refuse rather than ignore it.
    [{ latency: { fixedMs: 1e12 } }, /latency.fixedMs must be at most 600000/],
    [{ latency: { jitterMs: 600_001 } }, /latency.jitterMs must be at most 600000/],
    [{ slowBodyRate: 0.1, slowBodyMs: 1e12 }, /slowBodyMs must be at most 600000/],
    [{ operations: ['upsert', 'nope'] }, /operations/],
    [{ seed: 1.5 }, /seed/],
    [{ rps: 5 }, /faults.rps is not a fault option/],
    [{ errorRates: { 429: 0.6 }, hangRate: 0.6 }, /add up/],
    [{ errorRetryAfter: { share: 0.5 } }, /errorRetryAfter.seconds/],
    [{ errorRetryAfter: { seconds: 1, share: 2 } }, /errorRetryAfter.share/],
    [{ slowBodyMs: -5 }, /slowBodyMs/],
    [{ hangRate: 'often' }, /hangRate/],
    [
      { rateLimit: { rsp: 5 } },
      /^faults\.rateLimit\.rsp is unknown; rateLimit takes rps, burst, retryAfterSeconds$/,
    ],
    [{ latency: { fixedMS: 5 } }, /faults\.latency\.fixedMS is unknown; latency takes fixedMs, jitterMs/],
    [
      { errorRetryAfter: { second: 1 } },
      /faults\.errorRetryAfter\.second is unknown; errorRetryAfter takes seconds, share/,
    ],
  ];
  it.each(bad)('rejects %j', (config, message) => {
    expect(() => validateFaultConfig(config)).toThrow(EmulatorError);
    expect(() => validateFaultConfig(config)).toThrow(message);
  });

  it('normalizes a valid config and treats null as absent', () => {
    expect(validateFaultConfig({ rateLimit: null, maxInFlight: null, errorRates: { '503': 0.5 } })).toEqual({
      errorRates: { 503: 0.5 },
    });
  });
});
