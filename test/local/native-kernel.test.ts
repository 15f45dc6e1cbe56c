/** Loading the optional native kernel: when it loads, when it is refused, and what it returns. */
import { describe, expect, it } from 'vitest';
import { createNativeKernel, resolveNativeKernel } from '../../src/local/native-kernel.js';

const usearch = resolveNativeKernel({}).kernel;

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** usearch's distance definitions, in plain JS. */
const USEARCH_DISTANCE: Record<string, (row: Float32Array, q: Float32Array) => number> = {
  cos: (row, q) => {
    const n = Math.sqrt(dot(row, row) * dot(q, q));
    return 1 - (n > 0 ? dot(row, q) / n : 0);
  },
  ip: (row, q) => 1 - dot(row, q),
  l2sq: (row, q) => row.reduce((s, x, i) => s + (x - q[i]!) ** 2, 0),
};

/** A module shaped like usearch whose exactSearch answers with `distance(metric)(row, query)`. */
function fakeModule(distance: (metric: string) => (row: Float32Array, query: Float32Array) => number) {
  return {
    exactSearch(dataset: Float32Array, query: Float32Array, dim: number, count: number, metric: string) {
      const rows = Array.from({ length: dataset.length / dim }, (_, r) => ({
        r,
        d: distance(metric)(dataset.subarray(r * dim, r * dim + dim), query),
      })).sort((a, b) => a.d - b.d);
      const top = rows.slice(0, count);
      return {
        keys: BigUint64Array.from(top, (x) => BigInt(x.r)),
        distances: Float32Array.from(top, (x) => x.d),
      };
    },
  };
}

describe('resolveNativeKernel', () => {
  it('PINECONE_EMULATOR_NATIVE=off forces the plain scan', () => {
    for (const value of ['off', 'OFF', '0', 'false', 'no']) {
      const choice = resolveNativeKernel({ PINECONE_EMULATOR_NATIVE: value });
      expect(choice.kernel).toBeUndefined();
      expect(choice.reason).toBe('disabled by PINECONE_EMULATOR_NATIVE');
    }
  });

  it('a module that cannot load (no binary for the platform) leaves the plain scan, with the reason', () => {
    const choice = resolveNativeKernel(
      {},
      {
        load: () => {
          throw new Error('No native build was found for platform=plan9 arch=x64\nloaded from: /x');
        },
      },
    );
    expect(choice.kernel).toBeUndefined();
    expect(choice.reason).toBe('usearch unavailable: No native build was found for platform=plan9 arch=x64');
  });

  it('refuses a module without exactSearch', () => {
    expect(() => createNativeKernel({ load: () => ({}) })).toThrow('usearch has no exactSearch function');
  });

  it('refuses a module whose distances mean something else (similarity, not 1 - similarity)', () => {
    expect(() => createNativeKernel({ load: () => fakeModule(() => dot) })).toThrow(
      /self-check failed for cosine/,
    );
  });

  it('accepts a module with usearch’s definitions (cos and ip as 1 - similarity, l2sq squared)', () => {
    const kernel = createNativeKernel({ load: () => fakeModule((metric) => USEARCH_DISTANCE[metric]!) });
    const found = kernel.nearest(Float32Array.of(1, 0, 3, 4), 2, Float32Array.of(1, 0), 2, 'dotproduct');
    expect(found).toEqual({ slots: [1, 0], ranks: Float64Array.of(3, 1) });
  });
});

describe.skipIf(!usearch)('usearch', () => {
  it('returns similarities and minus squared distances, best first', () => {
    const matrix = Float32Array.of(1, 2, 3, 4, 0, 0, -1, 2);
    const query = Float32Array.of(1, 1);
    expect(usearch!.nearest(matrix, 2, query, 4, 'dotproduct')).toEqual({
      slots: [1, 0, 3, 2],
      ranks: Float64Array.of(7, 3, 1, 0),
    });
    const euclid = usearch!.nearest(matrix, 2, query, 2, 'euclidean');
    expect(euclid.slots).toEqual([0, 2]);
    expect(Array.from(euclid.ranks)).toEqual([-1, -2]);
  });

  it('refuses views that do not start at byte 0 (its binding would read the wrong rows)', () => {
    const buffer = Float32Array.of(9, 9, 1, 0, 0, 1);
    expect(() => usearch!.nearest(buffer.subarray(2), 2, Float32Array.of(1, 0), 1, 'dotproduct')).toThrow(
      /byte 0/,
    );
  });

  it('bounds its error by more for longer vectors and larger norms', () => {
    const small = usearch!.rankError('dotproduct', 8, 1, 1);
    expect(usearch!.rankError('dotproduct', 768, 1, 1)).toBeGreaterThan(small);
    expect(usearch!.rankError('dotproduct', 8, 10, 10)).toBeGreaterThan(small);
    expect(usearch!.rankError('cosine', 768, 10, 10)).toBe(usearch!.rankError('cosine', 768, 1, 1));
  });
});
