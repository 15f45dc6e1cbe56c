/**
 * Every search path returns the plain scan's answer: the same ids, the same scores to the
 * bit, the same order (equal scores by ascending id). The native path runs with usearch
 * (when its binary loads here) and with a stand-in kernel that is worse than usearch on
 * purpose: noisy within its stated error bound, equal ranks in random order.
 */
import { describe, expect, it } from 'vitest';
import type { Metric } from '../../src/data/types.js';
import { compileFilter, type FilterPredicate } from '../../src/local/filter.js';
import { type NativeKernel, resolveNativeKernel } from '../../src/local/native-kernel.js';
import { NamespaceStore, type RecordInput, type SearchQuery } from '../../src/local/store.js';
import { seededRandom } from '../../src/resilience/clock.js';

const DIM = 256; // half of 2852 rows × 256 = 365k multiply-adds: past the store's native threshold
const METRICS: Metric[] = ['cosine', 'dotproduct', 'euclidean'];
const usearch = resolveNativeKernel({}).kernel;

/** A kernel that records how many candidates each native scan asked for. */
function spy(kernel: NativeKernel): { kernel: NativeKernel; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    kernel: {
      description: kernel.description,
      rankError: kernel.rankError.bind(kernel),
      nearest(matrix, dim, query, count, metric) {
        calls.push(count);
        return kernel.nearest(matrix, dim, query, count, metric);
      },
    },
  };
}

/** Plain double-precision ranks of every row (higher is better). */
function plainRanks(matrix: Float32Array, dim: number, query: Float32Array, metric: Metric): Float64Array {
  const rows = matrix.length / dim;
  const out = new Float64Array(rows);
  let qq = 0;
  for (const x of query) qq += x * x;
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    let xx = 0;
    let dd = 0;
    for (let d = 0; d < dim; d++) {
      const x = matrix[r * dim + d]!;
      dot += x * query[d]!;
      xx += x * x;
      dd += (x - query[d]!) ** 2;
    }
    out[r] =
      metric === 'euclidean' ? -dd : metric === 'dotproduct' ? dot : xx && qq ? dot / Math.sqrt(xx * qq) : 0;
  }
  return out;
}

/**
 * A stand-in for a native kernel, worse than usearch on purpose: every rank is off by up
 * to `error` (seeded noise, then rounded to a grid so many ranks are equal) and equal
 * ranks come back in random order. The store must still return the exact answer.
 */
function noisyKernel(seed: number, error: number): NativeKernel {
  const random = seededRandom(seed);
  const grid = error / 4;
  return {
    description: 'noisy stand-in',
    rankError: () => error,
    nearest(matrix, dim, query, count, metric) {
      const exact = plainRanks(matrix, dim, query, metric);
      const rows = Array.from(exact, (rank, slot) => ({
        slot,
        rank: Math.round((rank + (random() * 2 - 1) * error * 0.8) / grid) * grid,
        shuffle: random(),
      }));
      rows.sort((a, b) => b.rank - a.rank || a.shuffle - b.shuffle);
      const top = rows.slice(0, count);
      return { slots: top.map((r) => r.slot), ranks: Float64Array.from(top, (r) => r.rank) };
    },
  };
}

const vectorsOf = (random: () => number) => () => Float32Array.from({ length: DIM }, () => random() * 2 - 1);
/** Query vectors. */
const randomVector = vectorsOf(seededRandom(2024));
/** A vector every tie group copies: the query of the tie tests. */
const anchor = randomVector();

/**
 * The same namespace each call: 3000 random rows, then 40 (+ `extraCopies`) exact copies
 * of `anchor` and 12 power-of-two scalings of it (equal cosine, not equal dot product),
 * with ids whose order is not the insertion order; then overwrites and deletes, so slots
 * no longer follow insertion either.
 */
function fill(store: NamespaceStore, extraCopies = 0): NamespaceStore {
  const vector = vectorsOf(seededRandom(99));
  const records: RecordInput[] = [];
  for (let i = 0; i < 3000; i++) {
    records.push({ id: `r-${(i * 7919) % 3000}`, values: vector(), metadata: { bucket: i % 10 } });
  }
  for (let i = 0; i < 40 + extraCopies; i++) {
    records.push({ id: `copy-${(i * 37) % 10007}`, values: anchor, metadata: { bucket: i % 10 } });
  }
  for (let i = 0; i < 12; i++) {
    const scale = 2 ** ((i % 5) - 2);
    records.push({ id: `scaled-${11 - i}`, values: anchor.map((x) => x * scale), metadata: { bucket: 1 } });
  }
  store.upsert(records);
  store.upsert(Array.from({ length: 50 }, (_, k) => ({ id: `r-${k * 13}`, values: vector() })));
  store.delete(Array.from({ length: 200 }, (_, k) => `r-${k * 11 + 5}`));
  return store;
}

function answer(
  store: NamespaceStore,
  query: SearchQuery,
  topK: number,
  metric: Metric,
  p?: FilterPredicate,
) {
  return store.search(query, topK, metric, p).map((s) => [store.idAt(s.slot), s.score] as const);
}

const plain = fill(new NamespaceStore(DIM, { kernel: null }));
const kernels: [string, NativeKernel | undefined][] = [
  ['usearch', usearch],
  ['a noisy stand-in kernel', noisyKernel(7, 1e-3)],
];

describe.each(kernels)('the native path with %s', (_name, base) => {
  const { kernel, calls } = base ? spy(base) : { kernel: undefined, calls: [] };
  const store = kernel && fill(new NamespaceStore(DIM, { kernel }));

  it.skipIf(!kernel).each(METRICS)('%s: random queries, top 1, 10 and 100, as the plain scan', (metric) => {
    for (let trial = 0; trial < 4; trial++) {
      const q = { dense: randomVector() };
      for (const topK of [1, 10, 100]) {
        calls.length = 0;
        expect(answer(store!, q, topK, metric)).toEqual(answer(plain, q, topK, metric));
        expect(calls).toHaveLength(1); // settled by the first native scan
      }
    }
  });

  it.skipIf(!kernel).each(METRICS)(
    '%s: tied scores come in ascending id order, as the plain scan',
    (metric) => {
      const q = { dense: anchor };
      calls.length = 0;
      const got = answer(store!, q, 25, metric);
      expect(got).toEqual(answer(plain, q, 25, metric));
      expect(calls.length).toBeGreaterThan(0);
      const tied = got.filter(([, score]) => score === got[0]![1]);
      expect(tied.length).toBeGreaterThan(1);
      expect(tied.map(([id]) => id)).toEqual(tied.map(([id]) => id).sort());
    },
  );

  it.skipIf(!kernel)('a filter passing half the rows: filtered first, then the same answer', () => {
    const predicate = compileFilter({ bucket: { $in: [0, 1, 2, 3, 4] } });
    for (const metric of METRICS) {
      calls.length = 0;
      const q = { dense: randomVector() };
      const got = answer(store!, q, 20, metric, predicate);
      expect(got).toEqual(answer(plain, q, 20, metric, predicate));
      expect(calls.length).toBeGreaterThan(0);
      for (const [id] of got) expect(predicate(store!.metadataOf(id))).toBe(true);
    }
  });

  it.skipIf(!kernel)('a selective filter, a hybrid query and a zero cosine query are scored in JS', () => {
    calls.length = 0;
    const selective = compileFilter({ bucket: 3 });
    const q = { dense: randomVector() };
    expect(answer(store!, q, 10, 'cosine', selective)).toEqual(answer(plain, q, 10, 'cosine', selective));
    const hybrid = { dense: q.dense, sparse: { indices: Uint32Array.of(1), values: Float32Array.of(1) } };
    expect(answer(store!, hybrid, 10, 'dotproduct')).toEqual(answer(plain, hybrid, 10, 'dotproduct'));
    const zero = { dense: new Float32Array(DIM) };
    const zeros = answer(store!, zero, 5, 'cosine');
    expect(zeros).toEqual(answer(plain, zero, 5, 'cosine'));
    expect(zeros.map(([id]) => id)).toEqual(store!.sortedIds().slice(0, 5));
    expect(calls).toEqual([]);
  });

  it.skipIf(!kernel)('more ties than candidates: a second, larger native scan, then the plain scan', () => {
    const q = { dense: anchor };
    const manyTies = fill(new NamespaceStore(DIM, { kernel }), 400);
    const plainTies = fill(new NamespaceStore(DIM, { kernel: null }), 400);
    calls.length = 0;
    expect(answer(manyTies, q, 10, 'dotproduct')).toEqual(answer(plainTies, q, 10, 'dotproduct'));
    expect(calls).toEqual([84, 84 * 16]); // 2k + 64, then 16 times that, which holds all 440 copies

    const allTies = fill(new NamespaceStore(DIM, { kernel }), 2500);
    const plainAll = fill(new NamespaceStore(DIM, { kernel: null }), 2500);
    calls.length = 0;
    expect(answer(allTies, q, 10, 'dotproduct')).toEqual(answer(plainAll, q, 10, 'dotproduct'));
    expect(calls).toEqual([84, 84 * 16]); // 2540 copies: neither scan settles, the plain scan answers
  });
});
