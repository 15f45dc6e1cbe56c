import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { AdaptiveTransition } from '../../src/resilience/adaptive.js';
import { ManualClock } from '../../src/resilience/clock.js';
import {
  AdaptiveLimiterRegistry,
  DEFAULT_MAX_LIMITER_HOSTS,
  limiterHostKey,
} from '../../src/resilience/registry.js';

function registry(maxHosts?: number) {
  // Slow start off, a round trip known, the classic rule: teach() starts from a limit of 8
  // and a throttle cuts it.
  return new AdaptiveLimiterRegistry({
    clock: new ManualClock(),
    logger: silentLogger,
    maxHosts,
    limiter: { slowStart: false, initialRttMs: 10, noise: false, holdThrottled: false },
  });
}

/** Teach a host's limiter something (8 → 4) so a fresh one is recognisable. */
async function teach(r: AdaptiveLimiterRegistry, host: string): Promise<void> {
  const limiter = r.get(host);
  const permits = await Promise.all(Array.from({ length: 8 }, () => limiter.acquire(8)));
  for (const p of permits) p.release({ kind: 'throttled' });
  expect(limiter.limit).toBe(4);
}

describe('AdaptiveLimiterRegistry', () => {
  it('hands out one limiter per host; REST and gRPC spellings of a host share it', () => {
    const r = registry();
    const a = r.get('https://Idx-1.svc.pinecone.io/');
    expect(r.get('idx-1.svc.pinecone.io')).toBe(a);
    expect(r.get('idx-1.svc.pinecone.io:443')).toBe(a);
    expect(r.get('http://127.0.0.1:5081')).not.toBe(a);
    expect(r.get('127.0.0.1:5081')).toBe(r.get('http://127.0.0.1:5081/'));
    expect(r.size).toBe(2);
    expect(a.host).toBe('idx-1.svc.pinecone.io');
  });

  it('keeps 256 hosts: the 257th evicts the least recently used, whose state starts fresh', async () => {
    const r = registry();
    expect(DEFAULT_MAX_LIMITER_HOSTS).toBe(256);
    await teach(r, 'host-0');
    const original = r.get('host-0');
    for (let i = 1; i < 256; i++) r.get(`host-${i}`);
    expect(r.size).toBe(256);
    expect(r.peek('host-0')).toBe(original);
    r.get('host-256');
    expect(r.size).toBe(256);
    expect(r.peek('host-0')).toBeUndefined();
    expect(r.hosts()[0]).toBe('host-1');
    const fresh = r.get('host-0');
    expect(fresh).not.toBe(original);
    expect(fresh.limit).toBe(0);
    expect(r.peek('host-1')).toBeUndefined(); // made room for host-0 again
  });

  it('get counts as use: a recently used host survives the eviction', () => {
    const r = registry();
    for (let i = 0; i < 256; i++) r.get(`host-${i}`);
    r.get('host-0');
    r.get('host-256');
    expect(r.peek('host-0')).toBeDefined();
    expect(r.peek('host-1')).toBeUndefined();
  });

  it('peek does not count as use', () => {
    const r = registry(2);
    r.get('a');
    r.get('b');
    r.peek('a');
    r.get('c');
    expect(r.hosts()).toEqual(['b', 'c']);
  });

  it('prefers evicting an idle limiter over one with requests in flight', async () => {
    const r = registry(2);
    const busy = r.get('busy');
    const permit = await busy.acquire(4);
    r.get('idle');
    r.get('new');
    expect(r.peek('busy')).toBe(busy);
    expect(r.peek('idle')).toBeUndefined();
    permit.release({ kind: 'success' });
  });

  it('evicts the least recently used anyway when every limiter is busy', async () => {
    const r = registry(1);
    const busy = r.get('busy');
    const permit = await busy.acquire(4);
    r.get('new');
    expect(r.peek('busy')).toBeUndefined();
    permit.release({ kind: 'success' });
  });

  it('passes limiter options to every limiter', async () => {
    const seen: AdaptiveTransition[] = [];
    const r = new AdaptiveLimiterRegistry({
      clock: new ManualClock(),
      logger: silentLogger,
      limiter: {
        slowStart: false,
        initialRttMs: 10,
        noise: false,
        holdThrottled: false,
        onTransition: (t) => seen.push(t),
      },
    });
    await teach(r, 'x.svc');
    expect(seen.map((t) => [t.host, t.kind, t.after])).toEqual([['x.svc', 'decrease', 4]]);
  });

  it('rejects a cap that is not a positive integer', () => {
    expect(() => registry(0)).toThrow(RangeError);
    expect(() => registry(1.5)).toThrow(RangeError);
  });
});

describe('limiterHostKey', () => {
  it('drops scheme, path, case and an https default port', () => {
    expect(limiterHostKey(' HTTPS://A.b.c/x/y ')).toBe('a.b.c');
    expect(limiterHostKey('a.b.c:443')).toBe('a.b.c');
    expect(limiterHostKey('http://a.b.c:443')).toBe('a.b.c:443');
    expect(limiterHostKey('http://localhost:8080')).toBe('localhost:8080');
  });
});
