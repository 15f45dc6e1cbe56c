/**
 * Bounded top-k selection: a binary min-heap over typed arrays, so a query over N
 * candidates costs O(N log k) and allocates nothing per candidate.
 */

/** One selected candidate: the store slot and its score. */
export interface Selected {
  slot: number;
  score: number;
}

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

  constructor(readonly k: number) {
    this.ranks = new Float64Array(k);
    this.scores = new Float64Array(k);
    this.slots = new Int32Array(k);
  }

  /** The rank a candidate must beat to enter once the heap is full. */
  get threshold(): number {
    return this.size < this.k ? Number.NEGATIVE_INFINITY : this.ranks[0]!;
  }

  /** Offer a candidate. Ties keep the earlier one, so results are stable across runs. */
  push(slot: number, rank: number, score: number): void {
    if (this.size < this.k) {
      let i = this.size++;
      // Sift up.
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (this.ranks[parent]! <= rank) break;
        this.move(parent, i);
        i = parent;
      }
      this.put(i, slot, rank, score);
      return;
    }
    if (rank <= this.ranks[0]!) return;
    // Replace the root and sift down.
    let i = 0;
    const n = this.size;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.ranks[right]! < this.ranks[left]! ? right : left;
      if (this.ranks[child]! >= rank) break;
      this.move(child, i);
      i = child;
    }
    this.put(i, slot, rank, score);
  }

  /** The selected candidates, best first. */
  result(): Selected[] {
    const out: { slot: number; score: number; rank: number }[] = [];
    for (let i = 0; i < this.size; i++) {
      out.push({ slot: this.slots[i]!, score: this.scores[i]!, rank: this.ranks[i]! });
    }
    out.sort((a, b) => b.rank - a.rank || a.slot - b.slot);
    return out.map(({ slot, score }) => ({ slot, score }));
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
