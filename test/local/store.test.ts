import { describe, expect, it } from 'vitest';
import type { Metric, RecordMetadata } from '../../src/data/types.js';
import { compileFilter } from '../../src/local/filter.js';
import { NamespaceStore, type RecordInput, type StoredSparse, sparseDot } from '../../src/local/store.js';
import { seededRandom } from '../../src/resilience/clock.js';

const DIM = 13; // odd, so the unrolled loops' remainders run too
const random = seededRandom(1234);

function randomValues(dim: number): number[] {
  return Array.from({ length: dim }, () => Math.fround(random() * 2 - 1));
}

function randomSparse(): StoredSparse {
  const picked = [...new Set(Array.from({ length: 5 }, () => Math.floor(random() * 40)))].sort(
    (a, b) => a - b,
  );
  return { indices: Uint32Array.from(picked), values: Float32Array.from(picked.map(() => random())) };
}

/** A plain reference model: a map of records, scored the obvious way in double precision. */
function reference(
  records: Map<string, RecordInput>,
  q: { dense?: number[]; sparse?: StoredSparse },
  metric: Metric,
) {
  const out: { id: string; score: number }[] = [];
  for (const r of records.values()) {
    let score = 0;
    if (q.dense) {
      const v = Array.from(r.values);
      const dot = v.reduce((s, x, i) => s + x * q.dense![i]!, 0);
      if (metric === 'dotproduct') score = dot;
      if (metric === 'cosine') {
        const n = Math.hypot(...v) * Math.hypot(...q.dense);
        score = n > 0 ? dot / n : 0;
      }
      if (metric === 'euclidean') score = v.reduce((s, x, i) => s + (x - q.dense![i]!) ** 2, 0);
    }
    if (q.sparse && r.sparse) score += sparseDot(q.sparse, r.sparse);
    out.push({ id: r.id, score });
  }
  // Best first; equal scores by ascending id (the store's documented tie order).
  out.sort(
    (a, b) =>
      (metric === 'euclidean' ? a.score - b.score : b.score - a.score) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return out;
}

function build(n: number, withSparse: boolean) {
  const store = new NamespaceStore(DIM);
  const model = new Map<string, RecordInput>();
  const batch: RecordInput[] = [];
  for (let i = 0; i < n; i++) {
    const r: RecordInput = {
      id: `id-${i}`,
      values: randomValues(DIM),
      sparse: withSparse ? randomSparse() : undefined,
      metadata: { bucket: i % 7, even: i % 2 === 0 },
    };
    batch.push(r);
    model.set(r.id, r);
  }
  store.upsert(batch);
  // Overwrite some records and delete others, so slots move (swap-remove across blocks).
  const overwrite = Array.from({ length: 50 }, (_, k) => ({
    id: `id-${k * 31}`,
    values: randomValues(DIM),
    sparse: withSparse ? randomSparse() : undefined,
    metadata: { bucket: 99, even: false } as RecordMetadata,
  }));
  store.upsert(overwrite);
  for (const r of overwrite) model.set(r.id, r);
  const doomed = Array.from({ length: 300 }, (_, k) => `id-${k * 7 + 3}`);
  expect(store.delete(doomed)).toBe(doomed.filter((id) => model.has(id)).length);
  for (const id of doomed) model.delete(id);
  return { store, model };
}

describe('NamespaceStore exact search matches a brute-force reference', () => {
  const { store, model } = build(2600, false); // more than two blocks of 1024 rows

  for (const metric of ['cosine', 'euclidean', 'dotproduct'] as const) {
    it(`${metric}: top 25 ids and scores`, () => {
      for (let trial = 0; trial < 5; trial++) {
        const q = randomValues(DIM);
        const got = store.search({ dense: Float32Array.from(q) }, 25, metric);
        const want = reference(model, { dense: q }, metric).slice(0, 25);
        expect(got.map((s) => store.idAt(s.slot))).toEqual(want.map((w) => w.id));
        for (const [i, s] of got.entries()) expect(s.score).toBeCloseTo(want[i]!.score, 9);
      }
    });

    it(`${metric}: with a filter`, () => {
      const q = randomValues(DIM);
      const filter = { $or: [{ bucket: { $in: [1, 2] } }, { bucket: 99 }], even: false };
      const predicate = compileFilter(filter);
      const got = store.search({ dense: Float32Array.from(q) }, 40, metric, predicate);
      const subset = new Map([...model].filter(([, r]) => predicate(r.metadata)));
      const want = reference(subset, { dense: q }, metric).slice(0, 40);
      expect(got.map((s) => store.idAt(s.slot))).toEqual(want.map((w) => w.id));
    });
  }

  it('returns everything when topK exceeds the size', () => {
    const small = new NamespaceStore(2);
    small.upsert([
      { id: 'x', values: [1, 0] },
      { id: 'y', values: [0, 1] },
    ]);
    expect(small.search({ dense: Float32Array.from([1, 0]) }, 10, 'dotproduct')).toHaveLength(2);
  });
});

describe('NamespaceStore sparse and hybrid scoring', () => {
  it('hybrid dotproduct adds the sparse dot product to the dense one', () => {
    const { store, model } = build(1500, true);
    const q = { dense: randomValues(DIM), sparse: randomSparse() };
    const got = store.search({ dense: Float32Array.from(q.dense), sparse: q.sparse }, 20, 'dotproduct');
    const want = reference(model, q, 'dotproduct').slice(0, 20);
    expect(got.map((s) => store.idAt(s.slot))).toEqual(want.map((w) => w.id));
    for (const [i, s] of got.entries()) expect(s.score).toBeCloseTo(want[i]!.score, 6);
  });

  it('a sparse-only namespace (dimension 0) scores by the sparse dot product', () => {
    const store = new NamespaceStore(0);
    store.upsert([
      {
        id: 'a',
        values: [],
        sparse: { indices: Uint32Array.from([1, 5]), values: Float32Array.from([1, 2]) },
      },
      {
        id: 'b',
        values: [],
        sparse: { indices: Uint32Array.from([5, 9]), values: Float32Array.from([3, 1]) },
      },
      { id: 'c', values: [], sparse: { indices: Uint32Array.from([2]), values: Float32Array.from([4]) } },
    ]);
    const got = store.search(
      { sparse: { indices: Uint32Array.from([5]), values: Float32Array.from([1]) } },
      3,
      'dotproduct',
    );
    expect(got.map((s) => [store.idAt(s.slot), s.score])).toEqual([
      ['b', 3],
      ['a', 2],
      ['c', 0],
    ]);
  });
});

describe('NamespaceStore bookkeeping', () => {
  it('upsert overwrites by id, update changes parts, delete swaps the last record in', () => {
    const store = new NamespaceStore(3);
    store.upsert([
      { id: 'a', values: [1, 2, 3], metadata: { k: 'v' } },
      { id: 'b', values: [4, 5, 6] },
      { id: 'c', values: [7, 8, 9] },
    ]);
    store.upsert([{ id: 'a', values: [0, 0, 1] }]);
    expect(store.size).toBe(3);
    expect(Array.from(store.get('a')!.values)).toEqual([0, 0, 1]);
    expect(store.get('a')!.metadata).toBeUndefined();
    expect(store.update('b', { metadata: { x: 1 } })).toBe(true);
    expect(store.update('zz', { metadata: { x: 1 } })).toBe(false);
    expect(store.delete(['a', 'missing'])).toBe(1);
    expect(Array.from(store.get('c')!.values)).toEqual([7, 8, 9]);
    expect(store.get('b')!.metadata).toEqual({ x: 1 });
    expect(store.sortedIds()).toEqual(['b', 'c']);
  });

  it('keeps sorted ids current across writes', () => {
    const store = new NamespaceStore(1);
    store.upsert([{ id: 'm', values: [1] }]);
    expect(store.sortedIds()).toEqual(['m']);
    store.upsert([
      { id: 'a', values: [1] },
      { id: 'z', values: [1] },
    ]);
    expect(store.sortedIds()).toEqual(['a', 'm', 'z']);
    store.delete(['m']);
    expect(store.sortedIds()).toEqual(['a', 'z']);
  });
});

describe('NamespaceStore tie order', () => {
  it('orders equal scores by id, not by insertion or slot', () => {
    const store = new NamespaceStore(2);
    store.upsert([
      { id: 'c', values: [1, 0] },
      { id: 'a', values: [1, 0] },
      { id: 'd', values: [0, 1] },
      { id: 'b', values: [1, 0] },
    ]);
    store.delete(['c']); // 'b' moves into the first slot
    const got = store.search({ dense: Float32Array.of(1, 0) }, 3, 'dotproduct');
    expect(got.map((s) => [store.idAt(s.slot), s.score])).toEqual([
      ['a', 1],
      ['b', 1],
      ['d', 0],
    ]);
  });
});
