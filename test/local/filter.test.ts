import { describe, expect, it } from 'vitest';
import type { RecordMetadata } from '../../src/data/types.js';
import { EmulatorError } from '../../src/local/errors.js';
import { compileFilter } from '../../src/local/filter.js';

const records: Record<string, RecordMetadata | undefined> = {
  a: { genre: 'drama', year: 1990, rating: 4.5, tags: ['classic', 'long'], available: true },
  b: { genre: 'comedy', year: 2005, rating: 3, tags: ['short'], available: false },
  c: { genre: 'drama', year: 2020, tags: [] },
  d: { genre: 'horror', year: '2020' as unknown as number },
  e: undefined,
};

function matching(filter: unknown): string[] {
  const p = compileFilter(filter);
  return Object.entries(records)
    .filter(([, m]) => p(m))
    .map(([id]) => id);
}

describe('compileFilter operators', () => {
  it('$eq matches equal scalars without coercion', () => {
    expect(matching({ genre: { $eq: 'drama' } })).toEqual(['a', 'c']);
    expect(matching({ year: { $eq: 2020 } })).toEqual(['c']); // "2020" (a string) is not 2020
    expect(matching({ available: { $eq: false } })).toEqual(['b']);
  });

  it('$ne matches different values and missing fields', () => {
    expect(matching({ genre: { $ne: 'drama' } })).toEqual(['b', 'd', 'e']);
    expect(matching({ rating: { $ne: 3 } })).toEqual(['a', 'c', 'd', 'e']);
  });

  it('$gt / $gte / $lt / $lte compare numbers only', () => {
    expect(matching({ year: { $gt: 2005 } })).toEqual(['c']);
    expect(matching({ year: { $gte: 2005 } })).toEqual(['b', 'c']);
    expect(matching({ year: { $lt: 2005 } })).toEqual(['a']);
    expect(matching({ year: { $lte: 2005 } })).toEqual(['a', 'b']);
    expect(matching({ genre: { $gt: 0 } })).toEqual([]); // strings never compare
  });

  it('$in / $nin take arrays of strings or numbers; $nin matches missing fields', () => {
    expect(matching({ genre: { $in: ['comedy', 'horror'] } })).toEqual(['b', 'd']);
    expect(matching({ year: { $in: [1990, 2005] } })).toEqual(['a', 'b']);
    expect(matching({ genre: { $nin: ['comedy', 'horror'] } })).toEqual(['a', 'c', 'e']);
  });

  it('$exists tests presence', () => {
    expect(matching({ rating: { $exists: true } })).toEqual(['a', 'b']);
    expect(matching({ rating: { $exists: false } })).toEqual(['c', 'd', 'e']);
  });

  it('$and requires every clause, $or any clause', () => {
    expect(matching({ $and: [{ genre: 'drama' }, { year: { $gt: 2000 } }] })).toEqual(['c']);
    expect(matching({ $or: [{ genre: 'comedy' }, { year: { $lt: 2000 } }] })).toEqual(['a', 'b']);
  });
});

describe('compileFilter forms', () => {
  it('a bare value is an implicit $eq', () => {
    expect(matching({ genre: 'drama' })).toEqual(matching({ genre: { $eq: 'drama' } }));
  });

  it('several keys (and several operators on one field) are an implicit $and', () => {
    expect(matching({ genre: 'drama', year: 1990 })).toEqual(['a']);
    expect(matching({ year: { $gt: 1990, $lt: 2021 } })).toEqual(['b', 'c']);
  });

  it('nests $and inside $or inside $and', () => {
    const filter = {
      $and: [
        { $or: [{ genre: 'drama' }, { genre: 'comedy' }] },
        { $or: [{ year: { $gte: 2020 } }, { $and: [{ tags: 'classic' }, { available: true }] }] },
      ],
    };
    expect(matching(filter)).toEqual(['a', 'c']);
  });

  it('on a list-of-strings field, $eq/$in match any element and $ne/$nin none', () => {
    expect(matching({ tags: 'long' })).toEqual(['a']);
    expect(matching({ tags: { $in: ['short', 'long'] } })).toEqual(['a', 'b']);
    expect(matching({ tags: { $ne: 'classic' } })).toEqual(['b', 'c', 'd', 'e']);
    expect(matching({ tags: { $nin: ['classic', 'short'] } })).toEqual(['c', 'd', 'e']);
  });

  it('a missing field never matches $eq/$gt/$in and always matches $ne/$nin', () => {
    expect(matching({ missing: 'x' })).toEqual([]);
    expect(matching({ missing: { $gt: 0 } })).toEqual([]);
    expect(matching({ missing: { $in: ['x'] } })).toEqual([]);
    expect(matching({ missing: { $ne: 'x' } })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(matching({ missing: { $nin: ['x'] } })).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('an absent or empty filter matches everything', () => {
    expect(matching(undefined)).toHaveLength(5);
    expect(matching({})).toHaveLength(5);
  });
});

describe('compileFilter rejects invalid filters with a 400 naming the operator', () => {
  const cases: [unknown, RegExp][] = [
    [{ genre: { $regex: 'dr.*' } }, /\$regex/],
    [{ $not: { genre: 'drama' } }, /\$not/],
    [{ year: { $gt: '2000' } }, /\$gt/],
    [{ genre: { $in: 'drama' } }, /\$in/],
    [{ genre: { $nin: [true] } }, /\$nin/],
    [{ genre: { $exists: 1 } }, /\$exists/],
    [{ genre: { $eq: ['a'] } }, /\$eq/],
    [{ $and: [] }, /\$and/],
    [{ $or: ['x'] }, /\$or/],
    [{ genre: ['drama'] }, /genre/],
    [{ genre: {} }, /genre/],
    ['drama', /JSON object/],
  ];
  it.each(cases)('%j', (filter, message) => {
    let caught: unknown;
    try {
      compileFilter(filter);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EmulatorError);
    expect((caught as EmulatorError).httpStatus).toBe(400);
    expect((caught as EmulatorError).grpcCode).toBe(3);
    expect((caught as EmulatorError).message).toMatch(message);
  });
});

describe("compileFilter reads only a record's own metadata fields", () => {
  // What JSON.parse gives for a body: `__proto__` is an own key there, as any other.
  const own = JSON.parse('{"toString":"t","__proto__":"p","constructor":1}') as RecordMetadata;
  const plain: RecordMetadata = { genre: 'drama' };

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'])(
    '%s: $exists, $ne and $nin see a missing field',
    (field) => {
      const has = Object.hasOwn(own, field);
      expect(compileFilter(JSON.parse(`{"${field}":{"$exists":true}}`))(plain)).toBe(false);
      expect(compileFilter(JSON.parse(`{"${field}":{"$exists":true}}`))(own)).toBe(has);
      expect(compileFilter(JSON.parse(`{"${field}":{"$exists":false}}`))(plain)).toBe(true);
      expect(compileFilter(JSON.parse(`{"${field}":{"$ne":"x"}}`))(plain)).toBe(true);
      expect(compileFilter(JSON.parse(`{"${field}":{"$nin":["x"]}}`))(plain)).toBe(true);
    },
  );

  it('matches an own field of that name by its value', () => {
    expect(compileFilter({ toString: 't' })(own)).toBe(true);
    expect(compileFilter(JSON.parse('{"__proto__":{"$eq":"p"}}'))(own)).toBe(true);
    expect(compileFilter({ constructor: { $gte: 1 } })(own)).toBe(true);
    expect(compileFilter({ constructor: { $gte: 1 } })(plain)).toBe(false);
  });
});

describe('compileFilter depth limit', () => {
  function nested(depth: number): unknown {
    let filter: unknown = { a: 1 };
    for (let d = 1; d < depth; d += 2) filter = { $or: [filter] };
    return filter;
  }

  it('takes a filter nested up to the limit', () => {
    expect(compileFilter(nested(63))({ a: 1 })).toBe(true);
    expect(compileFilter({ a: { $in: ['x'] } })({ a: 'x' })).toBe(true); // an operand array is a level too
  });

  it.each([65, 1500, 100_000])(
    'refuses depth %i with a 400 naming the limit, without overflowing the stack',
    (depth) => {
      let caught: unknown;
      try {
        compileFilter(nested(depth));
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(EmulatorError);
      expect((caught as EmulatorError).httpStatus).toBe(400);
      expect((caught as EmulatorError).message).toMatch(/nested deeper than the maximum of 64 levels/);
    },
  );
});
