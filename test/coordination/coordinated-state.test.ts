/**
 * CoordinatedState over a real redis-server: a process joining a fleet starts from what the
 * fleet learned, a congestion event cuts the fleet once however many processes see it,
 * dispatches take the fleet's send slots while it paces, and with Redis gone every
 * decision is the local controller's own.
 */
import { afterAll, expect, it } from 'vitest';
import { CoordinatedState } from '../../src/coordination/coordinated-state.js';
import type { Coordinator } from '../../src/coordination/coordinator.js';
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
  function state(host: string, c: Coordinator = coordinator()) {
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

  /**
   * A process that has learned limit 1 from the fleet (not pacing), then sent 12 requests
   * about 15 ms apart, asking when it may send before each as the limiter does.
   */
  async function atTheFloor(host: string, c: Coordinator = coordinator()) {
    const seed = coordinator();
    await seed.reportCongestion(host, { eventSeen: 0, limit: 1 });
    const p = state(host, c);
    expect(await eventually(() => p.shared.snapshot().limit === 1, 2000)).toBe(true);
    const sent = [];
    for (let i = 0; i < 12; i++) {
      await new Promise((resolve) => setTimeout(resolve, 15));
      const now = clock.now();
      p.shared.sendAt(now);
      sent.push(p.shared.dispatch(now, 16, 0));
    }
    return { ...p, seed, sent, now: clock.now() };
  }

  it('paces by its own controller while the fleet does not pace yet', async () => {
    const host = uniqueHost('own-pace');
    const { shared, local, sent, now } = await atTheFloor(host);
    // Throttled at one request in flight: the local controller starts pacing. Until the
    // fleet's answer lands the fleet has no rate; the rule before sent at once (its slots
    // are "now"), so a trial of that cut measured a cut that was never made.
    expect(shared.onThrottle(now + 1, sent.at(-1)!)).toBe('congestion');
    const rate = local.snapshot().pacingRate;
    expect(rate).toBeDefined();
    expect(shared.sendAt(now + 1)).toBe(local.sendAt(now + 1));
    expect(shared.sendAt(now + 1)).toBeGreaterThan(now + 1);
  });

  it('starts the fleet at the local pacing rate’s share of what the fleet sent', async () => {
    const host = uniqueHost('first-rate');
    const { shared, local, seed, sent, now } = await atTheFloor(host);
    shared.onThrottle(now + 1, sent.at(-1)!);
    const rate = local.snapshot().pacingRate!;
    // A lone process: the fleet's sends are its own, so the fleet's first rate is about
    // its pacing rate (the rule before: 0.7 × the slots reserved per second, none here).
    expect(await eventually(async () => (await seed.join(host))?.event === 2, 2000)).toBe(true);
    const fleet = (await seed.join(host))!;
    expect(fleet.rate).toBeGreaterThan(0.8 * rate);
    expect(fleet.rate).toBeLessThan(1.2 * rate);
  });

  it('does not take a state from before the event it knows (a reservation answered late)', async () => {
    const host = uniqueHost('late');
    const real = coordinator();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The real coordinator, its answers to reservations held back until released.
    const late: Coordinator = {
      attach: (context) => real.attach(context),
      join: (h) => real.join(h),
      reserve: async (h, count, sentCount) => {
        const grant = await real.reserve(h, count, sentCount);
        await held;
        return grant;
      },
      reportCongestion: (h, report) => real.reportCongestion(h, report),
      reportRate: (h, report) => real.reportRate(h, report),
      get available() {
        return real.available;
      },
      dispose: () => real.dispose(),
    };
    // A reservation made under event 1 (the first, while the process sends) is held...
    const { shared, seed, sent, now } = await atTheFloor(host, late);
    // ...while a throttle opens event 2 and the process takes the fleet's new rate.
    shared.onThrottle(now + 1, sent.at(-1)!);
    expect(await eventually(async () => (await seed.join(host))?.event === 2, 2000)).toBe(true);
    const cut = (await seed.join(host))!.rate!;
    expect(await eventually(() => shared.snapshot().pacingRate !== undefined, 2000)).toBe(true);
    // The late answer (event 1, no rate) lands: the cut stands.
    release();
    await held;
    await new Promise((resolve) => setTimeout(resolve, 20));
    shared.sendAt(clock.now());
    expect(shared.snapshot().pacingRate).toBeCloseTo(cut, 3);
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
