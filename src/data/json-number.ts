/**
 * JavaScript numbers written as bytes exactly as `JSON.stringify` writes them, fast for
 * the values bulk upserts carry: float32 values (what embedding models produce, and what
 * a `Float32Array` holds) widened to doubles. Formatting those numbers was two thirds of a
 * REST upsert's client CPU; V8 formats each through its general double-to-shortest code
 * (110–150 ns a number on the benchmark machine), this path in about a third of that,
 * straight into the body's bytes (bench/upsert-encode.ts, docs/grpc.md).
 *
 * What JSON.stringify prints (ECMAScript Number::toString): the fewest significant
 * digits that read back as the same double, the one nearest the value among those, in
 * fixed notation from 1e-6 to 1e21. For a float32 value `a` in [1e-4, 1e9) that is
 * computed here with exact arithmetic only:
 * - `a × 10^k` (k = 8 − ⌊log10 a⌋ ≤ 12) is exact in a double: a's 24-bit significand
 *   times 5^k (< 2^28) fits in 53 bits. Two truncations split it into the first 9 digits,
 *   the next 8 and the remainder `z`, all exact.
 * - The double's rounding interval, in units of the 17th digit, is `z ± h` with
 *   h = 2^(e2−53) × 10^(16−e10) (a power of two times an exact power of ten), half that
 *   below a power of two; it is closed, as the double's significand is even (its low 29
 *   bits are zero) and V8 (like the round-trip parse) takes even boundaries as inside.
 * - 17 digits always fit (the interval is wider than one unit); fewer fit when a
 *   multiple of 10^j lies in the interval: the largest such j wins, then the multiple
 *   nearest the value, ties to even, as V8 does.
 * Everything else (zero is `0`; doubles that are not float32, float32 outside that range,
 * NaN and infinities) goes through `JSON.stringify` itself. The equivalence is tested
 * against `JSON.stringify` on sampled binades, ties, short decimals and random values
 * (test/data/json-number.test.ts), and bench/json-number-check.ts compares every float32
 * of the range.
 */

/** The most bytes one number takes, here or from JSON.stringify (`-0.0000012345678901234567`). */
export const MAX_NUMBER_BYTES = 25;

const F32 = new Float32Array(1);
const F32_BITS = new Uint32Array(F32.buffer);

/** 10^0 .. 10^22, all exact. */
const POW10 = new Float64Array(23).map((_, i) => 10 ** i);
/** 10^0 .. 10^9 as int32. */
const IPOW10 = new Int32Array(10).map((_, i) => 10 ** i);
/** 2^(i − 100): the half-ulp factors 2^(e2 − 53) for e2 in −14..29. */
const POW2 = new Float64Array(200).map((_, i) => 2 ** (i - 100));
/** Four ASCII digits of 0..9999, packed little-endian for one `setUint32`. */
const DIGITS4 = new Uint32Array(10_000).map((_, i) => {
  const d = String(i).padStart(4, '0');
  return d.charCodeAt(0) | (d.charCodeAt(1) << 8) | (d.charCodeAt(2) << 16) | (d.charCodeAt(3) << 24);
});

const ZERO = 0x30;
const MINUS = 0x2d;
const POINT = 0x2e;

/**
 * Write `x` at `pos` as `JSON.stringify(x)` would; returns the position after it. The
 * buffer needs {@link MAX_NUMBER_BYTES} free bytes at `pos`: the digits are written in
 * fixed-width groups, so bytes past the returned position may be overwritten.
 *
 * The common case (16 or 17 digits, below 1) stays in this function, which is kept small
 * and without unpredictable branches where it can be; the rest is out of line.
 */
export function writeJsonNumber(buf: Uint8Array, view: DataView, pos: number, x: number): number {
  const a = x < 0 ? -x : x;
  if (!(a >= 1e-4 && a < 1e9) || Math.fround(a) !== a) return writeOther(buf, pos, x);
  F32[0] = x;
  const bits = F32_BITS[0]!;
  buf[pos] = MINUS;
  pos += bits >>> 31; // the sign bit: keep the minus sign or write over it
  const e2 = ((bits >>> 23) & 0xff) - 127;
  // ⌊log10 a⌋, estimated from the binary exponent (never above it, at most one below).
  let e10 = Math.floor(e2 * 0.3010299956639812);
  let y = a * POW10[8 - e10]!;
  if (y >= 1e9) {
    e10++;
    y = a * POW10[8 - e10]!;
  }
  // a × 10^(16 − e10) = hi × 10^8 + z exactly; hi has 9 digits, 0 <= z < 10^8.
  const hi = y | 0;
  const z = (y - hi) * 1e8;
  const lo = z | 0;
  // Half the double's rounding interval, in units of z.
  const h = POW2[e2 - 53 + 100]! * POW10[16 - e10]!;

  // The digits are chosen without branches on the data where it can be (which way a
  // value goes is a coin toss, and mispredicted branches were a third of this function's
  // time).
  // 17 digits: the integer nearest z (half a unit is always inside the interval).
  const r = z - lo;
  let c17 = lo + toBit(r > 0.5);
  // 16 digits when a multiple of 10 lies in [z − h, z + h]: the nearest one; 15 when a
  // multiple of 100 does (about one value in ten).
  const below10 = lo % 10;
  const down10 = lo - below10;
  const rem10 = below10 + r; // z − down10
  let c16 = down10 + 10 * toBit(rem10 > 5);
  const use16 = toBit(rem10 <= h) | toBit(10 - rem10 <= h);
  const below100 = lo % 100;
  const down100 = lo - below100;
  const rem100 = below100 + r;
  let c15 = down100 + 100 * toBit(rem100 > 50);
  const use15 = toBit(rem100 <= h) | toBit(100 - rem100 <= h);
  // Ties (to even, as V8 breaks them), shorter decimals and powers of two (whose interval
  // is narrower below) are rare: out of the way.
  if (r === 0.5) c17 = lo + (lo & 1);
  if (rem10 === 5) c16 = down10 + 10 * ((down10 / 10) & 1);
  if (rem100 === 50) c15 = down100 + 100 * ((down100 / 100) & 1);
  const rem1000 = (lo % 1000) + r;
  const powerOfTwo = (bits & 0x7fffff) === 0;
  if (toBit(rem1000 <= h) | toBit(1000 - rem1000 <= h) | toBit(powerOfTwo)) {
    return writeCareful(buf, view, pos, hi, z, c17, h, e10, powerOfTwo);
  }
  // A multiple of 100 is a multiple of 10: use15 implies use16.
  const c = c17 + use16 * (c16 - c17) + use15 * (c15 - c16);
  const digits = 17 - use16 - use15;
  return writeDecimal(buf, view, pos, hi, c, digits, e10);
}

/** 1 or 0, without a branch (the comparison's flag, as an integer). */
function toBit(b: boolean): number {
  return (b as unknown as number) | 0;
}

/** Of the multiples `down` and `down + p` of p around z, the nearer; a tie to the even multiple. */
function nearest(z: number, down: number, p: number): number {
  const dDown = z - down;
  const dUp = down + p - z;
  if (dDown !== dUp) return dDown < dUp ? down : down + p;
  return ((down / p) & 1) === 0 ? down : down + p;
}

/** What the fast path leaves: zero, non-float32 doubles, float32 outside [1e-4, 1e9), NaN, infinities. */
function writeOther(buf: Uint8Array, pos: number, x: number): number {
  if (x === 0) {
    buf[pos] = ZERO; // `-0` too
    return pos + 1;
  }
  return writeAscii(buf, pos, JSON.stringify(x));
}

/**
 * The general case, for what the fast path leaves: the largest j (0..8) such that a
 * multiple of 10^j lies in the interval (below a power of two its lower half is half as
 * wide), the nearest such multiple, and the carry into `hi`.
 */
function writeCareful(
  buf: Uint8Array,
  view: DataView,
  pos: number,
  hi: number,
  z: number,
  c17: number,
  h: number,
  e10: number,
  powerOfTwo: boolean,
): number {
  const lo = z | 0;
  const hBelow = powerOfTwo ? h / 2 : h;
  let c = c17;
  let j = 0;
  for (let k = 1; k <= 8; k++) {
    const p = IPOW10[k]!;
    const down = lo - (lo % p);
    const downOk = z - down <= hBelow;
    const upOk = down + p - z <= h;
    if (!downOk && !upOk) break;
    j = k;
    c = !upOk ? down : !downOk ? down + p : nearest(z, down, p);
  }
  if (c >= 100_000_000) {
    c -= 100_000_000;
    hi += 1;
    if (hi >= 1_000_000_000) {
      hi = 100_000_000;
      e10++;
    }
  }
  let digits = 17 - j;
  if (j === 8) {
    // Only hi is left: its own trailing zeros go too.
    digits = 9;
    for (let t = hi; t % 10 === 0; t = (t / 10) | 0) digits--;
  }
  return writeDecimal(buf, view, pos, hi, c, digits, e10);
}

/**
 * The first `digits` digits of the 17 in `hi` (9) and `c` (8), as a decimal whose first
 * digit is worth 10^e10, in fixed notation: `0.000ddd` below 1; at least 1, the integer
 * part (e10 + 1 digits), then the point and the rest, if any.
 */
function writeDecimal(
  buf: Uint8Array,
  view: DataView,
  pos: number,
  hi: number,
  c: number,
  digits: number,
  e10: number,
): number {
  if (e10 < 0) {
    buf[pos++] = ZERO;
    buf[pos++] = POINT;
    for (let i = -1; i > e10; i--) buf[pos++] = ZERO;
    write17(view, pos, hi, c);
    return pos + digits;
  }
  // Write the digits one place right, then move the integer part left.
  const intDigits = e10 + 1;
  write17(view, pos + 1, hi, c);
  for (let i = 0; i < intDigits; i++) buf[pos + i] = buf[pos + i + 1]!;
  if (digits <= intDigits) return pos + intDigits;
  buf[pos + intDigits] = POINT;
  return pos + digits + 1;
}

/** The 17 digits `hi` (9) and `lo` (8, zero-padded) at `pos`. */
function write17(view: DataView, pos: number, hi: number, lo: number): void {
  const first = (hi / 100_000_000) | 0;
  const rest = hi - first * 100_000_000;
  view.setUint8(pos, ZERO + first);
  const a = (rest / 10_000) | 0;
  view.setUint32(pos + 1, DIGITS4[a]!, true);
  view.setUint32(pos + 5, DIGITS4[rest - a * 10_000]!, true);
  const b = (lo / 10_000) | 0;
  view.setUint32(pos + 9, DIGITS4[b]!, true);
  view.setUint32(pos + 13, DIGITS4[lo - b * 10_000]!, true);
}

/** ASCII text (JSON numbers are) at `pos`; returns the position after it. */
export function writeAscii(buf: Uint8Array, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[pos + i] = text.charCodeAt(i);
  return pos + text.length;
}

/**
 * Write an array of float32 values (a `Float32Array`, or numbers that are all float32)
 * as `JSON.stringify` writes the array, at `pos`, with {@link MAX_NUMBER_BYTES} + 1 free
 * bytes per value plus 2. Returns the position after the closing bracket, or -1 as soon
 * as an element is not a float32 number (values computed in double precision, or
 * anything else): such an array is left to `JSON.stringify`, which is faster for doubles
 * than this path, and whatever was written here is to be overwritten.
 */
export function writeFloat32Array(
  buf: Uint8Array,
  view: DataView,
  pos: number,
  values: ArrayLike<number>,
): number {
  buf[pos++] = 0x5b; // [
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    if (Math.fround(x) !== x) return -1;
    if (i > 0) buf[pos++] = 0x2c; // ,
    pos = writeJsonNumber(buf, view, pos, x);
  }
  buf[pos++] = 0x5d; // ]
  return pos;
}
