/**
 * The dense values of one namespace: one contiguous, row-major `Float32Array` (row `i`
 * is the record in slot `i`) and each row's euclidean norm, computed when the row is
 * written so a cosine query never recomputes it.
 *
 * Contiguous because a SIMD kernel scans the whole matrix in one native call (see
 * `native-kernel.ts`), and a plain loop over one array is the fastest JS scan too. Slots
 * stay dense: removing a row moves the last row into the hole, so a scan never skips gaps.
 * Capacity doubles when full (amortised O(1) per row; one copy of the rows while growing)
 * and halves when three quarters are unused, so deleting everything frees the memory.
 */

/** Euclidean norm of a vector, in double precision. */
export function norm(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]! * values[i]!;
  return Math.sqrt(s);
}

/** Rows allocated at first: small namespaces (tests, demos) stay small. */
const MIN_CAPACITY = 64;

/** The dense rows of a namespace. With `dimension` 0 (a sparse index) every row is empty. */
export class DenseRows {
  private data = new Float32Array(0);
  private normOf = new Float64Array(0);
  private rows = 0;
  private normBound = 0;

  constructor(readonly dimension: number) {}

  /** Number of rows. */
  get size(): number {
    return this.rows;
  }

  /**
   * An upper bound of every row's norm (not lowered by deletes or overwrites until the
   * namespace empties or shrinks; error bounds only need an upper bound).
   */
  get maxNorm(): number {
    return this.normBound;
  }

  /**
   * The backing array, rows `0..size-1` first; read it with offset `slot * dimension`.
   * Valid until the next write: growing or shrinking replaces it.
   */
  get values(): Float32Array {
    return this.data;
  }

  /** The rows' norms, by slot (valid until the next write, like {@link values}). */
  get norms(): Float64Array {
    return this.normOf;
  }

  /** The norm of the row in `slot`. */
  normAt(slot: number): number {
    return this.normOf[slot]!;
  }

  /**
   * The rows as one view starting at byte 0 of its own buffer and holding exactly
   * `size * dimension` floats: what a native kernel that ignores `byteOffset` needs.
   */
  matrix(): Float32Array {
    return new Float32Array(this.data.buffer, 0, this.rows * this.dimension);
  }

  /** Add a row at slot `size`; returns the slot. */
  append(values: ArrayLike<number>): number {
    const slot = this.rows;
    this.reserve(slot + 1);
    this.rows++;
    this.write(slot, values);
    return slot;
  }

  /** Replace the values of an existing row. */
  write(slot: number, values: ArrayLike<number>): void {
    const dim = this.dimension;
    if (dim === 0) return;
    const off = slot * dim;
    this.data.set(values, off);
    const n = norm(this.data.subarray(off, off + dim));
    this.normOf[slot] = n;
    if (n > this.normBound || Number.isNaN(n)) this.normBound = n;
  }

  /** A copy of the row in `slot`. */
  copy(slot: number): Float32Array {
    const off = slot * this.dimension;
    return this.data.slice(off, off + this.dimension);
  }

  /** Remove the row in `slot` by moving the last row into it (the caller moves its own per-slot data alike). */
  swapRemove(slot: number): void {
    const last = this.rows - 1;
    const dim = this.dimension;
    if (slot !== last) {
      this.data.copyWithin(slot * dim, last * dim, last * dim + dim);
      this.normOf[slot] = this.normOf[last]!;
    }
    this.rows = last;
    if (this.rows === 0) this.normBound = 0;
    if (this.normOf.length > MIN_CAPACITY && this.rows < this.normOf.length / 4)
      this.resize(Math.max(MIN_CAPACITY, this.normOf.length >>> 1));
  }

  private reserve(rows: number): void {
    if (rows > this.normOf.length) this.resize(Math.max(MIN_CAPACITY, this.normOf.length * 2, rows));
  }

  /** Move the rows into arrays of `capacity` rows (a fresh buffer, so `matrix()` starts at byte 0). */
  private resize(capacity: number): void {
    const dim = this.dimension;
    const data = new Float32Array(capacity * dim);
    data.set(this.data.subarray(0, this.rows * dim));
    const norms = new Float64Array(capacity);
    norms.set(this.normOf.subarray(0, this.rows));
    this.data = data;
    this.normOf = norms;
    // A fresh bound from the rows that remain (shrinking follows deletes).
    let bound = 0;
    for (let s = 0; s < this.rows; s++) if (!(norms[s]! <= bound)) bound = norms[s]!;
    this.normBound = bound;
  }
}
