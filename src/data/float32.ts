/**
 * JSON numbers for float32 values. Pinecone stores vector values as float32 and writes
 * each as the shortest decimal that reads back as the same float32 (`0.4`), while a
 * float32 widened to a JavaScript number prints as `0.4000000059604645`. These helpers
 * turn a float32 into the JavaScript number whose `JSON.stringify` / `String` is that
 * shortest decimal (the nearest double to it), so any JSON writer prints it unchanged.
 *
 * "Reads back" means what a JSON client does: parse the decimal to a double, then store
 * it as float32 (`Math.fround(Number(text)) === value`). Among shortest decimals the one
 * nearest the value is chosen.
 *
 * A p-digit decimal is also a (p+1)-digit one, so "some p-digit decimal reads back" is
 * monotone in p; 9 digits always suffice. Each value tries 8, 7 and 6 digits first (where
 * float32 data such as embeddings lands) and then halves 1..5. There is no string work
 * on the common paths, and at most one division:
 * - magnitudes 1e-3..1e15 (`shortestByInterval`): whether the float32's rounding
 *   interval, scaled by 10^k, holds an integer, computed exactly (the scaled bounds are
 *   exact products, or quotients that cannot round across an integer);
 * - 1e-14..1e-3 and 1e15..1e23 (`shortestByProbes`): the p-digit decimals either side of
 *   the value, each parsed as `m / 10^k` (exact operands, so the correctly rounded parse)
 *   and checked by its float32 round trip;
 * - beyond (subnormals, near the float32 maximum): `toExponential` candidates.
 */

/**
 * Powers of ten 10^-15 .. 10^23 as parsed (correctly rounded) doubles: `TEN[e + 15]`.
 * 10^0 .. 10^22 are exact.
 */
const TEN = Array.from({ length: 39 }, (_, i) => Number(`1e${i - 15}`));

/** Float32 needs at most 9 significant digits to round-trip. */
const MAX_DIGITS = 9;

/**
 * The decimal `m·10^-k` (or its neighbour above) nearest `a` among those that read back
 * as `a`, for `k` in -22..22; NaN when neither neighbour does.
 */
function probe(a: number, k: number): number {
  let m: number;
  let below: number;
  let above: number;
  if (k >= 0) {
    const s = TEN[k + 15]!;
    m = Math.floor(a * s);
    below = m / s;
    above = (m + 1) / s;
  } else {
    const s = TEN[15 - k]!;
    m = Math.floor(a / s);
    below = m * s;
    above = (m + 1) * s;
  }
  const belowOk = Math.fround(below) === a;
  const aboveOk = Math.fround(above) === a;
  if (belowOk && aboveOk) {
    const dBelow = a - below;
    const dAbove = above - a;
    if (dBelow !== dAbove) return dBelow < dAbove ? below : above;
    return m % 2 === 0 ? below : above;
  }
  if (belowOk) return below;
  if (aboveOk) return above;
  return Number.NaN;
}

/** The shortest round-tripping decimal of a positive float32, through decimal strings. */
function shortestByStrings(a: number): number {
  for (let p = 1; p <= MAX_DIGITS; p++) {
    const [mantissa, exponent] = a.toExponential(p - 1).split('e') as [string, string];
    const n = Number(mantissa.replace('.', ''));
    const scale = Number(exponent) - (p - 1);
    let best = Number.NaN;
    for (const m of [n, n - 1, n + 1]) {
      const d = Number(`${m}e${scale}`);
      if (Math.fround(d) === a && !(Math.abs(d - a) >= Math.abs(best - a))) best = d;
    }
    if (!Number.isNaN(best)) return best;
  }
  return a;
}

/** 2^(i - 151): half a float32 ulp for the biased exponent i. */
const HALF_ULP = Array.from({ length: 256 }, (_, i) => 2 ** (i - 151));

/** A view on a float32's bits (exponent, mantissa). */
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Does the float32 rounding interval [lo, hi] (closed or open), scaled by 10^k, hold an integer? */
function fits(loBound: number, hiBound: number, closed: boolean, k: number): boolean {
  const lo = k >= 0 ? loBound * TEN[k + 15]! : loBound / TEN[15 - k]!;
  const hi = k >= 0 ? hiBound * TEN[k + 15]! : hiBound / TEN[15 - k]!;
  return closed ? Math.ceil(lo) <= Math.floor(hi) : Math.floor(lo) + 1 <= Math.ceil(hi) - 1;
}

/**
 * The shortest decimal reading back as `a` (positive, 10^e <= a < 10^(e+1), e in
 * -3..14), by exact interval arithmetic. Here k runs over -15..11: a bound has at most
 * 26 significant bits, so bound x 10^k (26 bits x 5^k, at most 52) is exact, and
 * bound / 10^-k cannot round onto or across an integer while the bound is below 2^53.
 * NaN when the answer, parsed through a double, lands on a bound and rounds away.
 */
function shortestByInterval(a: number, bits: number, e: number): number {
  const exp = (bits >>> 23) & 0xff;
  const half = HALF_ULP[exp]!;
  const hiBound = a + half;
  // Below a power of two the float32 grid is twice as fine.
  const loBound = (bits & 0x7fffff) === 0 && exp > 1 ? a - half / 2 : a - half;
  // Round-half-even: a bound rounds to `a` when a's last mantissa bit is 0.
  const closed = (bits & 1) === 0;
  // Float32 data (embeddings) mostly need 7 or 8 digits, written constants few: test 8,
  // 7 and 6 digits first, then halve 1..5. 9 digits always fit.
  let p: number;
  if (!fits(loBound, hiBound, closed, 7 - e)) p = 9;
  else if (!fits(loBound, hiBound, closed, 6 - e)) p = 8;
  else if (!fits(loBound, hiBound, closed, 5 - e)) p = 7;
  else {
    let lo = 0;
    let hi = 6;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (fits(loBound, hiBound, closed, mid - 1 - e)) hi = mid;
      else lo = mid;
    }
    p = hi;
  }
  // The integer of the scaled interval nearest the scaled value.
  const k = p - 1 - e;
  const scale = k >= 0 ? TEN[k + 15]! : TEN[15 - k]!;
  const v = k >= 0 ? a * scale : a / scale;
  const lo = k >= 0 ? loBound * scale : loBound / scale;
  const hi = k >= 0 ? hiBound * scale : hiBound / scale;
  const first = closed ? Math.ceil(lo) : Math.floor(lo) + 1;
  const last = closed ? Math.floor(hi) : Math.ceil(hi) - 1;
  let m = Math.round(v);
  if (m < first) m = first;
  else if (m > last) m = last;
  const d = k >= 0 ? m / scale : m * scale;
  return Math.fround(d) === a ? d : Number.NaN;
}

/** The smallest p in `lo + 1 .. hi` whose probe succeeds, knowing p = `hi` does (`found`). */
function searchDigits(a: number, e: number, lo: number, hi: number, found: number): number {
  let result = found;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const c = probe(a, mid - 1 - e);
    if (!Number.isNaN(c)) {
      result = c;
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return result;
}

/** The shortest decimal reading back as `a` by probes (e in -14..22), NaN if none is found. */
function shortestByProbes(a: number, e: number): number {
  const p8 = probe(a, 7 - e);
  if (Number.isNaN(p8)) return probe(a, 8 - e);
  const p7 = probe(a, 6 - e);
  if (Number.isNaN(p7)) return p8;
  const p6 = probe(a, 5 - e);
  return Number.isNaN(p6) ? p7 : searchDigits(a, e, 0, 6, p6);
}

/**
 * The number whose shortest decimal form is the shortest decimal that reads back as the
 * float32 `value` (rounded to float32 first). `shortestFloat32(Math.fround(0.4))` is
 * `0.4`. NaN, infinities and zeros are returned as they are.
 */
export function shortestFloat32(value: number): number {
  const f = Math.fround(value);
  if (f === 0 || !Number.isFinite(f)) return f;
  const a = f < 0 ? -f : f;
  F32[0] = a;
  const bits = U32[0]!;
  // Decimal exponent e with 10^e <= a < 10^(e+1): an estimate from the binary exponent,
  // then at most one step either way.
  let e = Math.floor((((bits >>> 23) & 0xff) - 127) * 0.3010299956639812);
  if (e >= -15 && e <= 22) {
    if (a >= TEN[e + 16]!) e++;
    else if (a < TEN[e + 15]!) e--;
  }
  let result = Number.NaN;
  if (e >= -3 && e <= 14) result = shortestByInterval(a, bits, e);
  if (Number.isNaN(result) && e >= -14 && e <= 22) result = shortestByProbes(a, e);
  if (Number.isNaN(result)) result = shortestByStrings(a);
  return f < 0 ? -result : result;
}

/** Float32 values (a `Float32Array` or numbers) as plain numbers that print shortest. */
export function shortestFloat32Array(values: ArrayLike<number>): number[] {
  const n = values.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = shortestFloat32(values[i]!);
  return out;
}
