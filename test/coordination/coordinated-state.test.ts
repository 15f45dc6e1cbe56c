/**
 * CoordinatedState over a real redis-server: a process joining a fleet starts from what the
 * fleet learned, a congestion event cuts the fleet once however many processes see it,
 * dispatches take the fleet's send slots while it paces, and with Redis gone every
 * decision is the local controller's own.
 */
import { afterAll, expect, it } from 'vitest';
import { CoordinatedState } from '../../src/coordination/coordinated-state.js';
import { type RedisCoordinator, redisCoordinator } from '../../src/coordination/redis-coordinator.js';
import { AimdState } from '../../src/resilience/aimd-state.js';
import { type Clock, systemClock } from '../../src/resilience/clock.js';
import { recordingLogger } from '../helpers/clocks.js';
import { describeWithRedis, eventually, uniqueHost } from './redis-fixture.js';

/** Real time: the coordinator converts Redis time to it. */
const clock: Clock = { now: () => performance.now(), sleep: systemClock.sleep };

describeWithRedis('CoordinatedState on redis-server', (server) => {
  const open: RedisCoordinator[] = [];
  /** One process's coordinator (its own connection). */
  function coordinator(url = server().url): RedisCoordinator {
    const c = redisCoordinator({
      url,
      keyPrefix: 'test-state:',
      clock,
      logger: recordingLogger().logger,
      timeout: 200,
    });
    c.attach({ logger: recordingLogger().logger, clock });
    open.push(c);
    return c;
  }
  /** One process's state of `host`: a controller that has measured a 50 ms round trip. */
  function state(host: string, c: RedisCoordinator = coordinator()) {
    const local = new AimdState({ initialRttMs: 50, noise: false });
    return { local, shared: new CoordinatedState({ local, coordinator: c, host, clock }), coordinator: c };
  }
  afterAll(async () => {
    await Promise.all(open.map((c) => c.dispose()));
  });

  it('starts a fresh process from the fleet’s limit and rate, without slow start', async () => {
    const host = uniqueHost('join');
    const seed = coordinator();
    await seed.reportCongestion(host, { eventSeen: 0, rate: 25, limit: 3 });
    const { shared } = state(host);
    expect(await eventually(() => shared.snapshot().limit === 3, 2000)).toBe(true);
    expect(shared.snapshot().pacingRate).toBe(25);
    // The limit it adopted holds: a fourth request in flight waits.
    expect(shared.admit(16, 2)).toBe(true);
    expect(shared.admit(16, 3)).toBe(false);
  });

  it('cuts the fleet once per congestion event, however many processes see it', async () => {
    const host = uniqueHost('once');
    const seed = coordinator();
    await seed.reportCongestion(host, { eventSeen: 0, rate: 20, limit: 1 });
    const a = state(host);
    const b = state(host);
    for (const p of [a, b]) {
      expect(await eventually(() => p.shared.snapshot().pacingRate === 20, 2000)).toBe(true);
    }
    // Both send under event 1 and both are throttled: one event.
    const now = clock.now();
    const da = a.shared.dispatch(now, 16, 0);
    const db = b.shared.dispatch(now, 16, 0);
    expect(a.shared.onThrottle(now + 50, da)).toBe('congestion');
    expect(await eventually(async () => (await seed.join(host))?.event === 2, 2000)).toBe(true);
    expect(b.shared.onThrottle(now + 51, db)).toBe('congestion');
    // B's report is answered with the state A's set: B adopts it instead of cutting again.
    expect(await eventually(() => b.shared.snapshot().pacingRate === 14, 2000)).toBe(true);
    const after = await seed.join(host);
    expect(after?.event).toBe(2);
    expect(after?.rate).toBeCloseTo(14, 6);
    // A throttle of a request sent after the event is a new one: the fleet is cut again.
    const later = b.shared.dispatch(clock.now(), 16, 0);
    b.shared.onThrottle(clock.now(), later);
    expect(await eventually(async () => (await seed.join(host))?.event === 3, 2000)).toBe(true);
    expect((await seed.join(host))?.rate).toBeCloseTo(9.8, 6);
  });

  it('spaces the fleet’s sends by its pacing interval across processes', async () => {
    const host = uniqueHost('pace');
    const seed = coordinator();
    // 40 req/s: one send every 25 ms for the fleet as a whole.
    await seed.reportCongestion(host, { eventSeen: 0, rate: 40, limit: 4 });
    const procs = [state(host), state(host)];
    for (const p of procs)
      expect(await eventually(() => p.shared.snapshot().pacingRate === 40, 2000)).toBe(true);
    // Each process asks when it may send, and sends then, 6 times.
    const sends: number[] = [];
    await Promise.all(
      procs.map(async (p) => {
        for (let i = 0; i < 6; i++) {
          for (;;) {
            const now = clock.now();
            const at = p.shared.sendAt(now);
            if (at <= now) break;
            await new Promise((resolve) => setTimeout(resolve, Math.max(1, at - now)));
          }
          const now = clock.now();
          sends.push(now);
          p.shared.onSuccess(now + 1, p.shared.dispatch(now, 16, 0));
        }
      }),
    );
    sends.sort((x, y) => x - y);
    // 12 sends from one schedule take at least 11 intervals (less a timer's slack), where
    // two processes pacing apart would both send at 40 req/s (about half that).
    expect(sends.at(-1)! - sends[0]!).toBeGreaterThan(11 * 25 - 20);
  });

  it('decides alone while Redis is unreachable, exactly as the local controller would', async () => {
    const host = uniqueHost('down');
    // Nothing listens on port 1.
    const { shared, local } = state(host, coordinator('redis://127.0.0.1:1'));
    const twin = new AimdState({ initialRttMs: 50, noise: false });
    let now = clock.now();
    for (let i = 0; i < 20; i++) {
      now += 10;
      expect(shared.sendAt(now)).toBe(twin.sendAt(now));
      expect(shared.admit(16, 0)).toBe(twin.admit(16, 0));
      const d = shared.dispatch(now, 16, 0);
      const t = twin.dispatch(now, 16, 0);
      if (i % 5 === 4) expect(shared.onThrottle(now + 50, d)).toBe(twin.onThrottle(now + 50, t));
      else {
        shared.onSuccess(now + 50, d);
        twin.onSuccess(now + 50, t);
      }
    }
    expect(shared.snapshot()).toEqual({ ...local.snapshot(), pausedUntil: local.pausedUntil });
    expect(shared.snapshot().limit).toBe(twin.snapshot().limit);
    expect(shared.snapshot().pacingRate).toBe(twin.snapshot().pacingRate);
  });
});
