/**
 * Conversions between the SDK's shapes and the generated messages: no copy of Float32Array
 * values, and a batch-size estimate that never undershoots the encoded size.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { estimateVectorProtoBytes, fromPbVector, toPbVector } from '../../src/data/grpc-convert.js';
import type { Vector } from '../../src/data/types.js';
import { UpsertRequestSchema } from '../../src/gen/db_data_pb.js';
import { seededRandom } from '../../src/resilience/clock.js';

describe('grpc-convert', () => {
  it('hands a Float32Array to the packed-float writer as it is', () => {
    const values = Float32Array.of(0.5, -1, 2);
    const message = toPbVector({ id: 'a', values });
    expect(message.values).toBe(values);
    const bytes = toBinary(UpsertRequestSchema, create(UpsertRequestSchema, { vectors: [message] }));
    // Packed: 3 floats are 12 bytes of payload in one field, not 3 tagged fields.
    expect(bytes.length).toBeLessThan(30);
  });

  it('round-trips records, sparse values and metadata', () => {
    const v: Vector = {
      id: 'r',
      values: [0.25, 0.5],
      sparseValues: { indices: [3, 9], values: [1, 0.125] },
      metadata: { genre: 'drama', year: 2001, hit: true, tags: ['a', 'b'] },
    };
    expect(fromPbVector(toPbVector(v))).toEqual(v);
  });

  it('estimates at least the bytes a record adds to an UpsertRequest', () => {
    const random = seededRandom(9);
    const empty = toBinary(UpsertRequestSchema, create(UpsertRequestSchema, { vectors: [] })).length;
    for (let i = 0; i < 200; i++) {
      const dim = Math.floor(random() * 2000);
      const v: Vector = {
        id: `id-${'x'.repeat(Math.floor(random() * 600))}-é`,
        values: Array.from({ length: dim }, () => random() - 0.5),
      };
      if (random() < 0.5) {
        const n = Math.floor(random() * 300);
        v.sparseValues = {
          indices: Array.from({ length: n }, () => Math.floor(random() * 2 ** 32)),
          values: Array.from({ length: n }, () => random()),
        };
      }
      if (random() < 0.7) {
        v.metadata = {
          text: 'ü'.repeat(Math.floor(random() * 3000)),
          n: random() * 1e9,
          flag: random() < 0.5,
          list: Array.from({ length: Math.floor(random() * 50) }, (_, k) => `item-${k}`),
        };
      }
      const bytes =
        toBinary(UpsertRequestSchema, create(UpsertRequestSchema, { vectors: [toPbVector(v)] })).length -
        empty;
      expect(estimateVectorProtoBytes(v)).toBeGreaterThanOrEqual(bytes);
      // ...and is not wildly pessimistic for dense vectors (the case batches are cut for).
      if (dim > 500) expect(estimateVectorProtoBytes(v)).toBeLessThan(bytes * 1.2 + 200);
    }
  });
});
