/** Bounded top-k selection against a full sort, with many equal ranks. */
import { describe, expect, it } from 'vitest';
import { TopK } from '../../src/local/top-k.js';
import { seededRandom } from '../../src/resilience/clock.js';

describe('TopK', () => {
  it('keeps the k best of any offer order; equal ranks by the tie order', () => {
    const random = seededRandom(5);
    // A tie order unrelated to slot numbers: by a fixed key per slot.
    const key = Array.from({ length: 500 }, () => random());
    const tieBefore = (a: number, b: number) => key[a]! < key[b]!;
    for (const k of [1, 3, 10, 64, 500, 600]) {
      const ranks = Array.from({ length: 500 }, () => Math.floor(random() * 20)); // ~25 per value
      const order = Array.from({ length: 500 }, (_, i) => i).sort(() => random() - 0.5);
      const heap = new TopK(k, tieBefore);
      for (const slot of order) heap.push(slot, ranks[slot]!, ranks[slot]! * 10);
      const want = Array.from({ length: 500 }, (_, i) => i)
        .sort((a, b) => ranks[b]! - ranks[a]! || key[a]! - key[b]!)
        .slice(0, k);
      expect(heap.result()).toEqual(want.map((slot) => ({ slot, score: ranks[slot]! * 10 })));
    }
  });

  it('reports fullness and the rank to beat', () => {
    const heap = new TopK(2);
    expect(heap.full).toBe(false);
    expect(heap.threshold).toBe(Number.NEGATIVE_INFINITY);
    heap.push(0, 5, 5);
    heap.push(1, 3, 3);
    heap.push(2, 4, 4);
    expect(heap.full).toBe(true);
    expect(heap.threshold).toBe(4);
    heap.push(3, 4, 4); // equal to the worst held: slot 2 goes first by slot order, so 3 stays out
    expect(heap.result()).toEqual([
      { slot: 0, score: 5 },
      { slot: 2, score: 4 },
    ]);
  });
});
