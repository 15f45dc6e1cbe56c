/**
 * The chaos suite's accounting check, on hand-made outcomes: it passes exact accounting
 * and names each way a load's accounting can be wrong, so a chaos run that reports no
 * violation has been checked by something that can fail.
 */
import { describe, expect, it } from 'vitest';
import type { Vector } from '../../src/data/types.js';
import { chaosVector } from './chaos-run.js';
import { checkAccounting, type Reported, type StoredView } from './chaos-verify.js';

const BATCH = 10;
const input = Array.from({ length: 35 }, (_, k) => chaosVector(k));

/** An emulator view holding `records` (float32 values, as the emulator stores them). */
function stored(
  records: Vector[],
  counts: Partial<Pick<StoredView, 'size' | 'statsTotal'>> = {},
): StoredView {
  const byId = new Map(
    records.map((v) => [v.id, { values: Float32Array.from(v.values), metadata: v.metadata }]),
  );
  return {
    size: counts.size ?? byId.size,
    statsTotal: counts.statsTotal ?? byId.size,
    statsNamespace: byId.size,
    get: (id) => byId.get(id),
    ids: () => byId.keys(),
  };
}

const batch = (b: number) => input.slice(b * BATCH, (b + 1) * BATCH);
const completed: Reported = { upsertedCount: input.length, failedVectors: undefined };

function violations(reported: Reported, view: StoredView): string[] {
  return checkAccounting(input, reported, view, BATCH).violations;
}

describe('the chaos accounting check', () => {
  it('passes a completed load that stored every record', () => {
    const a = checkAccounting(input, completed, stored(input), BATCH);
    expect(a).toMatchObject({ intended: 35, reported: 35, stored: 35, failed: 0, violations: [] });
  });

  it('passes a throw whose failed batches are whole, stored or not', () => {
    // Batch 1 failed and was never written; batch 3 (the short last one) was written and its answer lost.
    const failed = [...batch(1), ...batch(3)];
    const kept = input.filter((v) => !batch(1).includes(v));
    const a = checkAccounting(input, { upsertedCount: 20, failedVectors: failed }, stored(kept), BATCH);
    expect(a.violations).toEqual([]);
    expect(a.storedOfFailed).toBe(5);
  });

  it('names a confirmed record the emulator does not hold', () => {
    expect(violations(completed, stored(input.slice(1)))).toEqual([
      expect.stringMatching(/^confirmed vectors missing from the emulator: 1 \(v0\)/),
    ]);
  });

  it('names counts that do not add up to the input', () => {
    expect(violations({ upsertedCount: 34, failedVectors: [] }, stored(input))).toContainEqual(
      'upsertedCount 34 + failedVectors 0 != intended 35',
    );
  });

  it('names a stored record whose values or metadata differ', () => {
    const altered = input.map((v, k) => (k === 3 ? { ...v, values: v.values.map((x) => x + 1) } : v));
    const remetadata = input.map((v, k) => (k === 4 ? { ...v, metadata: { k: -1 } } : v));
    expect(violations(completed, stored(altered))).toEqual([expect.stringMatching(/differ.*\(v3\)/)]);
    expect(violations(completed, stored(remetadata))).toEqual([expect.stringMatching(/differ.*\(v4\)/)]);
  });

  it('names a stored id that is not in the input, and counts that disagree', () => {
    expect(violations(completed, stored([...input, chaosVector(99)]))).toContainEqual(
      expect.stringMatching(/^stored ids that are not in the input: 1 \(v99\)/),
    );
    expect(violations(completed, stored(input, { statsTotal: 36 }))).toEqual([
      'stored counts disagree: 35 ids, namespace size 35, stats namespace 35, stats total 36',
    ]);
  });

  it('names failedVectors listed twice or not from the input', () => {
    const failed = [...batch(0), input[0]!, chaosVector(77)];
    const found = violations({ upsertedCount: 25, failedVectors: failed }, stored(input.slice(BATCH)));
    expect(found).toContainEqual(expect.stringMatching(/^failedVectors listed twice: 1 \(v0\)/));
    expect(found).toContainEqual(expect.stringMatching(/^failedVectors not from the input: 1 \(v77\)/));
  });

  it('names a failed batch reported in part, or stored in part', () => {
    const half = batch(2).slice(0, 5);
    expect(
      violations({ upsertedCount: 30, failedVectors: half }, stored(input.filter((v) => !half.includes(v)))),
    ).toEqual([expect.stringMatching(/^failed batches reported in part: 1 \(batch 2 \(5 of 10\)\)/)]);
    const torn = input.filter((v) => !batch(2).slice(0, 3).includes(v));
    expect(violations({ upsertedCount: 25, failedVectors: batch(2) }, stored(torn))).toEqual([
      expect.stringMatching(/^failed batches stored in part: 1 \(batch 2 \(7 of 10 stored\)\)/),
    ]);
  });
});
