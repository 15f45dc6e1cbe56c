/**
 * The float32 formatter: every float32 prints as a decimal that reads back as itself and
 * has no fewer digits than any other that does. The reference here is independent of the
 * module: for each length p it takes the correctly rounded p-digit decimal from
 * `toExponential` and its two neighbours, and asks whether any of them reads back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shortestFloat32, shortestFloat32Array } from '../../src/data/float32.js';

const view = new DataView(new ArrayBuffer(4));

function fromBits(bits: number): number {
  view.setUint32(0, bits >>> 0);
  return view.getFloat32(0);
}

function bitsOf(f: number): number {
  view.setFloat32(0, f);
  return view.getUint32(0);
}

/** Significant digits of a JavaScript number's text (`-1.25e-7` has 3). */
function significantDigits(text: string): number {
  const mantissa = text.replace('-', '').split('e')[0]!.replace('.', '');
  return mantissa.replace(/^0+/, '').replace(/0+$/, '').length;
}

/** The fewest significant digits of any decimal that reads back as the positive float32 `a`. */
function referenceDigits(a: number): number {
  for (let p = 1; p <= 9; p++) {
    const [mantissa, exponent] = a.toExponential(p - 1).split('e') as [string, string];
    const n = Number(mantissa.replace('.', ''));
    for (const m of [n - 1, n, n + 1]) {
      if (m > 0 && Math.fround(Number(`${m}e${Number(exponent) - (p - 1)}`)) === a) return p;
    }
  }
  throw new Error(`no decimal of at most 9 digits reads back as ${a}`);
}

/** Check one float32: the printed text reads back exactly and is as short as possible. */
function expectShortest(f: number): void {
  const text = JSON.stringify(shortestFloat32(f));
  const back = Math.fround(JSON.parse(text) as number);
  expect(Object.is(back, f) || (f === 0 && back === 0), `${f} printed as ${text}`).toBe(true);
  if (f !== 0) expect(significantDigits(text), `${f} printed as ${text}`).toBe(referenceDigits(Math.abs(f)));
}

const finiteFloat32Bits = fc
  .integer({ min: 0, max: 0xffffffff })
  .filter((bits) => ((bits >>> 23) & 0xff) !== 0xff);

describe('shortestFloat32', () => {
  it('prints the decimals people write as they wrote them', () => {
    const cases: [number, string][] = [
      [0.4, '0.4'],
      [0.1, '0.1'],
      [-0.3, '-0.3'],
      [0.5, '0.5'],
      [1, '1'],
      [123456.789, '123456.79'],
      [1e-7, '1e-7'],
      [1e-45, '1e-45'],
      [3.4028234663852886e38, '3.4028235e+38'],
      [16777216, '16777216'],
      [1.0000001192092896, '1.0000001'],
      [0.999999881, '0.9999999'],
    ];
    for (const [value, text] of cases) expect(JSON.stringify(shortestFloat32(Math.fround(value)))).toBe(text);
    expect(String(Math.fround(0.4))).toBe('0.4000000059604645'); // what the emulator wrote before
  });

  it('rounds a double to float32 first and passes zeros, NaN and infinities through', () => {
    expect(shortestFloat32(0.1)).toBe(0.1);
    expect(shortestFloat32(0.4000000059604645)).toBe(0.4);
    expect(Object.is(shortestFloat32(-0), -0)).toBe(true);
    expect(shortestFloat32(0)).toBe(0);
    expect(shortestFloat32(Number.NaN)).toBeNaN();
    expect(shortestFloat32(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(shortestFloat32(1e39)).toBe(Number.POSITIVE_INFINITY);
  });

  it('reads back as the same float32 and is the shortest, for random float32 bit patterns', () => {
    fc.assert(
      fc.property(finiteFloat32Bits, (bits) => expectShortest(fromBits(bits))),
      { numRuns: 20_000, seed: 20261202 },
    );
  });

  it('does the same for embedding-like values in [-1, 1] and for values of every magnitude', () => {
    fc.assert(
      fc.property(fc.float({ min: -1, max: 1, noNaN: true }), (v) => expectShortest(Math.fround(v))),
      { numRuns: 20_000, seed: 7 },
    );
    fc.assert(
      fc.property(fc.double({ min: -16, max: 38.5, noNaN: true }), fc.boolean(), (exp, negative) => {
        const f = Math.fround(10 ** exp);
        expectShortest(negative ? -f : f);
      }),
      { numRuns: 20_000, seed: 11 },
    );
  });

  it('is exact at the edges: around every power of ten and of two, subnormals, the maximum', () => {
    const edges: number[] = [];
    for (let e = -45; e <= 38; e++) edges.push(bitsOf(Math.fround(Number(`1e${e}`))));
    for (let exponent = 1; exponent < 255; exponent++) edges.push(exponent << 23);
    for (const center of edges) {
      for (let d = -3; d <= 3; d++) if (center + d >= 0) expectShortest(fromBits(center + d));
    }
    for (let bits = 1; bits < 2000; bits++) expectShortest(fromBits(bits)); // smallest subnormals
    for (let bits = 0x7f7fffff - 2000; bits <= 0x7f7fffff; bits++) expectShortest(fromBits(bits));
  });

  it('converts whole arrays, typed or plain', () => {
    expect(shortestFloat32Array(new Float32Array([0.5, 0.4, -0.1]))).toEqual([0.5, 0.4, -0.1]);
    expect(shortestFloat32Array([Math.fround(0.2)])).toEqual([0.2]);
    expect(JSON.stringify(shortestFloat32Array(new Float32Array([0.4, 0.7])))).toBe('[0.4,0.7]');
  });
});
