/**
 * Seeded synthetic records for the demo. Record `i` depends only on `(seed, i)`, so any
 * record can be rebuilt later (to query with its own vector) without keeping the data
 * set in memory.
 */
import type { Vector } from '../data/types.js';
import { seededRandom } from '../resilience/clock.js';

/** Categories in the synthetic metadata (`category: "c0"` .. `"c7"`). */
export const SYNTHETIC_CATEGORIES = 8;

/** Record `i` of the data set: id `vec-<i>`, values in [-1, 1) with 4 decimals, metadata. */
export function syntheticVector(i: number, dimension: number, seed: number): Vector {
  // Mix seed and index into one 32-bit state (multiplicative hashing constants).
  const random = seededRandom(
    (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0,
  );
  const values = new Array<number>(dimension);
  // 4 decimals keep request bodies small; the search results are just as meaningful.
  for (let d = 0; d < dimension; d++) values[d] = Math.round((random() * 2 - 1) * 10_000) / 10_000;
  return {
    id: `vec-${i}`,
    values,
    metadata: { category: `c${i % SYNTHETIC_CATEGORIES}`, year: 1990 + ((i * 7) % 35), even: i % 2 === 0 },
  };
}

/**
 * Records `first, first + step, ...` below `count`, generated lazily (by default all of
 * `0 .. count-1`; one loader of `step` takes `first = i`).
 */
export function* syntheticVectors(
  count: number,
  dimension: number,
  seed: number,
  first = 0,
  step = 1,
): Generator<Vector, void, undefined> {
  for (let i = first; i < count; i += step) yield syntheticVector(i, dimension, seed);
}
