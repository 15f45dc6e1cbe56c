/**
 * `redisCoordinator()` on a real redis-server: times in each caller's clock (skewed clocks
 * agree), recovery steps riding on reservations, clients the caller holds, validation, and
 * what it leaves in Redis and in logs (never a secret).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import { type RedisCoordinator, redisCoordinator } from '../../src/coordination/redis-coordinator.js';
import type { ScriptClient } from '../../src/coordination/script-client.js';
import { eventChannel } from '../../src/coordination/scripts.js';
import { ValidationError } from '../../src/errors.js';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { type Clock, ManualClock, systemClock } from '../../src/resilience/clock.js';
import { limiterHostKey } from '../../src/resilience/registry.js';
import { recordingLogger } from '../helpers/clocks.js';
import {
  clientCount,
  clientIds,
  connection,
  describeWithRedis,
  eventually,
  inspector,
  subscribers,
  uniqueHost,
} from './redis-fixture.js';

const PASSWORD = 'redis-pass-9f3c1';

/** Real time shifted by `skew` ms: a process whose clock is wrong. */
function offsetClock(skew: number): Clock {
  return { now: () => performance.now() + skew, sleep: systemClock.sleep };
}

describeWithRedis(
  'redisCoordinator on redis-server',
  (server) => {
    const open: RedisCoordinator[] = [];
    function coordinator(clock: Clock = new ManualClock(1_000), keyPrefix = 'test-coord:') {
      const c = redisCoordinator({ url: server().url, keyPrefix, clock, logger: recordingLogger().logger });
      open.push(c);
      return c;
    }
    afterAll(async () => {
      await Promise.all(open.map((c) => c.dispose()));
    });

    it('hands out times in each caller’s own clock, so skewed clocks agree on the schedule', async () => {
      const host = uniqueHost('skew');
      // Two processes whose clocks disagree by about 35 days.
      const skewA = 5_000;
      const skewB = -3_000_000_000;
      const a = coordinator(offsetClock(skewA));
      const b = coordinator(offsetClock(skewB));
      const cut = await a.reportCongestion(host, { eventSeen: 0, rate: 100, retryAfterMs: 2000 });
      const seen = await b.join(host);
      expect(cut?.accepted).toBe(true);
      // Converted back to one time line, both see the same end of the cool-down; the
      // tolerance is a reply's latency on a busy machine, not the skew.
      const endA = cut!.state.pausedUntil! - skewA;
      const endB = seen!.pausedUntil! - skewB;
      expect(Math.abs(endA - endB)).toBeLessThan(25);
      expect(endA - performance.now()).toBeGreaterThan(1900);
      // Slots after the cool-down, one per 10 ms, the two processes one batch after the other.
      const ga = await a.reserve(host, 3);
      const gb = await b.reserve(host, 2);
      expect(ga!.slots.map((t) => t - ga!.slots[0]!)).toEqual([0, 10, 20].map((x) => expect.closeTo(x, 2)));
      expect(Math.abs(ga!.slots[0]! - skewA - endA)).toBeLessThan(25);
      expect(Math.abs(gb!.slots[0]! - skewB - (endA + 30))).toBeLessThan(25);
      expect(ga?.state).toMatchObject({ event: 1, rate: 100 });
    });

    it('sends recovery steps with the next reservation, not as calls of their own', async () => {
      const host = uniqueHost('recover');
      const c = coordinator();
      await c.reportCongestion(host, { eventSeen: 0, rate: 10, limit: 2 });
      const before = c.stats().commands;
      c.reportRate(host, { eventSeen: 1, rate: 11 });
      c.reportRate(host, { eventSeen: 1, rate: 13, limit: 3 });
      c.reportRate(host, { eventSeen: 1, rate: 12 });
      expect(c.stats().commands).toBe(before);
      const grant = await c.reserve(host, 1);
      expect(c.stats().commands).toBe(before + 1);
      expect(grant?.state).toMatchObject({ event: 1, rate: 13, limit: 3 });
    });

    it('releases a state’s last counts and unused slots, and lets them land before closing', async () => {
      const host = uniqueHost('release');
      const seed = coordinator();
      await seed.reportCongestion(host, { eventSeen: 0, rate: 10 });
      const c = coordinator();
      const grant = await c.reserve(host, 3, { sent: 0 });
      expect(grant?.slots).toHaveLength(3);
      c.reportRate(host, { eventSeen: 1, rate: 12 });
      // Two of the three slots unused and ahead; 5 sends and 4 successes not reported yet.
      c.release(host, { sent: 5, admitted: 4, returned: 2 });
      await c.dispose();
      const after = (await seed.join(host))!;
      // The recovery step it still held went with it; the counts are in the fleet's rates.
      expect(after.rate).toBe(12);
      expect(after.sendRate).toBeGreaterThan(0);
      expect(after.admittedRate).toBeGreaterThan(0);
      // The schedule the two slots held is free again: the next slot follows the one used.
      const next = (await seed.reserve(host, 1))!;
      expect(next.slots[0]! - grant!.slots[0]!).toBeLessThan(2 * 100 - 10);
    });

    it('hands slots back where they lay: another process reserving next gets them first, at their times', async () => {
      const host = uniqueHost('release-holes');
      const a = coordinator(offsetClock(7_000));
      const b = coordinator(offsetClock(-40_000));
      // A cool-down puts the schedule 2 s ahead: no slot is past when it is handed back.
      await a.reportCongestion(host, { eventSeen: 0, rate: 50, retryAfterMs: 2000 });
      const mine = (await a.reserve(host, 4))!;
      const theirs = (await b.reserve(host, 4))!;
      expect(mine.slots).toHaveLength(4);
      // Three of mine unused, handed back with their times (A's clock). They lie before B's
      // four: moving the schedule back by three (the rule before) granted B's slots again.
      a.release(host, { returned: 3, returnedAt: mine.slots.slice(1), returnedEvent: 1 });
      await a.dispose();
      const next = (await b.reserve(host, 4))!;
      // In B's clock: A's three slots (the clocks' offsets apart), then one after B's four.
      const shift = -40_000 - 7_000;
      expect(next.slots.slice(0, 3)).toEqual(mine.slots.slice(1).map((t) => expect.closeTo(t + shift, -2)));
      expect(next.slots[3]! - theirs.slots[3]!).toBeCloseTo(20, 0);
    });

    it('logs each congestion report the fleet answered at debug: opened or adopted, the fleet’s event and rate', async () => {
      const host = uniqueHost('log-congestion');
      const log = recordingLogger();
      const c = redisCoordinator({ url: server().url, keyPrefix: 'test-coord:', logger: log.logger });
      open.push(c);
      await c.reportCongestion(host, { eventSeen: 0, rate: 40 });
      // A second report under the same event's predecessor adopts the event it opened.
      await c.reportCongestion(host, { eventSeen: 0, rate: 20 });
      const records = log.records.filter((r) => r.fields.event === 'coordination_congestion');
      expect(records.map((r) => [r.level, r.message])).toEqual([
        ['debug', `Congestion reported to the fleet: host=${host} event_seen=0 opened event=1 rate=40.0/s`],
        ['debug', `Congestion reported to the fleet: host=${host} event_seen=0 adopted event=1 rate=40.0/s`],
      ]);
      expect(records[0]!.fields).toMatchObject({
        logger: 'pinecone._internal.adaptive',
        host,
        eventSeen: 0,
        opened: true,
        fleetEvent: 1,
        rate: 40,
        trying: false,
      });
      expect(records[1]!.fields).toMatchObject({ opened: false, fleetEvent: 1 });
    });

    it('starts a fresh process from the fleet’s rate and limit', async () => {
      const host = uniqueHost('fresh');
      await coordinator().reportCongestion(host, { eventSeen: 0, rate: 42, limit: 3 });
      const fresh = coordinator();
      expect(await fresh.join(host)).toMatchObject({ event: 1, rate: 42, limit: 3, pausedUntil: undefined });
    });

    it('works over a @redis/client client the caller holds, and leaves it open', async () => {
      const client = await inspector(server().url);
      const c = redisCoordinator({ client, keyPrefix: 'test-coord:' });
      const host = uniqueHost('held');
      expect((await c.reportCongestion(host, { eventSeen: 0, rate: 5 }))?.accepted).toBe(true);
      await c.dispose();
      expect(client.isOpen).toBe(true);
      expect(await c.join(host)).toBeUndefined();
      client.destroy();
    });

    it('works over any ScriptClient', async () => {
      const base = connection(server().url);
      const custom: ScriptClient = {
        evalScriptBySha: (sha, keys, args) => base.evalScriptBySha(sha, keys, args),
        evalScript: (source, keys, args) => base.evalScript(source, keys, args),
        serverTime: () => base.serverTime(),
      };
      const c = redisCoordinator({ client: custom, keyPrefix: 'test-coord:' });
      expect(await c.join(uniqueHost('custom'))).toMatchObject({ event: 0 });
      await c.dispose();
      await base.close();
    });

    it('tells a watcher of each event another process opens, on a connection it closes on dispose', async () => {
      const host = uniqueHost('watch');
      const raw = await inspector(server().url);
      const clients = () => clientCount(raw);
      const listening = () => subscribers(raw, eventChannel(`test-watch:${host}`));
      const baseline = await clients();
      const watcher = redisCoordinator({ url: server().url, keyPrefix: 'test-watch:' });
      const other = coordinator(new ManualClock(1_000), 'test-watch:');
      const events: number[] = [];
      const unwatch = watcher.watch(host, (event) => events.push(event));
      expect(await eventually(async () => (await listening()) === 1, 2000)).toBe(true);
      await other.reportCongestion(host, { eventSeen: 0, rate: 10 });
      // A report under an event already answered opens none: nothing is told.
      await other.reportCongestion(host, { eventSeen: 0, rate: 8 });
      await other.reportCongestion(host, { eventSeen: 1, rate: 5 });
      expect(await eventually(() => events.length === 2, 2000)).toBe(true);
      expect(events).toEqual([1, 2]);
      unwatch();
      expect(await eventually(async () => (await listening()) === 0, 2000)).toBe(true);
      watcher.watch(host, () => {});
      expect(await eventually(async () => (await clients()) === baseline + 2, 2000)).toBe(true);
      await watcher.dispose();
      expect(await eventually(async () => (await clients()) === baseline + 1, 2000)).toBe(true);
      raw.destroy();
    });

    it('starts the schedule again from an event someone watches, after the old rate’s slots otherwise', async () => {
      // Eight busy processes reserving 4 slots each held the schedule half a second ahead: a
      // cut reached the sends only after it, and the old rate's slots drew more throttles
      // and further events (three in 0.8 s in one trace).
      const clock = new ManualClock(1_000);
      for (const watched of [false, true]) {
        const host = uniqueHost(watched ? 'restart-watched' : 'restart');
        const c = coordinator(clock, 'test-watch:');
        const watcher = redisCoordinator({ url: server().url, keyPrefix: 'test-watch:' });
        open.push(watcher);
        if (watched) {
          watcher.watch(host, () => {});
          const raw = await inspector(server().url);
          const channel = eventChannel(watcher.key(host));
          expect(await eventually(async () => (await subscribers(raw, channel)) === 1, 2000)).toBe(true);
          raw.destroy();
        }
        await c.reportCongestion(host, { eventSeen: 0, rate: 10 });
        // A second of the schedule booked by others.
        const booked = await c.reserve(host, 3);
        await c.reserve(host, 3);
        await c.reserve(host, 3);
        await c.reserve(host, 1);
        const first = booked!.slots[0]!;
        await c.reportCongestion(host, { eventSeen: 1, rate: 8 });
        const next = (await c.reserve(host, 1))!.slots[0]!;
        if (watched) expect(next - first).toBeLessThan(50);
        else expect(next - first).toBeGreaterThan(900);
      }
    });

    it('closes its own connection on dispose', async () => {
      const raw = await inspector(server().url);
      const before = await clientIds(raw);
      const c = redisCoordinator({ url: server().url });
      expect(await c.ready()).toBe(true);
      // Its one connection, by id (another test's may still be closing meanwhile).
      const opened = [...(await clientIds(raw))].filter((id) => !before.has(id));
      expect(opened).toHaveLength(1);
      await c.dispose();
      expect((await clientIds(raw)).has(opened[0]!)).toBe(false);
      expect(await c.reserve(uniqueHost('disposed'), 1)).toBeUndefined();
      raw.destroy();
    });
  },
  {},
);

describeWithRedis(
  'redisCoordinator secrets',
  (server) => {
    let emulator: LocalServer;
    beforeAll(async () => {
      emulator = await startLocalServer({
        port: 0,
        indexes: [{ name: 'idx', dimension: 4, metric: 'cosine' }],
      });
    });
    afterAll(async () => {
      await emulator.close();
    });

    it('never writes the API key or the Redis password into a key, a value or a log record', async () => {
      const apiKey = 'pc-api-key-7d41e0';
      const log = recordingLogger();
      const coordination = redisCoordinator({ url: server().url, keyPrefix: 'secrets:' });
      const pc = new Pinecone({ apiKey, logger: log.logger, coordination });
      const host = emulator.indexHost('idx');
      await pc.index({ host }).upsert({ vectors: [{ id: 'a', values: [1, 0, 0, 0] }] });
      await coordination.reportCongestion(host, { eventSeen: 0, rate: 5, limit: 2, retryAfterMs: 10 });
      await coordination.reserve(host, 2);
      const raw = await inspector(server().url);
      const keys = (await raw.keys('*')).sort();
      // The upsert's limiter keys its host as the registry does (no scheme); the reports
      // above used the URL itself.
      expect(keys).toEqual([`secrets:${limiterHostKey(host)}`, `secrets:${host}`].sort());
      const dump = JSON.stringify([keys, ...(await Promise.all(keys.map((k) => raw.hGetAll(k))))]);
      // The outage warning names the store, never its credentials.
      await server().kill();
      expect(await coordination.reserve(host, 1)).toBeUndefined();
      await pc.close();
      await server().restart();
      raw.destroy();
      const records = JSON.stringify(log.records);
      expect(records).toContain('coordination_unavailable');
      for (const secret of [apiKey, PASSWORD]) {
        expect(dump).not.toContain(secret);
        expect(records).not.toContain(secret);
      }
    });
  },
  { password: PASSWORD },
);

it('rejects bad options with a ValidationError that does not echo the URL', () => {
  const bad = 'http://user:hunter2@127.0.0.1:6379';
  expect(() => redisCoordinator({ url: bad })).toThrow(ValidationError);
  try {
    redisCoordinator({ url: bad });
  } catch (error) {
    expect(String((error as Error).message)).not.toContain('hunter2');
  }
  expect(() => redisCoordinator({})).toThrow(/exactly one of url and client/);
  expect(() => redisCoordinator({ url: 'redis://x', client: {} as ScriptClient })).toThrow(ValidationError);
  expect(() => redisCoordinator({ client: {} as ScriptClient })).toThrow(/sendCommand/);
  expect(() => redisCoordinator({ url: 'redis://x', timeout: 0 })).toThrow(/timeout/);
  expect(() => redisCoordinator({ url: 'redis://x', ttl: Number.NaN })).toThrow(/ttl/);
  expect(() => new Pinecone({ apiKey: 'k', coordination: {} as RedisCoordinator })).toThrow(/coordination/);
});

it('rejects bad reports before anything is sent', async () => {
  const c = redisCoordinator({ url: 'redis://127.0.0.1:9' });
  await expect(c.reserve('', 1)).rejects.toThrow(ValidationError);
  await expect(c.reserve('h', 0)).rejects.toThrow(/count/);
  await expect(c.reportCongestion('h', { eventSeen: -1 })).rejects.toThrow(/eventSeen/);
  await expect(c.reportCongestion('h', { eventSeen: 0, rate: 0 })).rejects.toThrow(/rate/);
  await expect(c.reportCongestion('h', { eventSeen: 0, limit: 1.5 })).rejects.toThrow(/limit/);
  expect(() => c.reportRate('h', { eventSeen: 0, limit: Number.POSITIVE_INFINITY })).toThrow(/limit/);
  // The counts a process reports: whole numbers, never negative.
  await expect(c.reserve('h', 1, { sent: -1 })).rejects.toThrow(/sent/);
  await expect(c.reserve('h', 1, { admitted: 0.5 })).rejects.toThrow(/admitted/);
  await expect(c.reportCongestion('h', { eventSeen: 0, returned: Number.NaN })).rejects.toThrow(/returned/);
  await expect(c.reportCongestion('h', { eventSeen: 0, sent: 2, admitted: -3 })).rejects.toThrow(
    ValidationError,
  );
  // The new report fields: factors in range, a settling time that is a time.
  await expect(c.reportCongestion('h', { eventSeen: 0, cut: 0.7, knee: 1.5 })).rejects.toThrow(/knee/);
  await expect(c.reportCongestion('h', { eventSeen: 0, cut: 0.7, deepest: 0 })).rejects.toThrow(/deepest/);
  await expect(
    c.reportCongestion('h', { eventSeen: 0, cut: 0.7, deepest: 0.5, shallowest: 0.4 }),
  ).rejects.toThrow(/shallowest/);
  await expect(c.reportCongestion('h', { eventSeen: 0, settleMs: -1 })).rejects.toThrow(/settleMs/);
  expect(() => c.release('h', { sent: -1 })).toThrow(/sent/);
  expect(() => c.release('h', { returned: 0.5 })).toThrow(/returned/);
  expect(c.stats().commands).toBe(0);
  await c.dispose();
});
