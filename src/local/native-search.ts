/**
 * Exact top-k through a native prefilter. The native kernel scans every row fast but
 * approximately (float32 distances, arbitrary order among equals); its best candidates
 * are rescored with the exact double-precision scorer and selected in the store's total
 * order, and the walk stops only when no row left out can still qualify: a row whose
 * approximate rank is below the k-th exact rank minus the kernel's error bound cannot.
 * So the matches, their scores and their order are the plain scan's, bit for bit.
 *
 * When the candidates run out before that point (many rows within the error bound of the
 * k-th, e.g. duplicates, or a filter that rejects most candidates), the scan is repeated
 * for more candidates; after that the caller falls back to the plain scan.
 */

import type { DenseRows } from './dense-rows.js';
import { norm } from './dense-rows.js';
import type { NativeKernel } from './native-kernel.js';
import type { QueryScorer } from './scoring.js';
import { type Selected, type TieOrder, TopK } from './top-k.js';

/** Candidates asked for beyond 2k in the first round. */
const FIRST_ROUND_MARGIN = 64;
/** How much the candidate count grows for the second (and last) round. */
const GROWTH = 16;
const ROUNDS = 2;

/** The rows that pass a filter, when there is one. */
export interface Survivors {
  /** `mask[slot]` is 1 for a row that passes. */
  mask: Uint8Array;
  /** How many rows pass. */
  count: number;
}

/**
 * The `k` best rows for the scorer's dense query (no sparse part), or undefined when
 * the native candidates did not settle the answer (then scan in JS). `k` is at most
 * the number of rows that pass the filter.
 */
export function nativeTopK(
  kernel: NativeKernel,
  rows: DenseRows,
  scorer: QueryScorer,
  k: number,
  tieBefore: TieOrder,
  survivors?: Survivors,
): Selected[] | undefined {
  const dense = scorer.dense;
  const n = rows.size;
  if (!dense || n === 0) return undefined;
  const slack = kernel.rankError(scorer.metric, rows.dimension, norm(dense), rows.maxNorm);
  if (!Number.isFinite(slack)) return undefined;
  // The stored query was float32, so this conversion back is exact; a fresh array starts at byte 0.
  const query = Float32Array.from(dense);
  const matrix = rows.matrix();
  const passing = survivors ? survivors.count : n;
  let count = Math.min(n, Math.ceil(((2 * k + FIRST_ROUND_MARGIN) * n) / passing));
  for (let round = 0; round < ROUNDS; round++) {
    const found = kernel.nearest(matrix, rows.dimension, query, count, scorer.metric);
    const heap = new TopK(k, tieBefore);
    let settled = count >= n;
    for (let i = 0; i < found.slots.length; i++) {
      if (heap.full && found.ranks[i]! < heap.threshold - slack) {
        settled = true;
        break;
      }
      const slot = found.slots[i]!;
      if (survivors && survivors.mask[slot] === 0) continue;
      const score = scorer.score(slot);
      heap.push(slot, scorer.rank(score), score);
    }
    if (settled) return heap.result();
    count = Math.min(n, count * GROWTH);
  }
  return undefined;
}
