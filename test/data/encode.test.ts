/**
 * The REST record encoder: a record's bytes are exactly `JSON.stringify` of the record
 * (the reference is written out here, not taken from the module), bodies are exactly
 * `JSON.stringify({ vectors, namespace })`, on the wire too, and the slabs records are
 * written into are reused once their batches are released, never while they are held.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import { RecordEncoder, upsertBody } from '../../src/data/encode.js';
import type { Vector } from '../../src/data/types.js';
import { InstantClock } from '../helpers/clocks.js';
import { type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';

/** What the wire must carry for a record: JSON.stringify of its fields, a Float32Array as an array. */
function reference(v: Vector): unknown {
  return {
    id: v.id,
    values: v.values instanceof Float32Array ? Array.from(v.values) : v.values,
    sparseValues: v.sparseValues ?? undefined,
    metadata: v.metadata ?? undefined,
  };
}

function encoded(v: Vector, encoder = new RecordEncoder()): string {
  return encoder.encode(v).toString('utf8');
}

const concat = (pieces: readonly Uint8Array[]) => Buffer.concat(pieces).toString('utf8');

const f32 = Math.fround;
const EDGE_VALUES = [
  0,
  -0,
  1e-7,
  f32(1e-7),
  -1e-6,
  f32(1e-4),
  1.401298464324817e-45,
  1.1754942106924411e-38,
  3.4028234663852886e38,
  f32(0.4),
  -f32(0.1),
  1,
  123456,
  f32(987654.3125),
];
const DOUBLE_VALUES = [
  0.1,
  -0.2,
  1e-7,
  5e-324,
  2.2250738585072014e-308,
  1e300,
  -1.7976931348623157e308,
  1 / 3,
];
const UNICODE_METADATA = {
  title: 'naïve café — 日本語 🎉',
  tags: ['👍🏽', 'a"b\\c\n\t\u0001', '\u2028\u2029'],
  lone: '\ud800 and \udfff',
  n: -0,
  small: 1e-7,
  big: 1e21,
  yes: true,
};

describe('RecordEncoder.encode', () => {
  it('writes records with edge values exactly as JSON.stringify does', () => {
    const records: Vector[] = [
      { id: 'a', values: EDGE_VALUES },
      { id: 'b', values: Float32Array.from(EDGE_VALUES) },
      { id: 'c', values: DOUBLE_VALUES },
      { id: 'd', values: [...EDGE_VALUES, 0.1] },
      { id: 'e', values: [], sparseValues: { indices: [0, 7, 4294967295], values: [f32(0.5), -0, 1e-7] } },
      { id: 'f', values: [0.25], sparseValues: { indices: [3], values: [0.1] }, metadata: UNICODE_METADATA },
      { id: 'ü-🎉-"q"-\\-\u0001-\u2028', values: [1, 2], metadata: {} },
      { id: 'g', values: [1], sparseValues: undefined, metadata: undefined },
      {
        id: 'h',
        values: [1],
        sparseValues: null as unknown as undefined,
        metadata: null as unknown as undefined,
      },
      { id: 'i', sparseValues: { indices: [1], values: [2] } } as unknown as Vector,
    ];
    for (const v of records) expect(encoded(v)).toBe(JSON.stringify(reference(v)));
  });

  it('writes any record exactly as JSON.stringify does (property)', () => {
    const value = fc.oneof(
      fc.float({ noNaN: true, noDefaultInfinity: true }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    const f32Array = fc
      .array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 40 })
      .map((xs) => Float32Array.from(xs));
    const metadataValue = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 4 }),
    );
    const record = fc.record(
      {
        id: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
        values: fc.oneof(
          fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 40 }),
          fc.array(value, { maxLength: 40 }),
          f32Array,
        ),
        sparseValues: fc
          .array(fc.tuple(fc.nat({ max: 4294967295 }), value), { maxLength: 10 })
          .map((pairs) => ({ indices: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]) })),
        metadata: fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), metadataValue, { maxKeys: 5 }),
      },
      { requiredKeys: ['id', 'values'] },
    );
    const encoder = new RecordEncoder();
    fc.assert(
      fc.property(record, (v) => encoded(v as Vector, encoder) === JSON.stringify(reference(v as Vector))),
      { numRuns: 3000 },
    );
  });
});

describe('upsertBody', () => {
  const dense = (n: number, dim: number, offset = 0): Vector[] =>
    Array.from({ length: n }, (_, i) => ({
      id: `v${offset + i}`,
      values: Array.from({ length: dim }, (_, j) => f32(Math.sin(offset + i + j / 7) / 3)),
    }));

  it('is JSON.stringify({ vectors, namespace }) byte for byte, one piece for records side by side', () => {
    const encoder = new RecordEncoder();
    const vectors = [...dense(5, 16), { id: 'x', values: DOUBLE_VALUES }, ...dense(3, 16, 5)];
    const records = vectors.map((v) => encoder.encode(v));
    const body = upsertBody(records, 'ns "1" ✓');
    expect(concat(body)).toBe(JSON.stringify({ vectors: vectors.map(reference), namespace: 'ns "1" ✓' }));
    // Five slab records, one record of doubles (a buffer of its own), three slab records.
    expect(body).toHaveLength(7);
    const plain = upsertBody(
      dense(4, 8).map((v) => encoder.encode(v)),
      undefined,
    );
    expect(plain).toHaveLength(3);
    expect(concat(plain)).toBe(JSON.stringify({ vectors: dense(4, 8).map(reference) }));
  });

  it('stays exact across slabs, and slabs are reused once their batches are released', () => {
    const encoder = new RecordEncoder();
    const slabs = new Set<ArrayBufferLike>();
    // 40 batches of 20 records of dimension 1536 (about 600 KB a batch, 24 MB in all).
    for (let b = 0; b < 40; b++) {
      const vectors = dense(20, 1536, b * 20);
      const records = vectors.map((v) => encoder.encode(v));
      for (const r of records) slabs.add(r.buffer);
      expect(concat(upsertBody(records, 'ns'))).toBe(
        JSON.stringify({ vectors: vectors.map(reference), namespace: 'ns' }),
      );
      encoder.release(records);
    }
    expect(slabs.size).toBeLessThanOrEqual(6);
    // Without releases, the same load takes a new slab every megabyte.
    const keeping = new RecordEncoder();
    const kept = new Set<ArrayBufferLike>();
    for (let b = 0; b < 40; b++) for (const v of dense(20, 1536, b * 20)) kept.add(keeping.encode(v).buffer);
    expect(kept.size).toBeGreaterThan(20);
  });

  it('never writes over records that are held', () => {
    const encoder = new RecordEncoder();
    const held = dense(30, 1536).map((v) => encoder.encode(v));
    const before = concat(upsertBody(held, undefined));
    for (let b = 0; b < 20; b++) encoder.release(dense(20, 1536, 100 + b * 20).map((v) => encoder.encode(v)));
    expect(concat(upsertBody(held, undefined))).toBe(before);
  });
});

describe('upsert bodies on the wire', () => {
  let server: ScriptedServer;
  let pc: Pinecone;
  beforeAll(async () => {
    server = await startScriptedServer({ status: 200, body: {} });
    pc = new Pinecone({ apiKey: 'k', clock: new InstantClock() });
  });
  afterAll(async () => {
    await pc.close();
    await server.close();
  });

  it('are JSON.stringify of each batch, byte for byte, when batches are cut by size', async () => {
    // 40 records of dimension 3000 at full precision are ~2.3 MB: more than one request takes.
    const vectors: Vector[] = Array.from({ length: 40 }, (_, i) => ({
      id: `r${i}`,
      values:
        i % 2
          ? Float32Array.from({ length: 3000 }, (_, j) => Math.cos(i * j))
          : Array.from({ length: 3000 }, (_, j) => f32(Math.sin(i + j))),
      metadata: i === 3 ? UNICODE_METADATA : undefined,
    }));
    vectors[5] = { id: 'doubles', values: Array.from({ length: 3000 }, (_, j) => j / 3) };
    await pc.index({ host: server.url }).upsert({ vectors, batchSize: 40, namespace: 'wire' });
    expect(server.requests.length).toBeGreaterThan(1);
    let start = 0;
    for (const req of server.requests) {
      const body = JSON.parse(req.body) as { vectors: unknown[] };
      const batch = vectors.slice(start, start + body.vectors.length);
      start += batch.length;
      expect(req.body).toBe(JSON.stringify({ vectors: batch.map(reference), namespace: 'wire' }));
      expect(Number(req.headers['content-length'])).toBe(Buffer.byteLength(req.body));
    }
    expect(start).toBe(vectors.length);
  });

  it('resend a throttled batch unchanged while later batches reuse the slabs of finished ones', async () => {
    server.requests.length = 0;
    // The second request is throttled twice; meanwhile the other batches go on and finish.
    server.push({ status: 200, body: {} }, { status: 429, body: {}, delayMs: 20 }, { status: 429, body: {} });
    const vectors: Vector[] = Array.from({ length: 400 }, (_, i) => ({
      id: `t${i}`,
      values: Array.from({ length: 512 }, (_, j) => f32(Math.sin(i * 3 + j))),
    }));
    await pc.index({ host: server.url }).upsert({ vectors, batchSize: 20, maxConcurrency: 4 });
    const expected = new Set(
      Array.from({ length: 20 }, (_, b) =>
        JSON.stringify({ vectors: vectors.slice(b * 20, b * 20 + 20).map(reference) }),
      ),
    );
    expect(server.requests).toHaveLength(22);
    for (const req of server.requests) expect(expected.has(req.body)).toBe(true);
    expect(new Set(server.requests.map((r) => r.body)).size).toBe(20);
  });
});
