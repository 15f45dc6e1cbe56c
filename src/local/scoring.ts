/**
 * Exact scores of Pinecone's metrics in double precision: the arithmetic every search
 * path reports. A native kernel only preselects candidates (`native-search.ts`); their
 * scores, and so the order of the matches, always come from here.
 *
 * Scores follow Pinecone: cosine similarity, dot product (plus the sparse dot product for
 * hybrid queries), or the squared euclidean distance (smaller is closer).
 */
import type { Metric } from '../data/types.js';
import { type DenseRows, norm } from './dense-rows.js';
import type { TopK } from './top-k.js';

/** Sparse values as stored: indices ascending, no duplicates. */
export interface StoredSparse {
  indices: Uint32Array;
  values: Float32Array;
}

/** Dot product of `dim` floats of `rows` from `off` with `q` (unrolled: this is the hot loop). */
export function dotRow(rows: Float32Array, off: number, q: Float64Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    s0 += rows[off + i]! * q[i]!;
    s1 += rows[off + i + 1]! * q[i + 1]!;
    s2 += rows[off + i + 2]! * q[i + 2]!;
    s3 += rows[off + i + 3]! * q[i + 3]!;
  }
  for (; i < dim; i++) s0 += rows[off + i]! * q[i]!;
  return s0 + s1 + s2 + s3;
}

/** Squared euclidean distance of `dim` floats of `rows` from `off` and `q`. */
export function squaredDistanceRow(rows: Float32Array, off: number, q: Float64Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    const d0 = rows[off + i]! - q[i]!;
    const d1 = rows[off + i + 1]! - q[i + 1]!;
    const d2 = rows[off + i + 2]! - q[i + 2]!;
    const d3 = rows[off + i + 3]! - q[i + 3]!;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < dim; i++) {
    const d = rows[off + i]! - q[i]!;
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3;
}

/** Dot product of two sparse vectors with ascending indices (a merge join). */
export function sparseDot(a: StoredSparse, b: StoredSparse): number {
  let i = 0;
  let j = 0;
  let sum = 0;
  const ai = a.indices;
  const bi = b.indices;
  while (i < ai.length && j < bi.length) {
    const x = ai[i]!;
    const y = bi[j]!;
    if (x === y) sum += a.values[i++]! * b.values[j++]!;
    else if (x < y) i++;
    else j++;
  }
  return sum;
}

/** One query's exact score against any stored record. */
export class QueryScorer {
  /** The dense query in doubles (the hot loops then convert only the stored floats), if any. */
  readonly dense: Float64Array | undefined;
  /** The dense query's norm (cosine only; 0 otherwise). */
  readonly denseNorm: number;

  constructor(
    private readonly rows: DenseRows,
    private readonly sparseAt: readonly (StoredSparse | undefined)[],
    dense: Float32Array | undefined,
    private readonly sparse: StoredSparse | undefined,
    readonly metric: Metric,
  ) {
    this.dense = dense && rows.dimension > 0 ? Float64Array.from(dense) : undefined;
    this.denseNorm = this.dense && metric === 'cosine' ? norm(this.dense) : 0;
  }

  /** Whether the query has a sparse part (hybrid or sparse-only). */
  get hasSparse(): boolean {
    return this.sparse !== undefined;
  }

  /** The score of the record in `slot`. */
  score(slot: number): number {
    let score = 0;
    const q = this.dense;
    if (q) {
      const dim = q.length;
      const values = this.rows.values;
      const off = slot * dim;
      if (this.metric === 'euclidean') score = squaredDistanceRow(values, off, q, dim);
      else {
        score = dotRow(values, off, q, dim);
        if (this.metric === 'cosine') {
          const d = this.denseNorm * this.rows.normAt(slot);
          score = d > 0 ? score / d : 0;
        }
      }
    }
    if (this.sparse) {
      const rs = this.sparseAt[slot];
      if (rs) score += sparseDot(this.sparse, rs);
    }
    return score;
  }

  /**
   * The plain exact scan: offer rows `0..rows-1` (those with `mask[slot]` 1, when given)
   * to `heap`. Dense-only queries run a loop per metric with no call per row beyond the
   * kernel, and offer only rows that can enter the heap.
   */
  scan(heap: TopK, rows: number, mask?: Uint8Array): void {
    const q = this.dense;
    if (!q || this.sparse) {
      for (let s = 0; s < rows; s++) {
        if (mask && mask[s] === 0) continue;
        const score = this.score(s);
        heap.push(s, this.rank(score), score);
      }
      return;
    }
    const dim = q.length;
    const values = this.rows.values;
    let threshold = heap.threshold;
    if (this.metric === 'euclidean') {
      for (let s = 0, off = 0; s < rows; s++, off += dim) {
        if (mask && mask[s] === 0) continue;
        const score = squaredDistanceRow(values, off, q, dim);
        if (-score < threshold) continue;
        heap.push(s, -score, score);
        threshold = heap.threshold;
      }
    } else if (this.metric === 'dotproduct') {
      for (let s = 0, off = 0; s < rows; s++, off += dim) {
        if (mask && mask[s] === 0) continue;
        const score = dotRow(values, off, q, dim);
        if (score < threshold) continue;
        heap.push(s, score, score);
        threshold = heap.threshold;
      }
    } else {
      const norms = this.rows.norms;
      const qNorm = this.denseNorm;
      for (let s = 0, off = 0; s < rows; s++, off += dim) {
        if (mask && mask[s] === 0) continue;
        const d = qNorm * norms[s]!;
        const score = d > 0 ? dotRow(values, off, q, dim) / d : 0;
        if (score < threshold) continue;
        heap.push(s, score, score);
        threshold = heap.threshold;
      }
    }
  }

  /** The rank of a score: higher is better (minus the distance for euclidean). */
  rank(score: number): number {
    return this.metric === 'euclidean' ? -score : score;
  }
}
