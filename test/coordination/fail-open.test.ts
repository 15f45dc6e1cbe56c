/**
 * Fail-open on a real redis-server that is killed, frozen (SIGSTOP) or never there: calls
 * resolve to `undefined` (local behaviour) within the coordinator's own bound, one warning
 * per outage, probes in the background, shared state again once Redis answers.
 */
import { afterEach, expect, it } from 'vitest';
import { bounded, FailOpenGuard } from '../../src/coordination/fail-open.js';
import { type RedisCoordinator, redisCoordinator } from '../../src/coordination/redis-coordinator.js';
import { ManualClock } from '../../src/resilience/clock.js';
import { recordingLogger } from '../helpers/clocks.js';
import { freePort } from '../helpers/redis-server.js';
import { describeWithRedis, eventually, uniqueHost } from './redis-fixture.js';

const open: RedisCoordinator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.dispose()));
});

function coordinator(url: string, options: { probeInterval?: number; connectTimeout?: number } = {}) {
  const log = recordingLogger();
  const c = redisCoordinator({
    url,
    keyPrefix: 'test-failopen:',
    clock: new ManualClock(0),
    logger: log.logger,
    probeInterval: 0.02,
    ...options,
  });
  open.push(c);
  const warnings = () => log.records.filter((r) => r.level === 'warn');
  return { c, log, warnings };
}

/** Time one call in real ms. */
async function timed<T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await call();
  return { value, ms: performance.now() - t0 };
}

describeWithRedis('fail-open on redis-server', (server) => {
  it('falls back when the server is killed, warns once, and comes back after a restart', async () => {
    const { c, log, warnings } = coordinator(server().url);
    const host = uniqueHost('killed');
    expect(await c.reportCongestion(host, { eventSeen: 0, rate: 50 })).toMatchObject({ accepted: true });
    await server().kill();
    // The closed connection is seen at once: a refused command, not a wait for the timer.
    const first = await c.reserve(host, 1);
    expect(first).toBeUndefined();
    expect(c.available).toBe(false);
    expect(c.stats()).toMatchObject({ failures: 1, timeouts: 0, outages: 1 });
    // While it is away, calls are answered at once without touching the network.
    for (let i = 0; i < 5; i++) expect(await c.join(host)).toBeUndefined();
    expect(c.stats().skipped).toBe(5);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]?.fields).toMatchObject({
      logger: 'pinecone._internal.adaptive',
      event: 'coordination_unavailable',
    });
    await server().restart();
    expect(await eventually(() => c.available, 10_000)).toBe(true);
    expect(log.records.some((r) => r.fields.event === 'coordination_restored')).toBe(true);
    // Shared state again (the restarted server lost it: no persistence), scripts reloaded.
    expect(await c.reportCongestion(host, { eventSeen: 0, rate: 20 })).toMatchObject({ accepted: true });
    expect(warnings()).toHaveLength(1);
  });

  it('listens to the fleet’s events again after the server came back', async () => {
    const { c } = coordinator(server().url);
    const other = coordinator(server().url).c;
    const host = uniqueHost('watch-restart');
    const events: number[] = [];
    c.watch(host, (event) => events.push(event));
    // Reports until one is heard (the subscription lands asynchronously).
    const heard = async (eventSeen: number) => {
      let seen = eventSeen;
      return eventually(async () => {
        const verdict = await other.reportCongestion(host, { eventSeen: seen, rate: 20 });
        if (verdict?.accepted) seen = verdict.state.event;
        return events.length > 0;
      }, 10_000);
    };
    expect(await heard(0)).toBe(true);
    await server().kill();
    await server().restart();
    expect(
      await eventually(
        async () => (await c.join(host)) !== undefined && (await other.join(host)) !== undefined,
        10_000,
      ),
    ).toBe(true);
    events.length = 0;
    // The listening connection is opened again with a later command (at most once a second).
    expect(
      await eventually(async () => {
        await c.join(host);
        const verdict = await other.reportCongestion(host, {
          eventSeen: (await other.join(host))?.event ?? 0,
          rate: 20,
        });
        return verdict?.accepted === true && events.length > 0;
      }, 10_000),
    ).toBe(true);
  });

  it('falls back within its own 50 ms bound when the server is frozen, then recovers on thaw', async () => {
    const { c, warnings } = coordinator(server().url);
    const host = uniqueHost('frozen');
    expect(await c.ready()).toBe(true);
    server().freeze();
    try {
      const { value, ms } = await timed(() => c.reserve(host, 1));
      expect(value).toBeUndefined();
      // Our timer ended it (the socket is open; nothing else would have).
      expect(c.stats()).toMatchObject({ timeouts: 1, failures: 0 });
      expect(ms).toBeGreaterThanOrEqual(45);
      // Generous for a shared machine; the client's own timeouts are seconds.
      expect(ms).toBeLessThan(500);
      expect(warnings()).toHaveLength(1);
      expect((await timed(() => c.join(host))).value).toBeUndefined();
    } finally {
      server().thaw();
    }
    expect(await eventually(() => c.available, 10_000)).toBe(true);
    expect(await c.join(host)).toMatchObject({ event: 0 });
  });

  it('is back the moment a short freeze ends: the late reply ends the outage, no probe waited for', async () => {
    // The first probe would come 30 s after the outage began: only the reply to the call
    // given up can end it within the test (a reply counts within the connect bound, 5 s
    // here: a busy machine may stretch the call's own bound up to 20x).
    const { c, log } = coordinator(server().url, { probeInterval: 30, connectTimeout: 5 });
    const host = uniqueHost('short-freeze');
    expect(await c.ready()).toBe(true);
    server().freeze();
    let thawed = false;
    try {
      expect(await c.reserve(host, 1)).toBeUndefined();
      expect(c.available).toBe(false);
      expect(c.stats()).toMatchObject({ timeouts: 1, outages: 1 });
      server().thaw();
      thawed = true;
      expect(await eventually(() => c.available, 5_000)).toBe(true);
    } finally {
      if (!thawed) server().thaw();
    }
    expect(c.stats()).toMatchObject({ timeouts: 1, outages: 1 });
    expect(log.records.map((r) => r.fields.event)).toEqual([
      'coordination_unavailable',
      'coordination_restored',
    ]);
    expect(await c.join(host)).toMatchObject({ event: 0 });
  });
});

it('falls back at once when nothing listens, and warns once', async () => {
  const port = await freePort();
  const { c, warnings } = coordinator(`redis://127.0.0.1:${port}`);
  const { value, ms } = await timed(() => c.join('h'));
  expect(value).toBeUndefined();
  expect(ms).toBeLessThan(2000); // refused: no waiting for the connect bound (1 s) either
  expect(await c.reserve('h', 2)).toBeUndefined();
  expect(warnings()).toHaveLength(1);
  expect(String(warnings()[0]?.message)).toContain(`redis://127.0.0.1:${port}`);
});

it('counts a reply that arrived while the event loop was busy as in time', async () => {
  let answer: (value: string) => void = () => {};
  const reply = new Promise<string>((resolve) => {
    answer = resolve;
  });
  const outcome = bounded(reply, 5);
  // The loop is blocked past both times: when it runs again the bound's timer fires first,
  // and the reply (due at 10 ms) is handled in the same turn, before the verdict.
  setTimeout(() => answer('late but there'), 10);
  const until = performance.now() + 30;
  while (performance.now() < until) {
    // busy
  }
  expect(await outcome).toEqual({ kind: 'ok', value: 'late but there' });
  expect(await bounded(new Promise(() => {}), 5)).toEqual({ kind: 'timeout' });
});

it('gives a reply a little more time when the process itself was busy past the bound', async () => {
  // 8 processes starting together on 2 cores: the bound's timers fired at 90-200 ms (50 ms
  // asked), their replies were read 1-17 ms later, and each process decided alone.
  let answer: (value: string) => void = () => {};
  const reply = new Promise<string>((resolve) => {
    answer = resolve;
  });
  const outcome = bounded(reply, 20);
  const until = performance.now() + 60;
  while (performance.now() < until) {
    // busy: the timer fires 40 ms late
  }
  // The reply comes 5 ms after the loop is free again (the rule before: a timeout).
  setTimeout(() => answer('read after the stall'), 5);
  expect(await outcome).toEqual({ kind: 'ok', value: 'read after the stall' });
  // A slow store, the process not busy: the bound holds.
  const slow = new Promise<string>((resolve) => setTimeout(() => resolve('too late'), 200));
  expect(await bounded(slow, 20)).toEqual({ kind: 'timeout' });
  // Starved far past the bound (16 processes starting at once on 2 cores: calls of 260-330
  // ms, the process late all along; the rule before gave up at 4× the bound).
  const starved = new Promise<string>((resolve) => {
    answer = resolve;
  });
  const patient = bounded(starved, 8);
  for (let i = 0; i < 4; i++) {
    // Busy 15 ms, then one turn of the loop: every timer fires late (60 ms in all, 7.5×).
    const until3 = performance.now() + 15;
    while (performance.now() < until3) {
      // busy
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  setTimeout(() => answer('read after a long stall'), 2);
  expect(await patient).toEqual({ kind: 'ok', value: 'read after a long stall' });
  // Busy, and no reply within the extra time either: a timeout all the same.
  const never = bounded(new Promise(() => {}), 20);
  const until2 = performance.now() + 60;
  while (performance.now() < until2) {
    // busy
  }
  expect(await never).toEqual({ kind: 'timeout' });
});

it('ends an outage at once when the reply to the call that began it comes late', async () => {
  // 8 processes starting together on 2 cores gave up their first calls at 60-86 ms, the
  // replies came 0-14 ms later, and each decided alone for 150 ms more (the probe's delay
  // and round trip) while the fleet learnt its first rate.
  const log = recordingLogger();
  let probes = 0;
  const guard = (connectTimeoutMs: number) =>
    new FailOpenGuard({
      timeoutMs: 10,
      connectTimeoutMs,
      // No probe runs within the test: only a late reply can end an outage.
      probeIntervalMs: 60_000,
      maxProbeIntervalMs: 60_000,
      probe: async () => {
        probes += 1;
        return 'pong';
      },
      lateAnswerGapMs: 60_000,
      store: 'test-store',
      logger: () => log.logger,
    });
  const later = () => {
    let answer: (value: string) => void = () => {};
    const reply = new Promise<string>((resolve) => {
      answer = resolve;
    });
    return { reply, answer: () => answer('late') };
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

  const g = guard(1000);
  await g.start();
  expect(probes).toBe(1);
  const first = later();
  expect(await g.run(() => first.reply)).toBeUndefined();
  expect(g.available).toBe(false);
  expect(await g.run(async () => 'skipped')).toBeUndefined();
  first.answer();
  await settle();
  expect(g.available).toBe(true);
  expect(probes).toBe(1);
  expect(await g.run(async () => 'shared again')).toBe('shared again');
  expect(log.records.map((r) => r.fields.event)).toEqual([
    'coordination_unavailable',
    'coordination_restored',
  ]);

  // A second outage within the gap: a store steadily slower than the bound would end every
  // outage so and flap on every call; this one waits for its probe.
  const second = later();
  expect(await g.run(() => second.reply)).toBeUndefined();
  second.answer();
  await settle();
  expect(g.available).toBe(false);
  expect(g.stats).toMatchObject({ timeouts: 2, outages: 2 });
  g.close();

  // A reply later than a probe may take (the connect bound) does not count either.
  const h = guard(15);
  await h.start();
  const third = later();
  expect(await h.run(() => third.reply)).toBeUndefined();
  await new Promise((resolve) => setTimeout(resolve, 30));
  third.answer();
  await settle();
  expect(h.available).toBe(false);
  h.close();
});
