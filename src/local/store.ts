/**
 * In-memory storage of one namespace: dense values (`dense-rows.ts`), sparse values,
 * metadata, and exact search.
 *
 * Every operation is O(size of the request) except search, list and filter scans, which
 * are O(records in the namespace) by nature. Records live in dense slots `0..size-1`;
 * deleting moves the last record into the hole, so scans never skip gaps.
 *
 * Search is exact on every path: the plain-JS scan, or a native SIMD prefilter whose
 * candidates are rescored by the same double-precision scorer (`native-search.ts`).
 * Matches come best first; equal scores in ascending id order (UTF-16 code units, the
 * order of `list`), whatever the path and however slots moved.
 */
import type { Metric, RecordMetadata } from '../data/types.js';
import { DenseRows } from './dense-rows.js';
import type { FilterPredicate } from './filter.js';
import { defaultNativeKernel, type NativeKernel } from './native-kernel.js';
import { nativeTopK, type Survivors } from './native-search.js';
import { QueryScorer, type StoredSparse } from './scoring.js';
import { type Selected, type TieOrder, TopK } from './top-k.js';

export { type StoredSparse, sparseDot } from './scoring.js';

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

/** Options of a {@link NamespaceStore}. */
export interface NamespaceStoreOptions {
  /**
   * The native scan kernel: omitted, the process-wide one (`defaultNativeKernel()`,
   * loaded on first use); `null`, the plain-JS scan only.
   */
  kernel?: NativeKernel | null;
}

/**
 * Fewest multiply-adds (rows scored × dimension) worth a native call: below it the plain
 * scan takes well under a millisecond and the call's fixed cost (threads) would dominate.
 */
const NATIVE_MIN_WORK = 1 << 18;
/**
 * A filter passing fewer rows than this share is scored in JS: the native kernel scans
 * every row, the plain scan only the survivors.
 */
const NATIVE_MIN_SURVIVOR_SHARE = 0.25;

/** The records of one namespace. `dimension` is 0 for a sparse index. */
export class NamespaceStore {
  private readonly rows: DenseRows;
  private readonly ids: string[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly metadata: (RecordMetadata | undefined)[] = [];
  private readonly sparse: (StoredSparse | undefined)[] = [];
  private sorted: string[] | null = null;
  /** Equal scores: the smaller id first. */
  private readonly tieBefore: TieOrder = (a, b) => this.ids[a]! < this.ids[b]!;

  constructor(
    readonly dimension: number,
    private readonly options: NamespaceStoreOptions = {},
  ) {
    this.rows = new DenseRows(dimension);
  }

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
      const slot = this.slotOf.get(r.id);
      if (slot === undefined) {
        this.slotOf.set(r.id, this.rows.append(r.values));
        this.ids.push(r.id);
        this.metadata.push(r.metadata);
        this.sparse.push(r.sparse);
        this.sorted = null;
      } else {
        this.rows.write(slot, r.values);
        this.sparse[slot] = r.sparse;
        this.metadata[slot] = r.metadata;
      }
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
      values: this.rows.copy(slot),
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
    if (change.values) this.rows.write(slot, change.values);
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
   * Exact search: at most `topK` slots, best first (see the scores in `scoring.ts` and
   * the order in this file's header). A filter is applied first; only the records that
   * pass it are scored.
   */
  search(query: SearchQuery, topK: number, metric: Metric, predicate?: FilterPredicate): Selected[] {
    const n = this.ids.length;
    const survivors = predicate ? this.survivors(predicate) : undefined;
    const passing = survivors ? survivors.count : n;
    if (passing === 0) return [];
    const k = Math.max(1, Math.min(topK, passing));
    const scorer = new QueryScorer(this.rows, this.sparse, query.dense, query.sparse, metric);
    const kernel = this.nativeKernelFor(scorer, passing);
    const found = kernel && nativeTopK(kernel, this.rows, scorer, k, this.tieBefore, survivors);
    if (found) return found;
    const heap = new TopK(k, this.tieBefore);
    scorer.scan(heap, n, survivors?.mask);
    return heap.result();
  }

  /** The rows that pass a filter. */
  private survivors(predicate: FilterPredicate): Survivors {
    const n = this.ids.length;
    const mask = new Uint8Array(n);
    let count = 0;
    for (let s = 0; s < n; s++) {
      if (predicate(this.metadata[s])) {
        mask[s] = 1;
        count++;
      }
    }
    return { mask, count };
  }

  /**
   * The native kernel when it can serve this query: a dense-only query (the kernel has
   * no sparse part), enough work, and no cosine query of norm 0 (every score is 0 then,
   * while the kernel ranks zero rows first).
   */
  private nativeKernelFor(scorer: QueryScorer, passing: number): NativeKernel | undefined {
    if (this.options.kernel === null || !scorer.dense || scorer.hasSparse) return undefined;
    if (passing * this.dimension < NATIVE_MIN_WORK) return undefined;
    if (passing < this.ids.length * NATIVE_MIN_SURVIVOR_SHARE) return undefined;
    if (scorer.metric === 'cosine' && !(scorer.denseNorm > 0)) return undefined;
    return this.options.kernel ?? defaultNativeKernel();
  }

  /** Move the last record into `slot` and drop the last slot. */
  private removeSlot(slot: number): void {
    const last = this.ids.length - 1;
    const id = this.ids[slot]!;
    this.rows.swapRemove(slot);
    if (slot !== last) {
      const lastId = this.ids[last]!;
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
  }
}
