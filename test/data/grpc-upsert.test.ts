/**
 * The gRPC upsert encoder writes exactly the bytes protobuf-es's `toBinary` writes for the
 * same `UpsertRequest` (the generated encoder is the reference), and refuses a value that
 * no float32 can hold with a typed error, where protobuf-es threw a plain one.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toPbVector } from '../../src/data/grpc-convert.js';
import { UpsertRequestEncoder } from '../../src/data/grpc-upsert.js';
import type { Vector } from '../../src/data/types.js';
import { ValidationError } from '../../src/errors.js';
import { UpsertRequestSchema } from '../../src/gen/db_data_pb.js';

function reference(vectors: Vector[], namespace: string | undefined): Uint8Array {
  return toBinary(
    UpsertRequestSchema,
    create(UpsertRequestSchema, { vectors: vectors.map(toPbVector), namespace: namespace ?? '' }),
  );
}

const finite = { noNaN: true, noDefaultInfinity: true } as const;
/** Doubles a float32 can hold (protobuf-es refuses the others too). */
const float32Range = fc.double({ ...finite, min: -3.4e38, max: 3.4e38 });

describe('UpsertRequestEncoder', () => {
  it('writes the bytes toBinary writes, for edge records', () => {
    const encoder = new UpsertRequestEncoder();
    const vectors: Vector[] = [
      { id: 'a', values: [0, -0, 1e-7, 0.1, -2.5, 3.4e38, 1.401298464324817e-45, 5e-324] },
      { id: 'ü-🎉', values: Float32Array.of(0.5, -1, 2) },
      { id: 's', values: [], sparseValues: { indices: [0, 4294967295], values: [0.25, -0] } },
      { id: 'm', values: [1], metadata: { genre: 'drama', year: 2001, hit: true, tags: ['a', 'ü'] } },
      { id: 'x'.repeat(512), values: Array.from({ length: 1536 }, (_, i) => Math.sin(i)) },
      { id: 'only-sparse', sparseValues: { indices: [3], values: [1] } } as unknown as Vector,
    ];
    for (const ns of [undefined, '', 'ns', '名前空間']) {
      expect(Buffer.from(encoder.encode(vectors, ns)).equals(reference(vectors, ns))).toBe(true);
    }
    expect(Buffer.from(encoder.encode([], undefined)).equals(reference([], undefined))).toBe(true);
  });

  it('writes the bytes toBinary writes, for any records (property)', () => {
    const encoder = new UpsertRequestEncoder();
    const record = fc.record(
      {
        id: fc.string({ unit: 'binary', maxLength: 20 }),
        values: fc.oneof(
          fc.array(float32Range, { maxLength: 50 }),
          fc.array(fc.float(finite), { maxLength: 50 }).map((xs) => Float32Array.from(xs)),
        ),
        sparseValues: fc
          .array(fc.tuple(fc.nat({ max: 4294967295 }), float32Range), { maxLength: 8 })
          .map((pairs) => ({ indices: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]) })),
        metadata: fc.dictionary(
          fc.string({ maxLength: 8 }),
          fc.oneof(fc.string(), fc.double(finite), fc.boolean(), fc.array(fc.string(), { maxLength: 3 })),
          { maxKeys: 4 },
        ),
      },
      { requiredKeys: ['id', 'values'] },
    );
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 6 }),
        fc.option(fc.string({ unit: 'grapheme', maxLength: 10 }), { nil: undefined }),
        (vectors, ns) =>
          Buffer.from(encoder.encode(vectors as Vector[], ns)).equals(reference(vectors as Vector[], ns)),
      ),
      { numRuns: 2000 },
    );
  });

  it('reuses a request buffer once it is released, never while it is held', () => {
    const encoder = new UpsertRequestEncoder();
    const batch = (k: number): Vector[] =>
      Array.from({ length: 20 }, (_, i) => ({
        id: `v${k}-${i}`,
        values: Array.from({ length: 64 }, (_, j) => k + i * j),
      }));
    const held = encoder.encode(batch(1), 'ns');
    const heldCopy = Buffer.from(held);
    const second = encoder.encode(batch(2), 'ns');
    expect(second.buffer).not.toBe(held.buffer);
    encoder.release(second);
    const third = encoder.encode(batch(3), 'ns');
    expect(third.buffer).toBe(second.buffer);
    expect(Buffer.from(third).equals(reference(batch(3), 'ns'))).toBe(true);
    expect(Buffer.from(held).equals(heldCopy)).toBe(true);
  });

  it('refuses a value too large for a float32 with a ValidationError naming it', () => {
    const encoder = new UpsertRequestEncoder();
    const vectors: Vector[] = [{ id: 'big', values: [1, 2, 1e300] }];
    expect(() => reference(vectors, undefined)).toThrow(/invalid float32/);
    expect(() => encoder.encode(vectors, undefined)).toThrow(ValidationError);
    expect(() => encoder.encode(vectors, undefined)).toThrow(/record "big": values\[2\] is too large/);
  });
});
