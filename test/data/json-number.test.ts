/**
 * The number writer of the REST upsert path: every number must come out exactly as
 * `JSON.stringify` writes it (the reference here is V8's own formatter), on the fast
 * float32 path and on the fallback alike.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NUMBER_BYTES, writeFloat32Array, writeJsonNumber } from '../../src/data/json-number.js';

const buf = Buffer.alloc(4096);
const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
const bits = new DataView(new ArrayBuffer(4));

function written(x: number): string {
  const end = writeJsonNumber(buf, view, 0, x);
  return buf.toString('latin1', 0, end);
}

function fromBits(b: number): number {
  bits.setUint32(0, b >>> 0);
  return bits.getFloat32(0);
}

/** Each value and its negation written here and by JSON.stringify: the first differences. */
function mismatches(values: Iterable<number>): string[] {
  const bad: string[] = [];
  for (const v of values) {
    for (const x of [v, -v]) {
      const ours = written(x);
      const theirs = JSON.stringify(x);
      if (ours !== theirs && bad.length < 10) bad.push(`${theirs} written as ${ours}`);
    }
  }
  return bad;
}

/** The float32 values with these biased exponents and every `step`th mantissa from `from`. */
function* float32s(exponents: Iterable<number>, step = 1, from = 0): Generator<number> {
  for (const e of exponents) {
    for (let m = from; m < 1 << 23; m += step) yield fromBits((e << 23) | m);
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('writeJsonNumber', () => {
  it('writes the edge values as JSON.stringify does', () => {
    const f = Math.fround;
    const edges = [
      0,
      -0,
      1,
      -1,
      0.5,
      0.1,
      f(0.1),
      f(0.4),
      1e-7,
      f(1e-7),
      1e-6,
      f(1e-6),
      9.999999e-7,
      1e-4,
      f(1e-4),
      f(9.999999e-5),
      2 ** -14,
      1e9,
      f(1e9),
      999_999_936,
      1e21,
      f(1e21),
      123456789012345680000,
      1.401298464324817e-45, // smallest float32 subnormal
      1.1754942106924411e-38, // largest float32 subnormal
      1.1754943508222875e-38, // smallest float32 normal
      3.4028234663852886e38, // largest float32
      5e-324, // smallest double subnormal
      2.2250738585072014e-308,
      1.7976931348623157e308,
      1e300,
      -1e-300,
      Number.MAX_SAFE_INTEGER,
      16_777_216,
      16_777_217,
      0.3,
      2 / 3,
      f(2 / 3),
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ];
    expect(mismatches(edges)).toEqual([]);
  });

  it('writes every float32 around each power of ten and of two in the fast range, and past it', () => {
    const around: number[] = [];
    for (let e = -8; e <= 12; e++) {
      const p = Math.fround(10 ** e);
      bits.setFloat32(0, p);
      const b = bits.getUint32(0);
      for (let d = -300; d <= 300; d++) around.push(fromBits(b + d));
    }
    for (let e = 100; e <= 170; e++) for (let d = -40; d <= 40; d++) around.push(fromBits((e << 23) + d));
    expect(mismatches(around)).toEqual([]);
  });

  it('writes every 11th float32 of [0.5, 1) and every 101st of binades across the fast range', () => {
    // [0.5, 1) is where embeddings live; the steps are prime, so every residue of the
    // mantissa's low bits is met. (bench/json-number-check.ts compares every float32.)
    expect(mismatches(float32s([126], 11))).toEqual([]);
    expect(mismatches(float32s([113, 114, 120, 125, 127, 130, 140, 150, 156], 101, 3))).toEqual([]);
  });

  it('writes short decimals and 16-digit ties (mantissas with trailing zeros) in every binade', () => {
    // A float32 in [0.5, 1) whose mantissa is an odd multiple of 128 lies exactly halfway
    // between two 16-digit decimals: V8 breaks the tie to even, and so must this.
    expect(mismatches(float32s(range(1, 254), 1 << 12))).toEqual([]);
    expect(mismatches(float32s(range(120, 130), 128))).toEqual([]);
    expect(mismatches(float32s(range(110, 160), 1 << 9))).toEqual([]);
  });

  it('writes any float32 and any double as JSON.stringify does (property)', () => {
    fc.assert(
      fc.property(fc.float(), (x) => written(x) === JSON.stringify(x)),
      { numRuns: 200_000 },
    );
    fc.assert(
      fc.property(fc.double(), (x) => written(x) === JSON.stringify(x)),
      { numRuns: 50_000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (b) => {
        const x = fromBits(b);
        return written(x) === JSON.stringify(x);
      }),
      { numRuns: 200_000 },
    );
  });

  it('never writes more than MAX_NUMBER_BYTES, even past the returned end', () => {
    const probe = Buffer.alloc(64, 0xff);
    const probeView = new DataView(probe.buffer, probe.byteOffset, probe.length);
    fc.assert(
      fc.property(fc.oneof(fc.float(), fc.double()), (x) => {
        probe.fill(0xff);
        writeJsonNumber(probe, probeView, 8, x);
        return probe.subarray(8 + MAX_NUMBER_BYTES).every((byte) => byte === 0xff);
      }),
      { numRuns: 50_000 },
    );
  });
});

describe('writeFloat32Array', () => {
  it('writes float32 arrays as JSON.stringify writes the same array', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true }), { maxLength: 100 }), (values) => {
        const end = writeFloat32Array(buf, view, 0, values);
        const f32 = Float32Array.from(values);
        const endF32 = writeFloat32Array(buf, view, end, f32);
        return (
          buf.toString('latin1', 0, end) === JSON.stringify(values) &&
          buf.toString('latin1', end, endF32) === JSON.stringify(Array.from(f32))
        );
      }),
    );
  });

  it('declines an array holding a double that is not a float32, or a non-number', () => {
    expect(writeFloat32Array(buf, view, 0, [0.5, 0.1])).toBe(-1);
    expect(writeFloat32Array(buf, view, 0, [0.5, Number.NaN])).toBe(-1);
    expect(writeFloat32Array(buf, view, 0, [0.5, '1' as unknown as number])).toBe(-1);
    expect(writeFloat32Array(buf, view, 0, [])).toBe(2);
  });
});
