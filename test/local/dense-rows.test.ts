/** The contiguous dense rows of a namespace, against a plain model, through growth and shrinking. */
import { describe, expect, it } from 'vitest';
import { DenseRows, norm } from '../../src/local/dense-rows.js';
import { seededRandom } from '../../src/resilience/clock.js';

describe('DenseRows', () => {
  it('appends, overwrites and swap-removes like an array of rows, norms included', () => {
    const random = seededRandom(11);
    const dim = 5;
    const rows = new DenseRows(dim);
    const model: number[][] = [];
    const vector = () => Array.from({ length: dim }, () => Math.fround(random() * 4 - 2));
    for (let step = 0; step < 3000; step++) {
      const roll = random();
      if (roll < 0.6 || model.length === 0) {
        const v = vector();
        expect(rows.append(v)).toBe(model.length);
        model.push(v);
      } else if (roll < 0.8) {
        const slot = Math.floor(random() * model.length);
        const v = vector();
        rows.write(slot, v);
        model[slot] = v;
      } else {
        const slot = Math.floor(random() * model.length);
        rows.swapRemove(slot);
        const last = model.pop()!;
        if (slot < model.length) model[slot] = last;
      }
    }
    expect(rows.size).toBe(model.length);
    const matrix = rows.matrix();
    expect(matrix.byteOffset).toBe(0);
    expect(Array.from(matrix)).toEqual(model.flat());
    for (const [slot, v] of model.entries()) {
      expect(Array.from(rows.copy(slot))).toEqual(v);
      expect(rows.normAt(slot)).toBe(norm(v));
      expect(rows.maxNorm).toBeGreaterThanOrEqual(norm(v));
    }
  });

  it('gives memory back as rows go, and forgets the norm bound when empty', () => {
    const rows = new DenseRows(100);
    for (let i = 0; i < 10_000; i++) rows.append(new Float32Array(100).fill(i === 0 ? 50 : 1));
    expect(rows.maxNorm).toBe(500);
    const full = rows.values.length;
    expect(full).toBeGreaterThanOrEqual(10_000 * 100);
    rows.swapRemove(0); // the row of norm 500 goes; the bound may stay until the rows shrink
    while (rows.size > 10) rows.swapRemove(rows.size - 1);
    expect(rows.values.length).toBeLessThan(full / 100);
    expect(rows.maxNorm).toBe(10);
    while (rows.size > 0) rows.swapRemove(0);
    expect(rows.maxNorm).toBe(0);
  });

  it('stores nothing for a sparse index (dimension 0)', () => {
    const rows = new DenseRows(0);
    rows.append([]);
    rows.append([]);
    expect(rows.size).toBe(2);
    expect(rows.copy(1)).toEqual(new Float32Array(0));
    expect(rows.matrix().length).toBe(0);
  });
});
