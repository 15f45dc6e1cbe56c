/**
 * The slot reservoir over a scripted coordinator: batches sized to the process's pace
 * (few store calls per request), one reservation shared by concurrent callers, stale and
 * cleared slots dropped, `undefined` when the store is away.
 */
import { describe, expect, it } from 'vitest';
import type { Coordinator, SlotGrant } from '../../src/coordination/coordinator.js';
import { SlotReservoir } from '../../src/coordination/slot-reservoir.js';
import { flushMicrotasks } from '../../src/resilience/clock.js';

/** A fleet of one pacing at `intervalMs`, its clock at `fleet.now`; records the counts asked for. */
function fakeFleet(intervalMs = 10) {
  const asked: number[] = [];
  let tat = 0;
  let up = true;
  const fleet = { now: 0 };
  const coordinator: Pick<Coordinator, 'reserve'> = {
    async reserve(_host, count): Promise<SlotGrant | undefined> {
      asked.push(count);
      if (!up) return undefined;
      tat = Math.max(tat, fleet.now);
      const slots = Array.from({ length: count }, (_, i) => tat + i * intervalMs);
      tat += count * intervalMs;
      return {
        state: {
          event: 0,
          rate: 1000 / intervalMs,
          limit: undefined,
          pausedUntil: undefined,
          sendRate: 0,
          admittedRate: 0,
          trying: false,
          noise: 0,
        },
        slots,
      };
    },
  };
  return {
    fleet,
    coordinator,
    asked,
    setUp(value: boolean) {
      up = value;
    },
  };
}

describe('SlotReservoir', () => {
  it('grows its batches with the pace of dispatches, to at most maxBatch', async () => {
    const fleet = fakeFleet();
    const reservoir = new SlotReservoir(fleet.coordinator, 'h', { horizonMs: 100, maxBatch: 8 });
    const slots: number[] = [];
    for (let now = 0; now < 2000; now += 10) slots.push((await reservoir.take(now))!.at);
    expect(slots).toEqual(slots.map((_, i) => i * 10));
    expect(fleet.asked[0]).toBe(1);
    expect(Math.max(...fleet.asked)).toBe(8);
    // 200 dispatches, one store call per 8 once the pace is known.
    expect(fleet.asked.length).toBeLessThanOrEqual(200 / 8 + 4);
    expect(reservoir.stats).toMatchObject({ taken: 200, reservations: fleet.asked.length, dropped: 0 });
  });

  it('reserves one at a time for a process that sends rarely', async () => {
    const fleet = fakeFleet();
    const reservoir = new SlotReservoir(fleet.coordinator, 'h', { horizonMs: 100, staleMs: 10_000 });
    for (let now = 0; now < 5000; now += 500) await reservoir.take(now);
    expect(fleet.asked.every((n) => n === 1)).toBe(true);
  });

  it('serves callers waiting at once with one reservation sized for them', async () => {
    const fleet = fakeFleet();
    const reservoir = new SlotReservoir(fleet.coordinator, 'h');
    const taken = await Promise.all(Array.from({ length: 5 }, () => reservoir.take(0)));
    expect(fleet.asked).toEqual([5]);
    expect(taken.map((t) => t?.at)).toEqual([0, 10, 20, 30, 40]);
    expect(taken[0]?.state.rate).toBe(100);
  });

  it('drops slots left unused too long, and slots cleared after an event', async () => {
    const fleet = fakeFleet();
    const reservoir = new SlotReservoir(fleet.coordinator, 'h', { staleMs: 100 });
    await Promise.all([reservoir.take(0), reservoir.take(0), reservoir.take(0)]);
    await reservoir.take(0); // pace now known: a batch of several
    expect(reservoir.held).toBeGreaterThan(0);
    const held = reservoir.held;
    // Much later: the held slots are stale; a fresh one is reserved instead.
    fleet.fleet.now = 10_000;
    expect((await reservoir.take(10_000))?.at).toBe(10_000);
    expect(reservoir.stats.dropped).toBe(held);
    const before = reservoir.stats.dropped + reservoir.held;
    reservoir.clear();
    expect(reservoir.held).toBe(0);
    expect(reservoir.stats.dropped).toBe(before);
  });

  it('answers undefined to every waiter while the store is away, and reserves again after', async () => {
    const fleet = fakeFleet();
    fleet.setUp(false);
    const reservoir = new SlotReservoir(fleet.coordinator, 'h');
    expect(await Promise.all([reservoir.take(0), reservoir.take(0)])).toEqual([undefined, undefined]);
    expect(fleet.asked).toHaveLength(1);
    fleet.setUp(true);
    expect((await reservoir.take(1))?.at).toBe(0);
  });

  it('never waits through peek/consume: reserves in the background and says when slots landed', async () => {
    const fleet = fakeFleet();
    let landed = 0;
    const reservoir = new SlotReservoir(fleet.coordinator, 'h', {
      horizonMs: 100,
      onReserved: () => {
        landed += 1;
      },
    });
    expect(reservoir.peek(0)).toBeUndefined();
    expect(reservoir.consume(0)).toBeUndefined();
    expect(reservoir.peek(0)).toBeUndefined(); // one reservation in flight, not two
    await flushMicrotasks();
    expect(landed).toBe(1);
    expect(fleet.asked).toEqual([1]);
    expect(reservoir.peek(0)).toBe(0);
    expect(reservoir.consume(0)).toMatchObject({ at: 0, state: { rate: 100 } });
    // At a steady pace, the next batch is reserved while slots are still held.
    const sent: number[] = [];
    for (let now = 10; now < 1000; now += 10) {
      const at = reservoir.peek(now);
      if (at !== undefined) sent.push(reservoir.consume(now)!.at);
      await flushMicrotasks();
    }
    expect(sent.length).toBeGreaterThan(90);
    expect(new Set(sent).size).toBe(sent.length);
    expect(fleet.asked.length).toBeLessThan(sent.length / 4);
  });

  it('rejects bad options', () => {
    const { coordinator } = fakeFleet();
    expect(() => new SlotReservoir(coordinator, 'h', { maxBatch: 0 })).toThrow(RangeError);
    expect(() => new SlotReservoir(coordinator, 'h', { horizonMs: 0 })).toThrow(RangeError);
    expect(() => new SlotReservoir(coordinator, 'h', { staleMs: -1 })).toThrow(RangeError);
  });
});
