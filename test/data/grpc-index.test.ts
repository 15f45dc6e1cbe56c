/**
 * GrpcIndex against a scripted gRPC server on loopback: the spec's gRPC retry policy
 * (6 attempts by default, maxRetries on the constructor only, which codes are retried),
 * pushback, logs, abort, validation, and the handle `pc.index({ grpc: true })` returns.
 */
import { inspect } from 'node:util';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import {
  AbortError,
  BadRequestError,
  NotFoundError,
  PineconeError,
  RateLimitError,
  ServerError,
  ServiceUnavailableError,
  ValidationError,
} from '../../src/errors.js';
import { QueryResponseSchema, UpsertRequestSchema, UpsertResponseSchema } from '../../src/gen/db_data_pb.js';
import {
  GRPC_DEFAULT_MAX_RETRIES,
  GrpcIndex,
  type GrpcIndexOptions,
  RETRYABLE_GRPC_CODES,
} from '../../src/grpc.js';
import { startLocalServer } from '../../src/local.js';
import { ManualClock, seededRandom } from '../../src/resilience/clock.js';
import { AdaptiveLimiterRegistry } from '../../src/resilience/registry.js';
import { InstantClock, recordingLogger } from '../helpers/clocks.js';
import { type ScriptedGrpcServer, startScriptedGrpcServer } from '../helpers/scripted-grpc-server.js';

const KEY = 'pcsk_SECRET_grpc_index_7';
const OK_UPSERT = (n: number) =>
  toBinary(UpsertResponseSchema, create(UpsertResponseSchema, { upsertedCount: n }));
const THROTTLED = { code: 8, message: 'Too many requests' };

let server: ScriptedGrpcServer;
let clock: InstantClock;
let log: ReturnType<typeof recordingLogger>;
const open: { close(): Promise<void> }[] = [];

function index(options: Partial<GrpcIndexOptions> = {}): GrpcIndex {
  const idx = new GrpcIndex({
    host: server.url,
    apiKey: KEY,
    clock,
    random: seededRandom(11),
    logger: log.logger,
    timeout: 5,
    ...options,
  });
  open.push(idx);
  return idx;
}

beforeAll(async () => {
  server = await startScriptedGrpcServer();
});
afterAll(async () => {
  await Promise.all(open.map((i) => i.close()));
  await server.close();
});
beforeEach(() => {
  server.calls.length = 0;
  server.fallback = {};
  clock = new InstantClock();
  log = recordingLogger();
});

describe('GrpcIndex retry policy', () => {
  it('retries RESOURCE_EXHAUSTED and then succeeds', async () => {
    server.push(THROTTLED, { response: OK_UPSERT(1) });
    const res = await index().upsert({ vectors: [{ id: 'a', values: [1, 2] }] });
    expect(res).toEqual({ upsertedCount: 1 });
    expect(server.calls).toHaveLength(2);
    // One decorrelated-jitter delay from the spec's window [0.25, 0.75] s.
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(250);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(750);
  });

  it('makes 6 attempts by default, then throws RateLimitError with attempts 6', async () => {
    server.fallback = THROTTLED;
    const idx = index();
    expect(idx.maxRetries).toBe(GRPC_DEFAULT_MAX_RETRIES);
    const err = await idx.fetch({ ids: ['a'] }).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ attempts: 6, status: 429, grpcCode: 'RESOURCE_EXHAUSTED' });
    expect(err.message).toMatch(/RESOURCE_EXHAUSTED \(gRPC\) .* after 6 attempts/);
    expect(err.message).toContain('new GrpcIndex({ host, apiKey, maxRetries })');
    expect(server.calls).toHaveLength(6);
    // Decorrelated jitter: each delay within [0.25 s, 3 × previous], capped at 60 s.
    let prev = 250;
    for (const ms of clock.sleeps) {
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThanOrEqual(Math.max(250, prev * 3) + 1e-9);
      prev = ms;
    }
    expect(clock.sleeps).toHaveLength(5);
  });

  it('takes maxRetries from the constructor', async () => {
    server.fallback = { code: 14, message: 'overloaded' };
    const err = await index({ maxRetries: 2 })
      .describeIndexStats()
      .catch((e) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect(err.attempts).toBe(3);
    expect(server.calls).toHaveLength(3);
    server.calls.length = 0;
    const once = await index({ maxRetries: 0 })
      .describeIndexStats()
      .catch((e) => e);
    expect(once.attempts).toBe(1);
    expect(server.calls).toHaveLength(1);
    expect(() => index({ maxRetries: -1 })).toThrow(ValidationError);
    expect(() => index({ maxRetries: 1.5 })).toThrow(/maxRetries/);
  });

  it('retries ABORTED and INTERNAL by default; throws INVALID_ARGUMENT and NOT_FOUND at once', async () => {
    for (const code of [10, 13, 4]) {
      server.calls.length = 0;
      server.push({ code, message: 'transient' }, {});
      await expect(index().delete({ ids: ['a'] })).resolves.toBeUndefined();
      expect(server.calls).toHaveLength(2);
    }
    for (const [code, cls] of [
      [3, BadRequestError],
      [5, NotFoundError],
    ] as const) {
      server.calls.length = 0;
      server.push({ code, message: 'no' });
      const err = await index()
        .fetch({ ids: ['a'] })
        .catch((e) => e);
      expect(err).toBeInstanceOf(cls);
      expect(err.attempts).toBe(1);
      expect(server.calls).toHaveLength(1);
    }
  });

  it('retryableCodes replaces the set: the spec floor alone leaves INTERNAL unretried', async () => {
    server.push({ code: 13, message: 'boom' });
    const err = await index({ retryableCodes: RETRYABLE_GRPC_CODES })
      .fetch({ ids: ['a'] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err).toMatchObject({ attempts: 1, grpcCode: 'INTERNAL' });
    server.calls.length = 0;
    server.push({ code: 5, message: 'missing' }, {});
    await index({ retryableCodes: ['NOT_FOUND'] }).fetch({ ids: ['a'] });
    expect(server.calls).toHaveLength(2);
    expect(() => index({ retryableCodes: ['NOPE'] })).toThrow(/retryableCodes/);
    expect(() => index({ retryableCodes: [0] })).toThrow(ValidationError);
  });

  it('waits the server pushback instead of jitter, and stops when told not to retry', async () => {
    server.push({ ...THROTTLED, trailers: { 'grpc-retry-pushback-ms': '1700' } }, {});
    await index().fetch({ ids: ['a'] });
    expect(clock.sleeps).toEqual([1700]);
    server.calls.length = 0;
    server.push({ ...THROTTLED, trailers: { 'grpc-retry-pushback-ms': '-1' } });
    const err = await index()
      .fetch({ ids: ['a'] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(server.calls).toHaveLength(1);
  });

  it('logs the spec records with the code name as status', async () => {
    server.push(THROTTLED, THROTTLED, {});
    await index().fetch({ ids: ['a'] });
    const host = new URL(server.url).host;
    const debug = log.records.filter((r) => r.level === 'debug').map((r) => r.message);
    expect(debug).toHaveLength(2);
    expect(debug[0]).toMatch(
      new RegExp(
        `^Throttled response: status=RESOURCE_EXHAUSTED host=${host} attempt=1/6 delay=\\d\\.\\d{3}s$`,
      ),
    );
    expect(debug[1]).toContain('attempt=2/6');
    const info = log.records.filter((r) => r.level === 'info');
    expect(info).toHaveLength(1);
    expect(info[0]!.message).toContain(`Rate limited by host=${host}.`);
    expect(info[0]!.fields).toMatchObject({
      logger: 'pinecone._internal.http_client',
      event: 'rate_limited',
    });
  });
});

describe('GrpcIndex abort, validation and wiring', () => {
  it('aborts a call in flight at once, and one backing off, with AbortError', async () => {
    server.push({ hold: true });
    const controller = new AbortController();
    const pending = index().fetch({ ids: ['a'], signal: controller.signal });
    await server.waitForCalls(1);
    const reason = new Error('user cancelled');
    controller.abort(reason);
    const err = await pending.catch((e) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(err).toMatchObject({ name: 'AbortError', cause: reason });
    await server.calls[0]!.closed;

    // Backing off on a manual clock: the abort ends the sleep, nothing more is sent.
    server.calls.length = 0;
    server.push(THROTTLED);
    const manual = new ManualClock();
    const backoff = new AbortController();
    const sleeping = index({ clock: manual }).fetch({ ids: ['a'], signal: backoff.signal });
    await server.waitForCalls(1);
    while (manual.pending === 0) await new Promise((r) => setTimeout(r, 5));
    backoff.abort();
    await expect(sleeping).rejects.toBeInstanceOf(AbortError);
    expect(server.calls).toHaveLength(1);
  });

  it('validates input before anything is sent', async () => {
    const idx = index();
    await expect(idx.upsert({ vectors: [{ id: '', values: [1] }] })).rejects.toThrow(ValidationError);
    await expect(idx.upsert({ vectors: [{ id: 'a', values: [Number.NaN] }] })).rejects.toThrow(/finite/);
    await expect(idx.query({ topK: 0, vector: [1] })).rejects.toThrow(/topK/);
    await expect(idx.query({ topK: 1 })).rejects.toThrow(/exactly one/);
    await expect(idx.fetch({ ids: [] })).rejects.toThrow(/at least one/);
    await expect(idx.delete({})).rejects.toThrow(/exactly one/);
    await expect(idx.update({ id: 'a', setMetadata: { nested: { no: 1 } as never } })).rejects.toThrow(
      ValidationError,
    );
    expect(server.calls).toHaveLength(0);
    expect(() => new GrpcIndex({ host: '', apiKey: KEY })).toThrow(/host/);
    expect(() => new GrpcIndex({ host: server.url, apiKey: ' ' })).toThrow(/API key/);
  });

  it('sends a Float32Array as packed floats and splits bulk upserts into batches', async () => {
    server.push({ response: OK_UPSERT(2) }, { response: OK_UPSERT(2) }, { response: OK_UPSERT(1) });
    const vectors = Array.from({ length: 5 }, (_, k) => ({ id: `v${k}`, values: Float32Array.of(k, 0.5) }));
    const res = await index().upsert({ vectors, batchSize: 2, maxConcurrency: 1, namespace: 'ns' });
    expect(res.upsertedCount).toBe(5); // the server's counts, summed over 3 batches
    const sent = server.calls.map((c) => fromBinary(UpsertRequestSchema, c.message));
    expect(sent.map((r) => r.vectors.length)).toEqual([2, 2, 1]);
    expect(sent[2]!.vectors[0]).toMatchObject({ id: 'v4', values: [4, 0.5] });
    expect(sent.every((r) => r.namespace === 'ns')).toBe(true);
  });

  it('reports a failed bulk upsert with the typed error and the unwritten vectors', async () => {
    server.push({ response: OK_UPSERT(2) });
    server.fallback = { code: 3, message: 'bad' };
    const vectors = Array.from({ length: 6 }, (_, k) => ({ id: `v${k}`, values: [k] }));
    const err = await index()
      .upsert({ vectors, batchSize: 2, maxConcurrency: 1 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.upsertedCount).toBe(2);
    expect(err.failedVectors.map((v: { id: string }) => v.id)).toEqual(['v2', 'v3', 'v4', 'v5']);
  });

  it('maps query results to the REST shapes', async () => {
    server.push({
      response: toBinary(
        QueryResponseSchema,
        create(QueryResponseSchema, {
          matches: [{ id: 'a', score: 0.5, values: [1, 2], metadata: { genre: 'drama', n: 2 } }],
          namespace: 'ns',
          usage: { readUnits: 3 },
        }),
      ),
    });
    const res = await index().query({ topK: 1, vector: [1, 2], includeValues: true, includeMetadata: true });
    expect(res).toEqual({
      matches: [{ id: 'a', score: 0.5, values: [1, 2], metadata: { genre: 'drama', n: 2 } }],
      namespace: 'ns',
      usage: { readUnits: 3 },
    });
  });

  it('pc.index({ grpc: true }) is a GrpcIndex with the gRPC policy, closed by pc.close()', async () => {
    const pc = new Pinecone({
      apiKey: KEY,
      clock,
      random: seededRandom(5),
      logger: log.logger,
      retryConfig: { maxRetries: 1 },
    });
    const idx = pc.index({ host: server.url, grpc: true, namespace: 'ns' });
    expect(idx).toBeInstanceOf(GrpcIndex);
    expect(idx.maxRetries).toBe(6 - 1);
    expect(idx.defaultNamespace).toBe('ns');
    const other = idx.namespace('other');
    expect(other).toBeInstanceOf(GrpcIndex);
    expect(other.defaultNamespace).toBe('other');
    expect(other.maxRetries).toBe(idx.maxRetries);
    expect(inspect(idx)).not.toContain(KEY);
    // list() hands back an async iterator at once; the gRPC module loads on first next().
    const ids = idx.list();
    expect(typeof ids[Symbol.asyncIterator]).toBe('function');
    expect(server.calls).toHaveLength(0);
    const seen: string[] = [];
    for await (const id of ids) seen.push(id);
    expect(seen).toEqual([]);
    expect(server.calls[0]!.path).toBe('/VectorService/List');

    // RetryConfig does not reach gRPC: 6 attempts, not 2.
    server.calls.length = 0;
    server.fallback = THROTTLED;
    const err = await idx.fetch({ ids: ['a'] }).catch((e) => e);
    expect(err.attempts).toBe(6);
    server.fallback = {};

    await pc.close();
    await expect(idx.fetch({ ids: ['a'] })).rejects.toThrow(PineconeError);
    expect(() => pc.index({ host: server.url, grpc: true })).not.toThrow();
    await expect(pc.index({ host: server.url, grpc: true }).fetch({ ids: ['a'] })).rejects.toThrow(/closed/);
  });

  it('shares one adaptive limiter per host between the REST and gRPC indexes of a client', async () => {
    // One emulated index host serves REST and gRPC on one port, as a Pinecone index host
    // does; every request is answered 503 / UNAVAILABLE, a throttle on either transport.
    const local = await startLocalServer({ indexes: [{ name: 'shared', dimension: 2 }] });
    const limiters = new AdaptiveLimiterRegistry({ clock, logger: log.logger });
    const pc = new Pinecone({ apiKey: KEY, clock, limiters, retryConfig: { maxRetries: 0 } });
    try {
      await local.setFaults('shared', { errorRates: { 503: 1 } });
      const host = local.indexHost('shared');
      const vectors = [{ id: 'a', values: [1, 0] }];
      const grpcErr = await new GrpcIndex({ host, client: pc, maxRetries: 0 })
        .upsert({ vectors })
        .catch((e) => e);
      expect(grpcErr).toBeInstanceOf(ServiceUnavailableError);
      expect(grpcErr.grpcCode).toBe('UNAVAILABLE');
      const restErr = await pc
        .index({ host })
        .upsert({ vectors })
        .catch((e) => e);
      expect(restErr).toBeInstanceOf(ServiceUnavailableError);
      expect(restErr.grpcCode).toBeUndefined();
      // Both throttles landed on the client's one limiter for that host: a REST index with
      // a registry of its own would leave this count at 1.
      expect(limiters.size).toBe(1);
      expect(limiters.peek(host)?.throttles).toBe(2);
      expect(local.stats('shared').requests.total).toBe(2);
    } finally {
      await pc.close();
      await local.close();
    }
  });
});
