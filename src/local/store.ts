/**
 * In-memory storage of one namespace: dense values in fixed-size `Float32Array` blocks
 * (growth never copies old data), sparse values, metadata, and exact search.
 *
 * Every operation is O(size of the request) except search, list and filter scans, which
 * are O(records in the namespace) by nature. Records live in dense slots `0..size-1`;
 * deleting moves the last record into the hole, so scans never skip gaps.
 */
import type { Metric, RecordMetadata } from '../data/types.js';
import type { FilterPredicate } from './filter.js';
import { type Selected, TopK } from './top-k.js';

/** Sparse values as stored: indices ascending, no duplicates. */
export interface StoredSparse {
  indices: Uint32Array;
  values: Float32Array;
}

/** A record to write. `values` is empty (length 0) for sparse-only records. */
export interface RecordInput {
  id: string;
  values: ArrayLike<number>;
  sparse?: StoredSparse | undefined;
  metadata?: RecordMetadata | undefined;
}

/** A record as read back: `values` is a fresh copy. */
export interface StoredRecord {
  id: string;
  values: Float32Array;
  sparse: StoredSparse | undefined;
  metadata: RecordMetadata | undefined;
}

/** A query: dense values, sparse values, or both (hybrid, dotproduct only). */
export interface SearchQuery {
  dense?: Float32Array | undefined;
  sparse?: StoredSparse | undefined;
}

/** Rows per block; a power of two so slot arithmetic is a shift and a mask. */
const BLOCK_SHIFT = 10;
const BLOCK_ROWS = 1 << BLOCK_SHIFT;
const BLOCK_MASK = BLOCK_ROWS - 1;

/** Dot product of `dim` floats of a block row with `q` (unrolled: this is the hot loop). */
function dotRow(block: Float32Array, off: number, q: Float64Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    s0 += block[off + i]! * q[i]!;
    s1 += block[off + i + 1]! * q[i + 1]!;
    s2 += block[off + i + 2]! * q[i + 2]!;
    s3 += block[off + i + 3]! * q[i + 3]!;
  }
  for (; i < dim; i++) s0 += block[off + i]! * q[i]!;
  return s0 + s1 + s2 + s3;
}

/** Squared euclidean distance of a block row and `q`. */
function squaredDistanceRow(block: Float32Array, off: number, q: Float64Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    const d0 = block[off + i]! - q[i]!;
    const d1 = block[off + i + 1]! - q[i + 1]!;
    const d2 = block[off + i + 2]! - q[i + 2]!;
    const d3 = block[off + i + 3]! - q[i + 3]!;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < dim; i++) {
    const d = block[off + i]! - q[i]!;
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

/** Euclidean norm of a vector. */
export function norm(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]! * values[i]!;
  return Math.sqrt(s);
}

/** The records of one namespace. `dimension` is 0 for a sparse index. */
export class NamespaceStore {
  private readonly blocks: Float32Array[] = [];
  private norms = new Float64Array(0);
  private readonly ids: string[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly metadata: (RecordMetadata | undefined)[] = [];
  private readonly sparse: (StoredSparse | undefined)[] = [];
  private sorted: string[] | null = null;

  constructor(readonly dimension: number) {}

  /** Number of records. */
  get size(): number {
    return this.ids.length;
  }

  /** Whether a record exists. */
  has(id: string): boolean {
    return this.slotOf.has(id);
  }

  /** Write records (insert or overwrite by id). The caller has validated them. */
  upsert(records: readonly RecordInput[]): void {
    for (const r of records) {
      let slot = this.slotOf.get(r.id);
      if (slot === undefined) {
        slot = this.ids.length;
        this.ensureCapacity(slot + 1);
        this.ids.push(r.id);
        this.metadata.push(undefined);
        this.sparse.push(undefined);
        this.slotOf.set(r.id, slot);
        this.sorted = null;
      }
      this.writeValues(slot, r.values);
      this.sparse[slot] = r.sparse;
      this.metadata[slot] = r.metadata;
    }
  }

  /** Read a record (values copied), or undefined. */
  get(id: string): StoredRecord | undefined {
    const slot = this.slotOf.get(id);
    return slot === undefined ? undefined : this.recordAt(slot);
  }

  /** Read the record in a slot (slots come from {@link search} / {@link scan}). */
  recordAt(slot: number): StoredRecord {
    return {
      id: this.ids[slot]!,
      values: this.valuesAt(slot),
      sparse: this.sparse[slot],
      metadata: this.metadata[slot],
    };
  }

  /** Id of the record in a slot. */
  idAt(slot: number): string {
    return this.ids[slot]!;
  }

  /** Metadata of a record, or undefined when it has none or does not exist. */
  metadataOf(id: string): RecordMetadata | undefined {
    const slot = this.slotOf.get(id);
    return slot === undefined ? undefined : this.metadata[slot];
  }

  /** Replace parts of an existing record. Returns false when the id does not exist. */
  update(
    id: string,
    change: { values?: ArrayLike<number>; sparse?: StoredSparse; metadata?: RecordMetadata },
  ): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    if (change.values) this.writeValues(slot, change.values);
    if (change.sparse) this.sparse[slot] = change.sparse;
    if (change.metadata) this.metadata[slot] = change.metadata;
    return true;
  }

  /** Delete records by id; returns how many existed. */
  delete(ids: Iterable<string>): number {
    let removed = 0;
    for (const id of ids) {
      const slot = this.slotOf.get(id);
      if (slot === undefined) continue;
      this.removeSlot(slot);
      removed++;
    }
    return removed;
  }

  /** Ids of the records matching a predicate (a full scan). */
  scan(predicate: FilterPredicate): string[] {
    const out: string[] = [];
    for (let s = 0; s < this.ids.length; s++) if (predicate(this.metadata[s])) out.push(this.ids[s]!);
    return out;
  }

  /** How many records match a predicate. */
  count(predicate: FilterPredicate): number {
    let n = 0;
    for (let s = 0; s < this.ids.length; s++) if (predicate(this.metadata[s])) n++;
    return n;
  }

  /** All ids in ascending (UTF-16 code unit) order; cached until the id set changes. */
  sortedIds(): readonly string[] {
    if (!this.sorted) this.sorted = [...this.ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.sorted;
  }

  /**
   * Exact search. Scores follow Pinecone: cosine similarity, dot product (plus the sparse
   * dot product for hybrid queries) or the squared euclidean distance (smaller is closer,
   * best first). Returns at most `topK` slots, best first.
   */
  search(query: SearchQuery, topK: number, metric: Metric, predicate?: FilterPredicate): Selected[] {
    const n = this.ids.length;
    const heap = new TopK(Math.max(1, Math.min(topK, n || 1)));
    const dim = this.dimension;
    // The query in doubles: the hot loops then convert only the stored floats.
    const q = query.dense && dim > 0 ? Float64Array.from(query.dense) : undefined;
    const qs = query.sparse;
    const qNorm = q && metric === 'cosine' ? norm(q) : 0;
    for (let s = 0; s < n; s++) {
      if (predicate && !predicate(this.metadata[s])) continue;
      let score = 0;
      if (q) {
        const block = this.blocks[s >>> BLOCK_SHIFT]!;
        const off = (s & BLOCK_MASK) * dim;
        if (metric === 'euclidean') score = squaredDistanceRow(block, off, q, dim);
        else {
          score = dotRow(block, off, q, dim);
          if (metric === 'cosine') {
            const d = qNorm * this.norms[s]!;
            score = d > 0 ? score / d : 0;
          }
        }
      }
      if (qs) {
        const rs = this.sparse[s];
        if (rs) score += sparseDot(qs, rs);
      }
      heap.push(s, metric === 'euclidean' ? -score : score, score);
    }
    return heap.result();
  }

  private ensureCapacity(rows: number): void {
    if (this.dimension > 0) {
      while (this.blocks.length * BLOCK_ROWS < rows)
        this.blocks.push(new Float32Array(BLOCK_ROWS * this.dimension));
    }
    if (this.norms.length < rows) {
      const grown = new Float64Array(Math.max(rows, this.norms.length * 2, 64));
      grown.set(this.norms);
      this.norms = grown;
    }
  }

  private writeValues(slot: number, values: ArrayLike<number>): void {
    if (this.dimension === 0) return;
    const block = this.blocks[slot >>> BLOCK_SHIFT]!;
    const off = (slot & BLOCK_MASK) * this.dimension;
    block.set(values, off);
    this.norms[slot] = norm(block.subarray(off, off + this.dimension));
  }

  private valuesAt(slot: number): Float32Array {
    if (this.dimension === 0) return new Float32Array(0);
    const block = this.blocks[slot >>> BLOCK_SHIFT]!;
    const off = (slot & BLOCK_MASK) * this.dimension;
    return block.slice(off, off + this.dimension);
  }

  /** Move the last record into `slot` and drop the last slot. */
  private removeSlot(slot: number): void {
    const last = this.ids.length - 1;
    const id = this.ids[slot]!;
    if (slot !== last) {
      const lastId = this.ids[last]!;
      if (this.dimension > 0) {
        const dim = this.dimension;
        const src = this.blocks[last >>> BLOCK_SHIFT]!;
        const srcOff = (last & BLOCK_MASK) * dim;
        this.blocks[slot >>> BLOCK_SHIFT]!.set(src.subarray(srcOff, srcOff + dim), (slot & BLOCK_MASK) * dim);
      }
      this.norms[slot] = this.norms[last]!;
      this.ids[slot] = lastId;
      this.metadata[slot] = this.metadata[last];
      this.sparse[slot] = this.sparse[last];
      this.slotOf.set(lastId, slot);
    }
    this.ids.pop();
    this.metadata.pop();
    this.sparse.pop();
    this.slotOf.delete(id);
    this.sorted = null;
    // Release a trailing block once it is empty, so deleting everything frees memory.
    while (this.blocks.length > 0 && (this.blocks.length - 1) * BLOCK_ROWS >= this.ids.length + BLOCK_ROWS) {
      this.blocks.pop();
    }
  }
}
