/**
 * The fleet scripts on a real redis-server: atomic under concurrent callers (send slots
 * never overlap; one congestion event cuts once), the server's clock, merges, the
 * cool-down spread, TTL expiry, and reloading a script the server forgot.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RESERVE_WINDOW_MS } from '../../src/coordination/coordinator.js';
import { FleetStore, type StoredReservation } from '../../src/coordination/fleet-store.js';
import type { NodeRedisConnection } from '../../src/coordination/node-redis.js';
import type { ScriptClient } from '../../src/coordination/script-client.js';
import { CONFIRM_CUT, FLOOR_REFUTED, RATE_FOLLOWS_KNEE_MS } from '../../src/coordination/scripts.js';
import { connection, describeWithRedis, eventually, inspector, uniqueHost } from './redis-fixture.js';

const PREFIX = 'test-fleet:';

describeWithRedis('fleet scripts on redis-server', (server) => {
  const connections: NodeRedisConnection[] = [];
  let store: FleetStore;
  let raw: Awaited<ReturnType<typeof inspector>>;

  function newStore(client: ScriptClient = connections[0] as ScriptClient, ttlMs = 60_000): FleetStore {
    return new FleetStore(client, { keyPrefix: PREFIX, ttlMs });
  }

  beforeAll(async () => {
    // Twelve separate connections: concurrent callers are separate clients, as in a fleet.
    for (let i = 0; i < 12; i++) connections.push(connection(server().url));
    store = newStore();
    raw = await inspector(server().url);
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    raw?.destroy();
  });

  it('reads an empty state, with the time taken from the server', async () => {
    const host = uniqueHost('join');
    const before = await connections[0]!.serverTime();
    const state = await store.join(host);
    const after = await connections[0]!.serverTime();
    expect(state).toMatchObject({ rate: undefined, limit: undefined, event: 0, pause: 0 });
    expect(state.now).toBeGreaterThanOrEqual(before);
    expect(state.now).toBeLessThanOrEqual(after);
    // Reading writes nothing.
    expect(await raw.exists(store.key(host))).toBe(0);
  });

  it('hands out slots at once while the fleet is not pacing, counting them in its send rate', async () => {
    const host = uniqueHost('unpaced');
    const r = await store.reserve(host, 5);
    expect(r.interval).toBe(0);
    expect(r.first).toBe(r.now);
    // A count decaying with a one-second time constant, over the part of that window the
    // spell covers (at least 100 ms), read right after its own lump as if the lump were
    // spread over the time since the last (half of it counted): 5 slots at once read as
    // 2.5 in the first 100 ms.
    const covered = 1 - Math.exp(-0.1);
    expect(r.sendRate).toBeCloseTo(2.5 / covered, 0);
    const again = await store.reserve(host, 3);
    // 5 a moment ago, decayed a little, plus half of 3, over a window that grew a little.
    expect(again.sendRate).toBeGreaterThan(6.4 / (1 - Math.exp(-0.2)));
    expect(again.sendRate).toBeLessThanOrEqual(6.5 / covered + 0.01);
    expect((await store.join(host)).sendRate).toBeGreaterThan(7 / (1 - Math.exp(-0.2)));
    expect(await raw.pTTL(store.key(host))).toBeGreaterThan(0);
  });

  it('counts the dispatches reported in its send rate, not the slots reserved', async () => {
    // Slots go unused (dropped when stale, cleared at an event): counted as sends, a lone
    // process's 88/s read as 150/s, and the fleet's first rate, cut from it, stayed far
    // above the limit (a batch at times spent all its attempts).
    const host = uniqueHost('sent');
    const covered = 1 - Math.exp(-0.1);
    const r = await store.reserve(host, 16, undefined, { sent: 2, admitted: 1 });
    expect(r.count).toBe(16);
    expect(r.sendRate).toBeCloseTo(1 / covered, 0);
    expect(r.admittedRate).toBeCloseTo(0.5 / covered, 0);
    // A congestion report carries the dispatches and successes since, counted before its cut.
    const v = await store.reportCongestion(host, { eventSeen: 0, cut: 0.5, sent: 4, admitted: 2 });
    expect(v.accepted).toBe(true);
    expect(v.sendRate).toBeGreaterThan(3.9 / (1 - Math.exp(-0.2)));
    expect(v.sendRate).toBeLessThanOrEqual(4 / covered + 0.01);
    expect(v.admittedRate).toBeCloseTo(v.sendRate / 2, 1);
    expect(v.rate).toBeCloseTo(v.sendRate / 2, 0);
    // Reading decays both alike.
    const later = await store.join(host);
    expect(later.admittedRate).toBeCloseTo(later.sendRate / 2, 1);
  });

  it('cuts a pacing fleet to the knee of the admitted rate it counts when the report lands', async () => {
    // The process's own copy of the admitted rate may be a reservation old (one read 19/s
    // where the store counted 42/s, and the fleet was cut to 22/s under a 60/s limit).
    const host = uniqueHost('knee');
    await store.reportCongestion(host, { eventSeen: 0, rate: 100 });
    const counted = await store.reserve(host, 1, undefined, { sent: 10, admitted: 6 });
    const v = await store.reportCongestion(host, {
      eventSeen: 1,
      cut: 0.7,
      knee: 0.95,
      deepest: 0.49,
      shallowest: 0.95,
    });
    expect(v.accepted).toBe(true);
    expect(v.rate).toBeCloseTo(0.95 * v.admittedRate, 0);
    expect(v.admittedRate).toBeGreaterThan(0.9 * counted.admittedRate);
    // Never deeper than `deepest`, never shallower than `shallowest` (a knee refined in the
    // event's first moments raises the rate, up to the shallowest cut of the rate before).
    const refined = await store.reserve(host, 1, undefined, { sent: 1, admitted: 1000 });
    expect(refined.knee).toBeGreaterThan(100);
    expect(refined.rate).toBeCloseTo(0.95 * 100, 3);
    const shallow = await store.reportCongestion(host, {
      eventSeen: 2,
      cut: 0.7,
      knee: 0.95,
      deepest: 0.49,
      shallowest: 0.95,
    });
    expect(shallow.rate).toBeCloseTo(0.95 * refined.rate!, 3);
    // No successes counted: the plain cut.
    const bare = uniqueHost('knee-bare');
    await store.reportCongestion(bare, { eventSeen: 0, rate: 100 });
    expect(
      (
        await store.reportCongestion(bare, {
          eventSeen: 1,
          cut: 0.7,
          knee: 0.95,
          deepest: 0.49,
          shallowest: 0.95,
        })
      ).rate,
    ).toBeCloseTo(70, 3);
  });

  it('keeps the current event’s knee for every process: set when it opens, raised in its first half second only', async () => {
    const host = uniqueHost('knee-kept');
    const first = await store.reportCongestion(host, { eventSeen: 0, rate: 100 });
    // An event opened with a rate of its own has no knee.
    expect(first).toMatchObject({ knee: undefined });
    expect(first.eventAt).toBe(first.now);
    await store.reserve(host, 1, undefined, { sent: 10, admitted: 6 });
    const v = await store.reportCongestion(host, { eventSeen: 1, cut: 0.7, knee: 0.95, deepest: 0.49 });
    expect(v.knee).toBeCloseTo(0.95 * v.admittedRate, 2);
    expect(v.rate).toBeCloseTo(v.knee!, 2);
    expect(v.eventAt).toBe(v.now);
    // Successes counted in the event's first moments raise it (they came before, counted late).
    const raised = await store.reserve(host, 1, undefined, { sent: 1, admitted: 20 });
    expect(raised.knee).toBeCloseTo(0.95 * raised.admittedRate, 2);
    expect(raised.knee).toBeGreaterThan(v.knee!);
    // The rate the cut set from the knee rises with it (the cut's shallowest here is its 0.7).
    expect(raised.rate).toBeCloseTo(Math.min(70, raised.knee!), 2);
    // A process that joins reads it.
    expect((await store.join(host)).knee).toBe(raised.knee);
    // Past the first half second, what is admitted is what the fleet's rate lets through.
    await new Promise((resolve) => setTimeout(resolve, 550));
    const later = await store.reserve(host, 1, undefined, { sent: 1, admitted: 200 });
    expect(0.95 * later.admittedRate).toBeGreaterThan(raised.knee!);
    expect(later.knee).toBe(raised.knee);
    expect(later.rate).toBe(raised.rate);
  });

  it('raises a cut to the knee early in a spell with the knee’s refinement; its trial weighs the cut as made', async () => {
    // Traced (8 processes started together under a bucket of 60/s): their second event, 0.8 s
    // in, cut the fleet to knees of 36-49/s read from successes counted late, refined to
    // 51-58/s within 200 ms; the rate stayed at the cut, held by its trial and then by
    // recovery steps a reservation late, until a second later: 20-25 requests fewer than
    // the bucket admitted, 3-4 % of the run.
    const host = uniqueHost('knee-refined-trial');
    // Sending under the rate (60 in the moment its counts cover), 11 refused.
    const cut = await cutOnTrial(host, { sent: 60, admitted: 50, refused: 10 });
    expect(cut).toMatchObject({ accepted: true, event: 2, trying: true });
    expect(cut.rate).toBeCloseTo(cut.knee!, 2);
    const factor = (await raw.hGetAll(store.key(host))).trial_factor;
    expect(Number(factor)).toBeCloseTo(cut.rate! / cut.sendRate, 2);
    // Successes counted late raise the knee, and the rate with it; the trial goes on.
    const refined = await store.reserve(host, 1, undefined, { admitted: 10 });
    expect(refined.knee).toBeGreaterThan(cut.knee!);
    expect(refined).toMatchObject({ event: 2, trying: true });
    expect(refined.rate).toBeCloseTo(refined.knee!, 2);
    // Never past the shallowest cut of the rate before; the trial still weighs the cut as
    // it was made (weighed at the shallowest, it would prove nothing).
    const high = await store.reserve(host, 1, undefined, { admitted: 400 });
    expect(high).toMatchObject({ event: 2, trying: true });
    expect(high.rate).toBeCloseTo(0.95 * 1000, 3);
    const after = await raw.hGetAll(store.key(host));
    expect(after.trial_factor).toBe(factor);
    expect(after.trial_edge).toBeUndefined();

    // A second stage's deeper cut does not rise: it is the trial's own.
    const second = uniqueHost('knee-refined-second');
    const first = await cutOnTrial(second, { sent: 100, admitted: 88, refused: 12 });
    const deeper = await sentUnder(second, 2, 24, 3);
    expect(deeper).toMatchObject({ event: 3, trying: true });
    expect(deeper.rate).toBeCloseTo(CONFIRM_CUT * first.rate!, 2);
    const counted = await store.reserve(second, 1, undefined, { admitted: 400 });
    expect(counted.knee).toBeGreaterThan(first.knee!);
    expect(counted.rate).toBe(deeper.rate);
    // Nor does a cut made later in a spell: the knee read then is as good as its refinements.
    const late = uniqueHost('knee-refined-late');
    await store.reportCongestion(late, { eventSeen: 0, rate: 1000, limit: 4 });
    const spell = Date.now();
    while (Date.now() - spell < RATE_FOLLOWS_KNEE_MS + 100) {
      await store.reserve(late, 1, undefined, { sent: 40, admitted: 36, refused: 4 });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const lateCut = await store.reportCongestion(late, { eventSeen: 1, ...TRIED, refused: 1 });
    expect(lateCut).toMatchObject({ accepted: true, event: 2 });
    const lateKnee = await store.reserve(late, 1, undefined, { admitted: 2000 });
    expect(lateKnee.knee).toBeGreaterThan(lateCut.rate!);
    expect(lateKnee.rate).toBe(lateCut.rate);
    // Nor does a first rate, cut from the send rate of a fleet that did not pace.
    const unpaced = uniqueHost('knee-refined-unpaced');
    await store.reserve(unpaced, 1, undefined, { sent: 20, admitted: 12 });
    const start = await store.reportCongestion(unpaced, { eventSeen: 0, ...TRIED, refused: 1 });
    expect(start.rate).toBeCloseTo(0.7 * start.sendRate, 0);
    const lateOnes = await store.reserve(unpaced, 1, undefined, { admitted: 100 });
    expect(lateOnes.knee).toBeGreaterThan(start.rate!);
    expect(lateOnes.rate).toBe(start.rate);
  });

  it('opens no second event while the last one settles, and the next one after', async () => {
    const host = uniqueHost('settle');
    await store.reportCongestion(host, { eventSeen: 0, rate: 40 });
    const soon = await store.reportCongestion(host, {
      eventSeen: 1,
      cut: 0.5,
      settleMs: 150,
      retryAfterMs: 500,
    });
    expect(soon).toMatchObject({ accepted: false, event: 1, rate: 40 });
    // A Retry-After still holds the fleet.
    expect(soon.pause).toBeGreaterThan(soon.now + 400);
    await new Promise((resolve) => setTimeout(resolve, 160));
    const later = await store.reportCongestion(host, { eventSeen: 1, cut: 0.5, settleMs: 150 });
    expect(later).toMatchObject({ accepted: true, event: 2, rate: 20 });
    // An expired state (a report from an event the store no longer knows) is never held back.
    const ahead = await store.reportCongestion(host, { eventSeen: 7, cut: 0.5, settleMs: 10_000 });
    expect(ahead).toMatchObject({ accepted: true, event: 8 });
  });

  /** The knee cut of a pacing fleet, put on trial (as a process that tells noise reports it). */
  const TRIED = { cut: 0.7, knee: 0.95, deepest: 0.49, shallowest: 0.95, tried: true } as const;

  /**
   * A fleet pacing at 1000/s (limit 4) whose processes reported `before` lately, cut at its
   * next event (limit 2, this report's throttle among them) with the cut put on trial.
   */
  async function cutOnTrial(host: string, before: { sent: number; admitted: number; refused: number }) {
    await store.reportCongestion(host, { eventSeen: 0, rate: 1000, limit: 4 });
    await store.reserve(host, 1, undefined, before);
    return store.reportCongestion(host, { eventSeen: 1, ...TRIED, limit: 2, refused: 1 });
  }

  /**
   * Dispatches sent on slots granted under `event`, and the throttles among them, reported
   * (with `admitted` successes: in an event's first half second they refine its knee, and a
   * rate cut to the knee early in a spell rises with it).
   */
  function sentUnder(host: string, event: number, sent: number, refused: number, admitted?: number) {
    return store.reserve(host, 1, undefined, { sent, admitted, refused, trial: { event, sent, refused } });
  }

  /**
   * A trial whose throttles keep their share under the cut on trial (`event`) and then under
   * the second stage's deeper cut (`event` + 1), `refused` of `sent` each time: the verdict.
   */
  async function keptAtBothStages(host: string, event: number, sent: number, refused: number) {
    const first = await sentUnder(host, event, sent, refused);
    expect(first).toMatchObject({ event: event + 1, trying: true });
    return sentUnder(host, event + 1, sent, refused);
  }

  it('puts a pacing fleet’s cut on trial: throttles that keep their share undo it and become the floor', async () => {
    // Random 429s on 12 % of requests cut 4 processes by 5-16 % at every event (the knee,
    // 0.95 of an admitted rate the random refusals lower too), down to about 20/s.
    const host = uniqueHost('trial-noise');
    // A fleet pacing at 1000/s and sending at it (its counts, read over the moment they
    // cover, make about 1000/s), with a knee well under it: a cut deep enough to tell a limit
    // from noise.
    await store.reportCongestion(host, { eventSeen: 0, rate: 1000, limit: 4 });
    // Of 100 dispatches lately, 12 refused (and the report's own: 13 %).
    await store.reserve(host, 1, undefined, { sent: 100, admitted: 88, refused: 12 });
    const cut = await store.reportCongestion(host, { eventSeen: 1, ...TRIED, limit: 2, refused: 1 });
    expect(cut).toMatchObject({ accepted: true, event: 2, limit: 2, trying: true, noise: 0 });
    expect(cut.rate).toBeLessThan(900);
    // On trial the rate holds (a recovery step is dropped) and a throttle under the cut opens
    // no other event.
    expect((await store.reserve(host, 1, { eventSeen: 2, rate: 2000 })).rate).toBe(cut.rate);
    const held = await store.reportCongestion(host, {
      eventSeen: 2,
      ...TRIED,
      refused: 1,
      trial: { event: 2, sent: 10, refused: 1 },
    });
    expect(held).toMatchObject({ accepted: false, event: 2, trying: true, rate: cut.rate });
    // Counts of dispatches made under an earlier event are not the trial's.
    expect(
      (await store.reserve(host, 1, undefined, { trial: { event: 1, sent: 40, refused: 9 } })).trying,
    ).toBe(true);
    // The dispatches under the cut are refused at about the share before it: it did not help.
    // No verdict yet (a limit the cut only reached refuses as often): the second stage, a
    // cut CONFIRM_CUT deeper under an event of its own.
    const kept = await store.reserve(host, 1, undefined, {
      sent: 14,
      refused: 2,
      trial: { event: 2, sent: 14, refused: 2 },
    });
    expect(kept).toMatchObject({ trying: true, limit: 2, event: 3, noise: 0 });
    expect(kept.rate).toBeCloseTo(CONFIRM_CUT * cut.rate!, 2);
    // The share holds there too: both cuts are undone, and the floor is the share over both.
    const judged = await sentUnder(host, 3, 24, 3, 21);
    expect(judged).toMatchObject({ trying: false, rate: 1000, limit: 4, event: 3 });
    expect(judged.noise).toBeCloseTo(6 / 48, 3);
    // The admitted rate the random throttles lowered was no limit's: no knee.
    expect(cut.knee).toBeDefined();
    expect(judged.knee).toBeUndefined();
    // A throttle the floor explains opens no event (a process may report one before it heard
    // of the floor); far more than it explains do, and that cut is a trial again.
    const within = await store.reportCongestion(host, { eventSeen: 3, ...TRIED, refused: 1 });
    expect(within).toMatchObject({ accepted: false, event: 3, rate: 1000 });
    // (About 20 % among the fleet's dispatches lately: under FLOOR_REFUTED times the floor.)
    const beyond = await store.reportCongestion(host, { eventSeen: 3, ...TRIED, sent: 300, refused: 65 });
    expect(beyond).toMatchObject({ accepted: true, event: 4, trying: true });
    expect(beyond.noise).toBeCloseTo(6 / 48, 3);
    // The knee of a fleet with a floor is what the server admits without the random share.
    const knee = (0.95 * beyond.admittedRate) / (1 - beyond.noise);
    expect(beyond.rate).toBeCloseTo(Math.min(0.95 * 1000, Math.max(0.49 * 1000, knee)), 0);
    // A share of a half or more is far beyond any floor: the trial that taught it misled.
    const heavy = uniqueHost('trial-heavy');
    await store.reportCongestion(heavy, { eventSeen: 0, rate: 1000 });
    await store.reserve(heavy, 1, undefined, { sent: 20, admitted: 5, refused: 15 });
    expect(await store.reportCongestion(heavy, { eventSeen: 1, ...TRIED, refused: 1 })).toMatchObject({
      accepted: true,
      trying: false,
      noise: 0,
    });
  });

  it('lets a cut stand when the throttles stop under it, and only then recovers', async () => {
    const host = uniqueHost('trial-limit');
    await store.reportCongestion(host, { eventSeen: 0, rate: 1000 });
    await store.reserve(host, 1, undefined, { sent: 40, admitted: 36, refused: 4 });
    const cut = await store.reportCongestion(host, { eventSeen: 1, ...TRIED, refused: 1 });
    expect(cut).toMatchObject({ accepted: true, event: 2, trying: true });
    // 20 dispatches, none refused, where the share before would draw 2.5: not decided yet.
    const some = await store.reserve(host, 1, undefined, {
      sent: 20,
      trial: { event: 2, sent: 20, refused: 0 },
    });
    expect(some).toMatchObject({ trying: true, rate: cut.rate });
    // 32 without a throttle: the cut got under a limit. It stands, and recovery goes on.
    const quiet = await store.reserve(host, 1, undefined, {
      sent: 12,
      trial: { event: 2, sent: 12, refused: 0 },
    });
    expect(quiet).toMatchObject({ trying: false, rate: cut.rate, noise: 0 });
    expect((await store.reserve(host, 1, { eventSeen: 2, rate: cut.rate! + 5 })).rate).toBeCloseTo(
      cut.rate! + 5,
      3,
    );
    // Without `tried` (a process that does not tell noise) a cut is not tried.
    const untried = uniqueHost('trial-off');
    await store.reportCongestion(untried, { eventSeen: 0, rate: 1000 });
    await store.reserve(untried, 1, undefined, { sent: 40, admitted: 36, refused: 4 });
    expect(
      await store.reportCongestion(untried, { eventSeen: 1, ...TRIED, tried: false, refused: 1 }),
    ).toMatchObject({ accepted: true, trying: false });
  });

  it('finds no noise under a cut that left the fleet at the edge of what the server admitted', async () => {
    // Traced (8 processes' cold jobs under a bucket of 60/s): a knee read above the rate held
    // a cut at its shallowest, 0.95 of 62/s; sending at about the bucket's rate, 3 of 58
    // dispatches under it were refused, near the 5 % before, and the trial took the limit
    // for noise: the rate doubled a second, to 110/s, and 13 more requests were refused
    // before the next event.
    const host = uniqueHost('trial-edge');
    await store.reportCongestion(host, { eventSeen: 0, rate: 60, limit: 4 });
    // Of 66 dispatches lately, 4 refused (6 %); the admitted rate reads above the rate.
    await store.reserve(host, 1, undefined, { sent: 66, admitted: 62, refused: 4 });
    const cut = await store.reportCongestion(host, { eventSeen: 1, ...TRIED, refused: 1 });
    expect(cut).toMatchObject({ accepted: true, event: 2, trying: true });
    expect(cut.knee).toBeGreaterThan(60);
    expect(cut.rate).toBeCloseTo(0.95 * 60, 3);
    expect((await raw.hGetAll(store.key(host))).trial_edge).toBe('1');
    // Under it the share refused stays about what it was: the cut stands, no floor is learnt.
    const judged = await store.reserve(host, 1, undefined, {
      sent: 58,
      admitted: 54,
      refused: 4,
      trial: { event: 2, sent: 58, refused: 4 },
    });
    expect(judged).toMatchObject({ trying: false, noise: 0, limit: 4 });
    expect(judged.rate).toBeCloseTo(0.95 * 60, 3);
    expect((await raw.hGetAll(store.key(host))).trial_edge).toBeUndefined();
  });

  it('weighs a cut against what the fleet sent, not against a rate it never reached', async () => {
    // Traced (8 processes started together under a bucket of 60/s): a fleet paced at 68.9/s
    // sent 65.5/s; its cut to the knee, 63.9/s, was a cut of 0.93 of the rate but of 0.98 of
    // the load, and left it over the bucket; 3 in about 50 dispatches under it were refused
    // against 5.7 % before, and the trial, weighing the cut at 0.93, found noise. The rate
    // doubled a second past what the fleet sent (146/s where it sent 75/s), the next cut, to
    // 0.49 of that, again left the load about where it was, and 117 requests were refused,
    // 2 jobs failed.
    const host = uniqueHost('trial-load');
    await store.reportCongestion(host, { eventSeen: 0, rate: 1000, limit: 4 });
    // Sending about 500/s of the 1000/s it may: of 48 dispatches lately, 3 refused (and the
    // report's own: about 8 %).
    const lately = { sent: 48, admitted: 45, refused: 3 };
    await store.reserve(host, 1, undefined, lately);
    const cut = await store.reportCongestion(host, { eventSeen: 1, ...TRIED, refused: 1 });
    expect(cut).toMatchObject({ accepted: true, event: 2, trying: true });
    // 0.49 of the rate, and about what the fleet sent.
    expect(cut.rate).toBeCloseTo(0.49 * 1000, 3);
    expect(cut.rate! / cut.sendRate).toBeGreaterThan(0.95);
    // The share under it stays about the one before: the cut did not lower the load, so it
    // tells nothing; it stands, and no floor is learnt.
    const judged = await sentUnder(host, 2, 50, 3);
    expect(judged).toMatchObject({ trying: false, noise: 0, event: 2 });
    expect(judged.rate).toBeCloseTo(cut.rate!, 3);

    // The same counts under a fleet that sent at its rate: the cut lowered the load, and
    // throttles that keep their share under it (and under the second stage's deeper cut)
    // arrive whatever the load.
    const sending = uniqueHost('trial-load-sent');
    await store.reportCongestion(sending, { eventSeen: 0, rate: 500, limit: 4 });
    await store.reserve(sending, 1, undefined, lately);
    const real = await store.reportCongestion(sending, { eventSeen: 1, ...TRIED, refused: 1 });
    expect(real).toMatchObject({ accepted: true, trying: true });
    expect(real.rate! / real.sendRate).toBeLessThan(0.95);
    expect(await sentUnder(sending, 2, 50, 3)).toMatchObject({ trying: true, event: 3 });
    const noisy = await sentUnder(sending, 3, 16, 3);
    expect(noisy).toMatchObject({ trying: false, rate: 500, event: 3 });
    expect(noisy.noise).toBeCloseTo(6 / 66, 3);
  });

  it('confirms a share kept under a cut under a deeper one, where a limit’s refusals stop', async () => {
    // Traced (8 processes' cold jobs under a bucket of 60/s): a cut from 74/s to the knee,
    // 59/s, landed at the bucket's rate with the bucket drained, and 3 of its first 16
    // dispatches were refused against 8 % before. The trial took that for noise: the rate
    // went back to 74/s with a floor of 15 %, doubled to 148/s, and 148 requests were refused.
    // (So did shares that rose less, or not at all: see the next test.)
    const host = uniqueHost('trial-confirm');
    // Of 60 dispatches lately, 4 refused (and the report's own: about 8 %).
    const lately = { sent: 60, admitted: 56, refused: 4 };
    const cut = await cutOnTrial(host, lately);
    expect(cut).toMatchObject({ accepted: true, event: 2, trying: true });
    // 3 of 16 under the cut: the share rose. No verdict yet: a cut CONFIRM_CUT deeper, under
    // an event of its own, the slots granted from now on at its rate.
    const rose = await sentUnder(host, 2, 16, 3);
    expect(rose).toMatchObject({ event: 3, trying: true, noise: 0, limit: 2 });
    expect(rose.rate).toBeCloseTo(CONFIRM_CUT * cut.rate!, 2);
    expect(rose.interval).toBeCloseTo(1000 / rose.rate!, 2);
    expect(await raw.hGetAll(store.key(host))).toMatchObject({
      trial: '3',
      trial_first_n: '16',
      trial_first_t: '3',
      trial_n: '0',
    });
    // Counts of dispatches sent under the first stage's event are not the second's.
    expect(
      await store.reserve(host, 1, undefined, { trial: { event: 2, sent: 10, refused: 5 } }),
    ).toMatchObject({ event: 3, trying: true, noise: 0 });
    // Under the deeper cut the refusals stop: a limit. Weighed against the shares before and
    // at the first stage (about 13.5 %), 36 dispatches without one are under a 1 % chance
    // (at 32 not yet). The cut stands, no floor is learnt.
    expect(await sentUnder(host, 3, 32, 0, 32)).toMatchObject({ trying: true, event: 3 });
    const quiet = await sentUnder(host, 3, 4, 0, 4);
    expect(quiet).toMatchObject({ trying: false, noise: 0, limit: 2, event: 3 });
    expect(quiet.rate).toBeCloseTo(rose.rate!, 2);
    expect(Object.keys(await raw.hGetAll(store.key(host))).filter((f) => f.startsWith('trial'))).toEqual([]);

    // Random throttles keep their share under the deeper cut too: both cuts are undone, and
    // the floor is the share over both stages.
    const noisy = uniqueHost('trial-confirm-noise');
    await cutOnTrial(noisy, lately);
    await sentUnder(noisy, 2, 16, 3);
    const judged = await sentUnder(noisy, 3, 20, 3);
    expect(judged).toMatchObject({ trying: false, rate: 1000, limit: 4, event: 3 });
    expect(judged.noise).toBeCloseTo(6 / 36, 3);
  });

  it('takes a share kept under a cut to the bucket’s rate for no noise until a deeper cut keeps it too', async () => {
    // Traced (8 processes' cold jobs under a bucket of 60/s, 3 runs in 20): cuts to about
    // the bucket's rate (59-60/s) kept 2-3 refusals in 30-36 dispatches where 5.7-11.7 % were
    // refused before, under twice that share, and the trial found noise: the rate went back
    // over the bucket and climbed; those runs refused 62, 88 and 107 requests (a typical one
    // about 20). A drained bucket refuses sends that jitter at its own rate, as random
    // throttles do at any rate: only a deeper cut tells them apart.
    const host = uniqueHost('trial-kept-share');
    // Of 70 dispatches lately, 3 refused (and the report's own: about 5.7 %).
    const cut = await cutOnTrial(host, { sent: 70, admitted: 66, refused: 3 });
    expect(cut).toMatchObject({ accepted: true, event: 2, trying: true });
    // 3 in 33 under the cut, 1.6 times the share before: the second stage, not noise.
    const kept = await sentUnder(host, 2, 33, 3);
    expect(kept).toMatchObject({ event: 3, trying: true, noise: 0, limit: 2 });
    expect(kept.rate).toBeCloseTo(CONFIRM_CUT * cut.rate!, 2);
    // Where the refusals stop, the cut stands (the share weighed against, about 7.4 %, takes
    // some 70 quiet dispatches to refute), and no floor is learnt.
    expect(await sentUnder(host, 3, 48, 0, 48)).toMatchObject({ trying: true, event: 3 });
    const quiet = await sentUnder(host, 3, 24, 0, 24);
    expect(quiet).toMatchObject({ trying: false, noise: 0, event: 3 });
    expect(quiet.rate).toBeCloseTo(kept.rate!, 2);
  });

  it('weighs a second stage’s counts as they come: a share between noise and a limit’s decides nothing yet', async () => {
    const host = uniqueHost('trial-second-weighed');
    // 13 % refused before the cut, 3 of 24 under it: the second stage.
    await cutOnTrial(host, { sent: 100, admitted: 88, refused: 12 });
    expect(await sentUnder(host, 2, 24, 3)).toMatchObject({ event: 3, trying: true });
    // 3 of the second stage's first 60 refused, 5 %: 6 % likely from throttles of 12.5 %, and
    // more than a limit still refusing 1 % under a deeper cut draws. Neither yet.
    expect(await sentUnder(host, 3, 20, 0)).toMatchObject({ trying: true, event: 3 });
    expect(await sentUnder(host, 3, 40, 3)).toMatchObject({ trying: true, event: 3, noise: 0 });
    // 3 more in 20: 6 in 80 is random throttles' share, not a limit's.
    const judged = await sentUnder(host, 3, 20, 3);
    expect(judged).toMatchObject({ trying: false, rate: 1000, limit: 4, event: 3 });
    expect(judged.noise).toBeCloseTo(9 / 104, 3);
  });

  it('reads the knee of an event far beyond a noise floor without it; the trial under its cut tells', async () => {
    // Traced (8 processes' cold jobs under a bucket of 60/s): a floor of 16.7 % learnt under
    // a cut at the bucket's rate raised every later knee by 1 / (1 - 0.167), to 71-76/s, over
    // the bucket; the events that followed came at shares of 31-36 %, each cut landed over
    // the bucket, whose refusals kept about the floor's share, and 154 requests were refused.
    const host = uniqueHost('floor-beyond');
    const lately = { sent: 100, admitted: 88, refused: 12 };
    await cutOnTrial(host, lately);
    expect((await keptAtBothStages(host, 2, 24, 3)).noise).toBeCloseTo(3 / 24, 3);
    // 14 more refused: over FLOOR_REFUTED times the floor among the fleet's dispatches lately.
    const beyond = await store.reportCongestion(host, { eventSeen: 3, ...TRIED, refused: 14 });
    expect(beyond).toMatchObject({ accepted: true, event: 4, trying: true, noise: 3 / 24 });
    const hash = await raw.hGetAll(store.key(host));
    expect(Number(hash.thr) / Number(hash.sent)).toBeGreaterThanOrEqual(FLOOR_REFUTED * (3 / 24));
    // The knee is what the server admitted, not raised by the floor, and so is its refinement.
    expect(beyond.knee! / (0.95 * beyond.admittedRate)).toBeCloseTo(1, 2);
    const refined = await store.reserve(host, 1, undefined, { admitted: 20, sent: 1 });
    expect(refined.knee).toBeGreaterThan(beyond.knee!);
    expect(refined.knee! / (0.95 * refined.admittedRate)).toBeCloseTo(1, 2);
    // Under the cut the throttles stop: the floor hid a limit, and goes.
    expect(await sentUnder(host, 4, 32, 0)).toMatchObject({ trying: false, noise: 0, event: 4 });

    // Throttles that keep the floor's share under such a cut keep the floor (it was true).
    const kept = uniqueHost('floor-beyond-kept');
    await cutOnTrial(kept, lately);
    await keptAtBothStages(kept, 2, 24, 3);
    expect(await store.reportCongestion(kept, { eventSeen: 3, ...TRIED, refused: 14 })).toMatchObject({
      trying: true,
    });
    const after = await sentUnder(kept, 4, 32, 4);
    expect(after.trying).toBe(false);
    expect(after.noise).toBeGreaterThan(0.1);
  });

  it('forgets a noise floor a later trial refutes', async () => {
    // A floor of 12.5 % learnt from a trial (the share kept under the cut).
    const host = uniqueHost('trial-refuted');
    const lately = { sent: 100, admitted: 88, refused: 12 };
    await cutOnTrial(host, lately);
    const judged = await keptAtBothStages(host, 2, 24, 3);
    expect(judged.noise).toBeCloseTo(3 / 24, 3);
    // Beyond it (20 %, under FLOOR_REFUTED times it), an event cuts again, and under that
    // cut none of 32 dispatches is refused where the floor alone would draw 4: its throttles
    // did not arrive whatever the load. The cut stands and the floor goes.
    const beyond = await store.reportCongestion(host, { eventSeen: 3, ...TRIED, sent: 300, refused: 65 });
    expect(beyond).toMatchObject({ accepted: true, event: 4, trying: true });
    expect(beyond.noise).toBeCloseTo(3 / 24, 3);
    const refuted = await sentUnder(host, 4, 32, 0, 32);
    expect(refuted).toMatchObject({ trying: false, noise: 0, event: 4 });
    expect(refuted.rate).toBeCloseTo(beyond.rate!, 2);

    // A share under the cut about the floor's keeps it, whatever the verdict.
    const kept = uniqueHost('trial-kept');
    await cutOnTrial(kept, lately);
    await keptAtBothStages(kept, 2, 24, 3);
    await store.reportCongestion(kept, { eventSeen: 3, ...TRIED, sent: 300, refused: 65 });
    const after = await sentUnder(kept, 4, 32, 4, 28);
    expect(after.trying).toBe(false);
    expect(after.noise).toBeGreaterThan(0.1);
  });

  it('cuts again during a trial when the share under its cut is heavy; the trial goes on at the deeper cut', async () => {
    const host = uniqueHost('trial-deeper');
    await store.reportCongestion(host, { eventSeen: 0, rate: 1000 });
    await store.reserve(host, 1, undefined, { sent: 40, admitted: 36, refused: 4 });
    const first = await store.reportCongestion(host, { eventSeen: 1, ...TRIED, refused: 1 });
    const deeper = await store.reportCongestion(host, {
      eventSeen: 2,
      ...TRIED,
      refused: 2,
      trial: { event: 2, sent: 3, refused: 2 },
    });
    expect(deeper).toMatchObject({ accepted: true, event: 3, trying: true });
    expect(deeper.rate).toBeLessThan(first.rate!);
    // Under the deeper cut the share is still the one before the first (and at the second
    // stage, deeper again): every cut is undone.
    const judged = await keptAtBothStages(host, 3, 20, 3);
    expect(judged).toMatchObject({ trying: false, rate: 1000, event: 4 });
  });

  it('takes back the slots a congestion report hands back, so no gap follows the cut', async () => {
    const host = uniqueHost('returned');
    await store.reportCongestion(host, { eventSeen: 0, rate: 20 });
    const r = await store.reserve(host, 4);
    expect(r.count).toBe(4);
    // Three of the four are dropped unused at an event: the schedule they held is free.
    // (The rule before left `tat` past them: a pause as long as the reservation held.)
    await store.reportCongestion(host, { eventSeen: 1, returned: 3 });
    const next = await store.reserve(host, 1);
    expect(next.first).toBeCloseTo(Math.max(next.now, r.first + r.interval), 0);
  });

  it('reuses the slots a release hands back where they lay, never over slots another process holds', async () => {
    // A process's last batch, handed back when its job ended, lay among slots another process
    // held. Moving the whole schedule back by them (the rule before) granted those slots
    // again: two processes sent within 2 ms, and over half of a cold fleet's refusals came
    // with such a pair. A cool-down puts the schedule 2 s ahead, so no slot is past here.
    const host = uniqueHost('holes');
    await store.reportCongestion(host, { eventSeen: 0, rate: 20, retryAfterMs: 2000 });
    const slotsOf = (r: StoredReservation) =>
      Array.from({ length: r.count }, (_, i) => r.first + i * r.interval);
    const mine = await store.reserve(host, 4);
    const theirs = await store.reserve(host, 4);
    expect(mine.count).toBe(4);
    expect(theirs.first).toBeCloseTo(mine.first + 4 * mine.interval, 3);
    // Three of mine go back with their times: they lie before theirs, so they are holes.
    await store.release(host, { returned: 3, returnedAt: slotsOf(mine).slice(1), returnedEvent: 1 });
    const next = await store.reserve(host, 4);
    expect(next.holes).toHaveLength(3);
    for (const [i, at] of next.holes.entries()) expect(at).toBeCloseTo(slotsOf(mine)[i + 1] as number, 3);
    expect(next.count).toBe(1);
    expect(next.first).toBeCloseTo(theirs.first + 4 * theirs.interval, 3);
    for (const at of [...next.holes, ...slotsOf(next)]) {
      for (const held of slotsOf(theirs)) expect(Math.abs(at - held)).toBeGreaterThan(next.interval - 0.01);
    }
    // The schedule's last slot handed back moves it back, as before: it is nobody else's.
    await store.release(host, { returned: 1, returnedAt: slotsOf(next), returnedEvent: 1 });
    const tail = await store.reserve(host, 1);
    expect(tail.holes).toEqual([]);
    expect(tail.first).toBeCloseTo(next.first, 3);
    // Slots of an earlier event lay at its rate: not reused, and the schedule stays.
    await store.reportCongestion(host, { eventSeen: 1, rate: 10 });
    const before = await store.reserve(host, 1);
    await store.release(host, { returned: 1, returnedAt: [before.first + 1000], returnedEvent: 1 });
    const later = await store.reserve(host, 1);
    expect(later.holes).toEqual([]);
    expect(later.first).toBeCloseTo(before.first + before.interval, 3);
  });

  it('marks the slots a cut grants among the old rate’s, so a trial does not count them', async () => {
    // Slots handed back at a cut free schedule among the slots other processes still hold
    // at the old rate: dispatches sent there tell nothing of the cut (their throttles, 3 of
    // a trial's first 16 dispatches, took a token bucket's overshoot for noise).
    const host = uniqueHost('early');
    await store.reportCongestion(host, { eventSeen: 0, rate: 20 });
    const mine = await store.reserve(host, 4);
    const theirs = await store.reserve(host, 4);
    expect(theirs.first).toBeCloseTo(mine.first + 4 * mine.interval, 3);
    expect(theirs.early).toBe(0);
    // This process cuts to 10/s and hands back its three slots still ahead: the schedule
    // moves back by them, in among `theirs`.
    const cut = await store.reportCongestion(host, { eventSeen: 1, rate: 10, returned: 3 });
    expect(cut).toMatchObject({ accepted: true, event: 2 });
    const next = await store.reserve(host, 4);
    const oldEnd = theirs.first + 4 * theirs.interval;
    expect(next.first).toBeLessThan(oldEnd);
    // 100 ms apart: the ones before the old schedule's end are early, the rest are the cut's.
    expect(next.early).toBe(Math.ceil((oldEnd - next.first) / next.interval - 1e-9));
    expect(next.early).toBeGreaterThanOrEqual(1);
    expect(next.early).toBeLessThan(next.count);
    const after = await store.reserve(host, 2);
    expect(after.early).toBe(0);
    // Without a cut nothing is early: slots handed back by a stale report only move `tat`.
    const calm = uniqueHost('early-calm');
    await store.reportCongestion(calm, { eventSeen: 0, rate: 20 });
    await store.reserve(calm, 4);
    expect((await store.reserve(calm, 2)).early).toBe(0);
  });

  it('grants at most RESERVE_WINDOW_MS of the schedule in one reservation while pacing', async () => {
    const host = uniqueHost('window');
    await store.reportCongestion(host, { eventSeen: 0, rate: 20 });
    const r = await store.reserve(host, 16);
    // 50 ms apart: the first slot and four more within 200 ms.
    expect(r.interval).toBeCloseTo(50, 6);
    expect(r.count).toBe(Math.floor(RESERVE_WINDOW_MS / 50) + 1);
    const next = await store.reserve(host, 16);
    expect(next.first).toBeCloseTo(r.first + r.count * r.interval, 3);
    // Unpaced, every slot asked for is granted.
    expect((await store.reserve(uniqueHost('window-free'), 16)).count).toBe(16);
  });

  it('never gives two concurrent callers overlapping GCRA slots', async () => {
    const host = uniqueHost('gcra');
    await store.reportCongestion(host, { eventSeen: 0, rate: 400 });
    const stores = connections.map((c) => newStore(c));
    const grants: { count: number; r: StoredReservation }[] = [];
    await Promise.all(
      stores.map(async (s, i) => {
        for (let k = 0; k < 8; k++) {
          const count = 1 + ((i + k) % 4);
          grants.push({ count, r: await s.reserve(host, count) });
        }
      }),
    );
    expect(grants).toHaveLength(96);
    const interval = 1000 / 400;
    for (const { r } of grants) expect(r.interval).toBeCloseTo(interval, 6);
    grants.sort((a, b) => a.r.first - b.r.first);
    // Each reservation owns [first, first + count * interval): the next one starts after it.
    for (let i = 1; i < grants.length; i++) {
      const prev = grants[i - 1]!;
      expect(grants[i]!.r.first).toBeGreaterThanOrEqual(prev.r.first + prev.count * interval - 0.002);
    }
  });

  it('lets one congestion event cut the fleet once, whoever reports it', async () => {
    const host = uniqueHost('event');
    const stores = connections.map((c) => newStore(c));
    const verdicts = await Promise.all(
      stores.map((s, i) => s.reportCongestion(host, { eventSeen: 0, rate: 10 + i, limit: 2 + i })),
    );
    const accepted = verdicts.filter((v) => v.accepted);
    expect(accepted).toHaveLength(1);
    const winner = verdicts.indexOf(accepted[0]!);
    const state = await store.join(host);
    expect(state).toMatchObject({ event: 1, rate: 10 + winner, limit: 2 + winner });
    // Everyone, winner or not, is told the fleet's state after the event.
    for (const v of verdicts.slice(winner + 1)) expect(v.event).toBe(1);
    // A throttle of a dispatch made before event 1 does not cut again...
    const late = await store.reportCongestion(host, { eventSeen: 0, rate: 1 });
    expect(late).toMatchObject({ accepted: false, event: 1, rate: 10 + winner });
    // ...one made under event 1 opens event 2.
    const next = await store.reportCongestion(host, { eventSeen: 1, rate: 5 });
    expect(next).toMatchObject({ accepted: true, event: 2, rate: 5, limit: 2 + winner });
  });

  it('keeps event ids increasing when the state expired under a running process', async () => {
    const host = uniqueHost('expired');
    const v = await store.reportCongestion(host, { eventSeen: 7, rate: 20 });
    expect(v).toMatchObject({ accepted: true, event: 8 });
  });

  it('merges recovery steps by maximum and drops steps from before the current event', async () => {
    const host = uniqueHost('recovery');
    await store.reportCongestion(host, { eventSeen: 0, rate: 10, limit: 2 });
    expect(await store.reserve(host, 1, { eventSeen: 1, rate: 12, limit: 3 })).toMatchObject({
      rate: 12,
      limit: 3,
    });
    // Lower values from a process that recovered less do not pull the fleet down.
    expect(await store.reserve(host, 1, { eventSeen: 1, rate: 11, limit: 1 })).toMatchObject({
      rate: 12,
      limit: 3,
    });
    // A step made before event 1 is stale.
    expect(await store.reserve(host, 1, { eventSeen: 0, rate: 50, limit: 9 })).toMatchObject({
      rate: 12,
      limit: 3,
    });
    // Infinity stops pacing: slots come at once again.
    const off = await store.reserve(host, 3, { eventSeen: 1, rate: Number.POSITIVE_INFINITY });
    expect(off).toMatchObject({ rate: undefined, interval: 0 });
    expect(off.first).toBe(off.now);
    // A recovery never starts pacing.
    expect(await store.reserve(host, 1, { eventSeen: 1, rate: 30 })).toMatchObject({ rate: undefined });
  });

  it('makes the fleet wait out a Retry-After, then spreads the restart over slots', async () => {
    const host = uniqueHost('pause');
    const v = await store.reportCongestion(host, { eventSeen: 0, rate: 100, retryAfterMs: 400 });
    expect(v.pause).toBeCloseTo(v.now + 400, 0);
    const stores = connections.slice(0, 6).map((c) => newStore(c));
    const firsts = (await Promise.all(stores.map((s) => s.reserve(host, 1)))).map((r) => r.first);
    firsts.sort((a, b) => a - b);
    // Nobody before the deadline; after it, one slot per 10 ms, not six at once.
    expect(firsts[0]).toBeCloseTo(v.pause, 1);
    firsts.forEach((first, i) => {
      expect(first).toBeCloseTo(v.pause + i * 10, 1);
    });
    // A later report from before the event still extends the pause, and does not cut.
    const late = await store.reportCongestion(host, { eventSeen: 0, rate: 1, retryAfterMs: 900 });
    expect(late).toMatchObject({ accepted: false, rate: 100 });
    expect(late.pause).toBeCloseTo(late.now + 900, 0);
  });

  it('gives a cool-down a rate to spread its end even when the fleet was not pacing', async () => {
    const host = uniqueHost('pause-unpaced');
    await store.reportCongestion(host, { eventSeen: 0, rate: Number.POSITIVE_INFINITY });
    const v = await store.reportCongestion(host, { eventSeen: 0, rate: 50, retryAfterMs: 200 });
    expect(v).toMatchObject({ accepted: false, rate: 50 });
    const [a, b] = [await store.reserve(host, 1), await store.reserve(host, 1)];
    expect(b.first - a.first).toBeCloseTo(20, 1);
  });

  it('sets a TTL on every write, after which the host starts fresh', async () => {
    const host = uniqueHost('ttl');
    const short = newStore(connections[1], 300);
    await short.reportCongestion(host, { eventSeen: 0, rate: 10, limit: 4 });
    const pttl = await raw.pTTL(short.key(host));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(300);
    expect(await eventually(async () => (await raw.exists(short.key(host))) === 0, 5000)).toBe(true);
    expect(await short.join(host)).toMatchObject({ event: 0, rate: undefined, limit: undefined });
  });

  it('stores the documented fields, as decimal strings', async () => {
    const host = uniqueHost('fields');
    await store.reportCongestion(host, { eventSeen: 0, rate: 25, limit: 3, retryAfterMs: 100 });
    await store.reserve(host, 2);
    const hash = await raw.hGetAll(store.key(host));
    expect(Object.keys(hash).sort()).toEqual([
      'clean_at',
      'event',
      'event_at',
      'limit',
      'ok',
      'pause',
      'rate',
      'sent',
      'sent_at',
      'sent_since',
      'tat',
      'thr',
    ]);
    expect(hash).toMatchObject({ event: '1', limit: '3', rate: '25.000' });
    expect(Number(hash.tat)).toBeGreaterThan(Number(hash.pause));
  });

  it('runs a script the server forgot by source, once, then by SHA again', async () => {
    let commands: string[] = [];
    const base = connections[2]!;
    const spy: ScriptClient = {
      evalScriptBySha: (sha, keys, args) => {
        commands.push('EVALSHA');
        return base.evalScriptBySha(sha, keys, args);
      },
      evalScript: (source, keys, args) => {
        commands.push('EVAL');
        return base.evalScript(source, keys, args);
      },
      serverTime: () => base.serverTime(),
    };
    const s = newStore(spy);
    await raw.scriptFlush();
    await s.join(uniqueHost('noscript'));
    expect(commands).toEqual(['EVALSHA', 'EVAL']);
    commands = [];
    await s.join(uniqueHost('noscript'));
    expect(commands).toEqual(['EVALSHA']);
  });
});
