/**
 * Bounded top-k selection: a binary min-heap over typed arrays, so a query over N
 * candidates costs O(N log k) and allocates nothing per candidate.
 *
 * The order is total, so every search path (the plain scan, the native prefilter, any
 * future one) returns the same matches in the same order: higher rank first, and among
 * equal ranks the candidate the caller's `tieBefore` puts first (the store puts the
 * smaller id first).
 */

/** One selected candidate: the store slot and its score. */
export interface Selected {
  slot: number;
  score: number;
}

/** Whether slot `a` goes before slot `b` when their ranks are equal. */
export type TieOrder = (a: number, b: number) => boolean;

/** Slot order: the default tie order when slots carry no other meaning. */
const bySlot: TieOrder = (a, b) => a < b;

/**
 * Keeps the `k` candidates with the highest `rank`. The caller chooses `rank` so that
 * higher is better (the score for cosine/dotproduct, minus the distance for euclidean)
 * and keeps the score it reports separately.
 */
export class TopK {
  private readonly ranks: Float64Array;
  private readonly scores: Float64Array;
  private readonly slots: Int32Array;
  private size = 0;

  constructor(
    readonly k: number,
    private readonly tieBefore: TieOrder = bySlot,
  ) {
    this.ranks = new Float64Array(k);
    this.scores = new Float64Array(k);
    this.slots = new Int32Array(k);
  }

  /** Whether `k` candidates are held, so a newcomer must beat {@link threshold}. */
  get full(): boolean {
    return this.size === this.k;
  }

  /** The rank of the worst candidate held, or -Infinity while the heap is not full. */
  get threshold(): number {
    return this.size < this.k ? Number.NEGATIVE_INFINITY : this.ranks[0]!;
  }

  /** Offer a candidate; it enters when it beats the worst one held (ties by the tie order). */
  push(slot: number, rank: number, score: number): void {
    const { ranks, slots } = this;
    if (this.size < this.k) {
      let i = this.size++;
      // Sift up: the root is the worst candidate held.
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.worse(slot, rank, slots[parent]!, ranks[parent]!)) break;
        this.move(parent, i);
        i = parent;
      }
      this.put(i, slot, rank, score);
      return;
    }
    if (!this.worse(slots[0]!, ranks[0]!, slot, rank)) return;
    // Replace the root and sift down.
    let i = 0;
    const n = this.size;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child =
        right < n && this.worse(slots[right]!, ranks[right]!, slots[left]!, ranks[left]!) ? right : left;
      if (!this.worse(slots[child]!, ranks[child]!, slot, rank)) break;
      this.move(child, i);
      i = child;
    }
    this.put(i, slot, rank, score);
  }

  /** The selected candidates, best first. */
  result(): Selected[] {
    const { ranks, slots } = this;
    const order = Array.from({ length: this.size }, (_, i) => i);
    order.sort((a, b) => (this.worse(slots[b]!, ranks[b]!, slots[a]!, ranks[a]!) ? -1 : 1));
    return order.map((i) => ({ slot: slots[i]!, score: this.scores[i]! }));
  }

  /** Whether candidate a ranks below candidate b (equal ranks: b goes first in the tie order). */
  private worse(slotA: number, rankA: number, slotB: number, rankB: number): boolean {
    return rankA !== rankB ? rankA < rankB : this.tieBefore(slotB, slotA);
  }

  private move(from: number, to: number): void {
    this.ranks[to] = this.ranks[from]!;
    this.scores[to] = this.scores[from]!;
    this.slots[to] = this.slots[from]!;
  }

  private put(i: number, slot: number, rank: number, score: number): void {
    this.ranks[i] = rank;
    this.scores[i] = score;
    this.slots[i] = slot;
  }
}
