/**
 * The emulator's gRPC data plane: every method over gRPC (GrpcIndex) gives what the REST
 * data plane (plain fetch) gives for the same data, both planes share one store, and
 * each fault comes out as its gRPC code.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  RateLimitError,
  ServerError,
  ServiceUnavailableError,
  UnauthorizedError,
} from '../../src/errors.js';
import { FetchRequestSchema, FetchResponseSchema } from '../../src/gen/db_data_pb.js';
import { GrpcIndex } from '../../src/grpc.js';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { seededRandom } from '../../src/resilience/clock.js';
import { GrpcTransport } from '../../src/transport/grpc.js';
import { InstantClock } from '../helpers/clocks.js';
import { call } from './http-helpers.js';

let server: LocalServer;
const handles: GrpcIndex[] = [];

/** A GrpcIndex on an emulator index; retries off unless asked. */
function grpcIndex(name: string, maxRetries = 0): GrpcIndex {
  const idx = new GrpcIndex({
    host: server.grpcHost(name),
    apiKey: 'local',
    maxRetries,
    clock: new InstantClock(),
    random: seededRandom(1),
  });
  handles.push(idx);
  return idx;
}

/** Values exactly representable as float32, so both wires carry them unchanged. */
const records = Array.from({ length: 12 }, (_, k) => ({
  id: `rec-${String(k).padStart(2, '0')}`,
  values: [((k % 4) + 1) / 8, (k % 3) / 4, k / 16, 1 / 2],
  metadata: { genre: k % 2 === 0 ? 'drama' : 'comedy', year: 2000 + k, tags: [`t${k % 3}`] },
}));

/** The SDK answers the REST wire's `vectors` also as the official client's `records`. */
function withRecords<T extends { vectors: unknown }>(body: T): T & { records: T['vectors'] } {
  return { ...body, records: body.vectors };
}

/** gRPC carries scores as float32; REST as JSON doubles. */
function float32Scores<T extends { matches: { score: number }[] }>(res: T): T {
  return { ...res, matches: res.matches.map((m) => ({ ...m, score: Math.fround(m.score) })) };
}

beforeAll(async () => {
  server = await startLocalServer({
    indexes: [
      { name: 'viarest', dimension: 4, metric: 'cosine' },
      { name: 'viagrpc', dimension: 4, metric: 'cosine' },
      { name: 'sparse', vectorType: 'sparse' },
      { name: 'faulty', dimension: 2, metric: 'dotproduct' },
      { name: 'many', dimension: 2, metric: 'euclidean' },
    ],
  });
});
afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
  await server.close();
});

describe('gRPC data plane parity with REST', () => {
  it('serves each index on its own plaintext gRPC port', () => {
    const hosts = server.indexNames().map((n) => server.grpcHost(n));
    for (const h of hosts) expect(h).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new Set([...hosts, ...server.indexNames().map((n) => server.indexHost(n))]).size).toBe(10);
  });

  it('gives the same results as REST for the same data, method by method', async () => {
    const rest = server.indexHost('viarest');
    const g = grpcIndex('viagrpc');
    const up = await call(rest, 'POST', '/vectors/upsert', { vectors: records, namespace: 'ns' });
    expect(up.body).toEqual({ upsertedCount: 12 });
    expect(await g.upsert({ vectors: records, namespace: 'ns', batchSize: 5 })).toEqual({
      upsertedCount: 12,
    });

    const queries = [
      { vector: [1 / 8, 1 / 4, 0, 1 / 2], topK: 5, includeValues: true, includeMetadata: true },
      {
        vector: [1 / 2, 0, 1 / 4, 1 / 8],
        topK: 3,
        filter: { genre: { $eq: 'drama' } },
        includeMetadata: true,
      },
      { id: 'rec-03', topK: 4 },
    ];
    for (const q of queries) {
      const r = await call(rest, 'POST', '/query', { ...q, namespace: 'ns' });
      expect(float32Scores(await g.query({ ...q, namespace: 'ns' }))).toEqual(float32Scores(r.body));
    }

    const ids = ['rec-01', 'rec-07', 'missing'];
    const f = await call(rest, 'GET', `/vectors/fetch?ids=${ids.join('&ids=')}&namespace=ns`);
    expect(await g.fetch({ ids, namespace: 'ns' })).toEqual(withRecords(f.body));

    const page = await call(rest, 'GET', '/vectors/list?namespace=ns&limit=5&prefix=rec-0');
    const gPage = await g.listPaginated({ namespace: 'ns', limit: 5, prefix: 'rec-0' });
    expect(gPage).toEqual(page.body);
    const next = await call(
      rest,
      'GET',
      `/vectors/list?namespace=ns&limit=5&prefix=rec-0&paginationToken=${page.body.pagination.next}`,
    );
    expect(
      await g.listPaginated({
        namespace: 'ns',
        limit: 5,
        prefix: 'rec-0',
        paginationToken: gPage.pagination!.next,
      }),
    ).toEqual(next.body);
    const all: string[] = [];
    for await (const id of g.list({ namespace: 'ns', limit: 4 })) all.push(id);
    expect(all).toEqual(records.map((r) => r.id));

    await call(rest, 'POST', '/vectors/update', {
      id: 'rec-02',
      values: [1, 1, 1, 1],
      setMetadata: { year: 1999 },
      namespace: 'ns',
    });
    expect(
      await g.update({ id: 'rec-02', values: [1, 1, 1, 1], setMetadata: { year: 1999 }, namespace: 'ns' }),
    ).toEqual({});
    await call(rest, 'POST', '/vectors/delete', { ids: ['rec-05'], namespace: 'ns' });
    await g.delete({ ids: ['rec-05'], namespace: 'ns' });
    await call(rest, 'POST', '/vectors/delete', {
      filter: { genre: 'comedy', year: { $gt: 2008 } },
      namespace: 'ns',
    });
    await g.delete({ filter: { genre: 'comedy', year: { $gt: 2008 } }, namespace: 'ns' });
    const fetchAfter = await call(
      rest,
      'GET',
      `/vectors/fetch?ids=rec-02&ids=rec-05&ids=rec-09&namespace=ns`,
    );
    expect(await g.fetch({ ids: ['rec-02', 'rec-05', 'rec-09'], namespace: 'ns' })).toEqual(
      withRecords(fetchAfter.body),
    );

    for (const filter of [undefined, { genre: 'drama' }]) {
      const s = await call(rest, 'POST', '/describe_index_stats', filter ? { filter } : {});
      expect(await g.describeIndexStats({ filter })).toEqual(s.body);
    }
    await call(rest, 'POST', '/vectors/delete', { deleteAll: true, namespace: 'ns' });
    await g.delete({ deleteAll: true, namespace: 'ns' });
    const empty = await call(rest, 'POST', '/describe_index_stats', {});
    expect(await g.describeIndexStats()).toEqual(empty.body);
  });

  it('reads over gRPC what REST wrote, from the same store, and the other way round', async () => {
    const rest = server.indexHost('viarest');
    const g = grpcIndex('viarest');
    await call(rest, 'POST', '/vectors/upsert', { vectors: records.slice(0, 3) });
    const f = await call(rest, 'GET', '/vectors/fetch?ids=rec-00&ids=rec-02');
    expect(await g.fetch({ ids: ['rec-00', 'rec-02'] })).toEqual(withRecords(f.body));
    await g.upsert({ vectors: [{ id: 'from-grpc', values: Float32Array.of(0.25, 0.5, 0.75, 1) }] });
    const back = await call(rest, 'GET', '/vectors/fetch?ids=from-grpc');
    expect(back.body.vectors['from-grpc'].values).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('handles sparse vectors the same way', async () => {
    const rest = server.indexHost('sparse');
    const g = grpcIndex('sparse');
    const sparse = [
      { id: 's1', values: [], sparseValues: { indices: [1, 5, 9], values: [0.5, 0.25, 1] } },
      { id: 's2', values: [], sparseValues: { indices: [5, 7], values: [2, 0.125] } },
    ];
    await g.upsert({ vectors: sparse });
    const q = { sparseVector: { indices: [5, 9], values: [1, 0.5] }, topK: 2, includeValues: true };
    const r = await call(rest, 'POST', '/query', q);
    expect(float32Scores(await g.query(q))).toEqual(float32Scores(r.body));
    const f = await call(rest, 'GET', '/vectors/fetch?ids=s1&ids=s2');
    expect(await g.fetch({ ids: ['s1', 's2'] })).toEqual(withRecords(f.body));
  });

  it('fans fetch and delete past 1000 ids out into requests of 1000', async () => {
    const g = grpcIndex('many');
    const vectors = Array.from({ length: 2100 }, (_, k) => ({ id: `m${k}`, values: [k, 1] }));
    await g.upsert({ vectors, batchSize: 1000 });
    server.resetStats('many');
    const ids = [...vectors.map((v) => v.id), 'absent'];
    const fetched = await g.fetch({ ids, maxConcurrency: 2 });
    expect(Object.keys(fetched.vectors)).toHaveLength(2100);
    expect(fetched.vectors.m2099).toEqual({ id: 'm2099', values: [2099, 1] });
    expect(fetched.usage?.readUnits).toBeGreaterThan(0);
    await g.delete({ ids });
    expect((await g.describeIndexStats()).totalVectorCount).toBe(0);
    const ops = server.stats('many').operations;
    expect(ops.fetch).toEqual({ '200': 3 });
    expect(ops.delete).toEqual({ '200': 3 });
  });

  it('answers invalid requests with INVALID_ARGUMENT and unknown methods with UNIMPLEMENTED', async () => {
    const g = grpcIndex('viagrpc');
    const err = await g.upsert({ vectors: [{ id: 'x', values: [1, 2] }] }).catch((e) => e);
    expect(err).toMatchObject({ name: 'BadRequestError', grpcCode: 'INVALID_ARGUMENT', attempts: 1 });
    expect(err.serverMessage).toMatch(/dimension/i);

    const transport = new GrpcTransport({ host: server.grpcHost('viagrpc'), apiKey: 'local' });
    const bytes = toBinary(FetchRequestSchema, create(FetchRequestSchema, { ids: ['a'] }));
    const method = {
      path: '/VectorService/NoSuchMethod',
      input: FetchRequestSchema,
      output: FetchResponseSchema,
    };
    const unknown = await transport.unary(method, bytes, { attempt: 1, timeout: 5 }).catch((e) => e);
    transport.close();
    expect(unknown).toBeInstanceOf(ServerError);
    expect(unknown.grpcCode).toBe('UNIMPLEMENTED');
  });
});

describe('faults over gRPC', () => {
  it('maps each injected fault to its gRPC code and records it in the stats', async () => {
    const g = grpcIndex('faulty');
    const expectFault = async (faults: object, cls: unknown, grpcCode: string | undefined) => {
      await server.setFaults('faulty', faults);
      const err = await g.fetch({ ids: ['a'] }).catch((e) => e);
      expect(err, JSON.stringify(faults)).toBeInstanceOf(cls);
      if (grpcCode) expect(err.grpcCode, JSON.stringify(faults)).toBe(grpcCode);
      return err;
    };
    server.resetStats('faulty');
    await expectFault({ errorRates: { 500: 1 } }, ServerError, 'INTERNAL');
    await expectFault({ errorRates: { 502: 1 } }, ServiceUnavailableError, 'UNAVAILABLE');
    await expectFault({ errorRates: { 503: 1 } }, ServiceUnavailableError, 'UNAVAILABLE');
    const timeout = await expectFault({ errorRates: { 504: 1 } }, ServerError, 'DEADLINE_EXCEEDED');
    expect(timeout.status).toBe(504);
    // A refused stream and a cut-off reply are network failures, as their REST twins are.
    const reset = await expectFault({ resetRate: 1 }, ConnectionError, undefined);
    expect(reset.code).toBe('REFUSED_STREAM');
    const bad = await expectFault({ malformedRate: 1 }, ConnectionError, undefined);
    expect(bad.code).toBe('BAD_BODY');
    const cut = await expectFault({ truncateRate: 1 }, ConnectionError, undefined);
    expect(cut.code).toBe('STREAM_RESET');
    await expectFault({ errorRates: { 429: 1 } }, RateLimitError, 'RESOURCE_EXHAUSTED');
    const hinted = await expectFault(
      { errorRates: { 503: 1 }, errorRetryAfter: { seconds: 1 } },
      ServiceUnavailableError,
      'UNAVAILABLE',
    );
    expect(hinted.retryAfterMs).toBe(1000);
    // Stored, then the stream reset before the answer: a network failure, as over REST.
    const lost = await expectFault({ resetAfterWriteRate: 1 }, ConnectionError, undefined);
    expect(lost.code).toBe('STREAM_RESET');
    // The bucket starts with one token: the first call passes, the next is throttled.
    await server.setFaults('faulty', { rateLimit: { rps: 0.001, retryAfterSeconds: 2 } });
    await g.fetch({ ids: ['a'] });
    const throttled = await g.fetch({ ids: ['a'] }).catch((e) => e);
    expect(throttled).toBeInstanceOf(RateLimitError);
    expect(throttled.retryAfterMs).toBe(2000);
    await server.setFaults('faulty', {});

    const counts = server.stats('faulty').operations.fetch!;
    expect(counts).toMatchObject({
      '500': 1,
      '502': 1,
      '503': 2,
      '504': 1,
      reset: 1,
      malformed: 1,
      truncated: 1,
      'reset-after-write': 1,
      '429': 2,
      '200': 1,
    });
  });

  it('hangs until the deadline and sends slow bodies that still arrive', async () => {
    const g = grpcIndex('faulty');
    await server.setFaults('faulty', { hangRate: 1 });
    const hung = await g.fetch({ ids: ['a'], timeout: 0.2 }).catch((e) => e);
    expect(hung.name).toBe('TimeoutError');
    await server.setFaults('faulty', { slowBodyRate: 1, slowBodyMs: 200 });
    await g.upsert({ vectors: [{ id: 'slow-grpc', values: [1, 1] }], namespace: 'slow' });
    await server.setFaults('faulty', {});
    const fetched = await g.fetch({ ids: ['slow-grpc'], namespace: 'slow' });
    expect(Object.keys(fetched.vectors)).toEqual(['slow-grpc']);
    await g.delete({ deleteAll: true, namespace: 'slow' });
    await expect.poll(() => server.stats('faulty').operations.fetch?.hang).toBe(1);
  });

  it('rides out seeded 503s and throttling with the default retries', async () => {
    await server.setFaults('faulty', { errorRates: { 503: 0.4 }, seed: 7 });
    const g = grpcIndex('faulty', 5);
    const vectors = Array.from({ length: 40 }, (_, k) => ({ id: `f${k}`, values: [k, 1] }));
    expect(await g.upsert({ vectors, batchSize: 4, maxConcurrency: 2 })).toEqual({ upsertedCount: 40 });
    await server.setFaults('faulty', {});
    expect((await g.describeIndexStats()).totalVectorCount).toBe(40);
  });

  it('requires the API key when the emulator has one', async () => {
    const guarded = await startLocalServer({ apiKey: 'right', indexes: [{ name: 'g', dimension: 2 }] });
    try {
      const wrong = new GrpcIndex({ host: guarded.grpcHost('g'), apiKey: 'wrong', maxRetries: 0 });
      await expect(wrong.describeIndexStats()).rejects.toBeInstanceOf(UnauthorizedError);
      await wrong.close();
      const right = new GrpcIndex({ host: guarded.grpcHost('g'), apiKey: 'right' });
      await expect(right.describeIndexStats()).resolves.toMatchObject({ dimension: 2 });
      await right.close();
      await guarded.createIndex({ name: 'later', dimension: 3 });
      expect(guarded.grpcHost('later')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await guarded.deleteIndex('later');
      expect(() => guarded.grpcHost('later')).toThrow(/Unknown index/);
    } finally {
      await guarded.close();
    }
  });
});
