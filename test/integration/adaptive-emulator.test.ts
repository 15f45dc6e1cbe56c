/**
 * Bulk upsert and the adaptive limiter against the real emulator over loopback.
 * Backoff is kept tiny (real time), so these runs take a second or two each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import type { Vector } from '../../src/data/types.js';
import { PineconeError, ServerError } from '../../src/errors.js';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { seededRandom, systemClock } from '../../src/resilience/clock.js';
import { AdaptiveLimiterRegistry } from '../../src/resilience/registry.js';
import { recordingLogger } from '../helpers/clocks.js';

const DIM = 8;
let server: LocalServer;

function vector(i: number): Vector {
  return {
    id: `v${i}`,
    values: Array.from({ length: DIM }, (_, k) => ((i * 31 + k * 7) % 97) / 97),
    metadata: { i },
  };
}
function vectors(n: number, from = 0): Vector[] {
  return Array.from({ length: n }, (_, i) => vector(from + i));
}

function client(registry?: AdaptiveLimiterRegistry, maxRetries = 8) {
  const log = recordingLogger();
  const limiters = registry ?? new AdaptiveLimiterRegistry({ clock: systemClock, logger: log.logger });
  const pc = new Pinecone({
    apiKey: 'test-key',
    controllerHost: server.controllerHost,
    retryConfig: { maxRetries, backoffFactor: 0.005, maxWait: 0.05 },
    random: seededRandom(5),
    logger: log.logger,
    limiters,
  });
  return { pc, limiters, log };
}

let nameSeq = 0;
async function freshIndex(): Promise<string> {
  const name = `adaptive-${nameSeq++}`;
  await server.createIndex({ name, dimension: DIM, metric: 'cosine' });
  return name;
}

beforeAll(async () => {
  server = await startLocalServer({ port: 0, seed: 7 });
});
afterAll(async () => {
  await server.close();
});

describe('adaptive concurrency against the emulator', () => {
  it('an in-flight cap of 3 with maxConcurrency 16: the limiter settles at or below 4 and every vector is stored', async () => {
    const name = await freshIndex();
    await server.setFaults(name, { maxInFlight: 3, latency: { fixedMs: 4 } });
    const { pc, limiters } = client();
    const host = server.indexHost(name);
    const index = pc.index({ host });
    const limits: number[] = [];
    const res = await index.upsert({
      vectors: vectors(3000),
      batchSize: 10,
      maxConcurrency: 16,
      onProgress: (p) => limits.push(p.limit),
    });
    expect(res.upsertedCount).toBe(3000);
    const stats = server.stats(name);
    expect(stats.vectors.total).toBe(3000);
    expect(stats.vectors.upserted).toBe(3000);
    const limiter = limiters.peek(host)!;
    expect(limiter.limit).toBeLessThanOrEqual(4);
    // After the first congestion events, the limit stays near the cap.
    const settled = limits.slice(Math.floor(limits.length / 2));
    expect(Math.max(...settled)).toBeLessThanOrEqual(4);
    await pc.close();
  });

  it('when throttling is turned off mid-run, the limit climbs back to the ceiling', async () => {
    const name = await freshIndex();
    await server.setFaults(name, { maxInFlight: 2, latency: { fixedMs: 3 } });
    const { pc, limiters } = client();
    const host = server.indexHost(name);
    let lowest = Number.POSITIVE_INFINITY;
    async function* input() {
      for (let i = 0; i < 4000; i++) {
        if (i === 1000) await server.setFaults(name, { latency: { fixedMs: 3 } });
        yield vector(i);
      }
    }
    const res = await pc.index({ host }).upsert({
      vectors: input(),
      batchSize: 10,
      maxConcurrency: 8,
      onProgress: (p) => {
        lowest = Math.min(lowest, p.limit);
      },
    });
    expect(res.upsertedCount).toBe(4000);
    expect(lowest).toBeLessThanOrEqual(2);
    expect(limiters.peek(host)!.limit).toBe(8);
    expect(server.stats(name).vectors.total).toBe(4000);
    await pc.close();
  });

  it('when retries run out, the error accounts exactly for what the emulator stored, and resuming completes the load', async () => {
    const name = await freshIndex();
    await server.setFaults(name, {
      errorRates: { 500: 0.35, 503: 0.1 },
      resetRate: 0.05,
      truncateRate: 0.05,
      malformedRate: 0.05,
    });
    const { pc } = client(undefined, 1);
    const index = pc.index({ host: server.indexHost(name) });
    const all = vectors(2000);
    const error = await index.upsert({ vectors: all, batchSize: 20, maxConcurrency: 6 }).catch((e) => e);
    expect(error).toBeInstanceOf(PineconeError);
    expect(error.upsertedCount).toBe(server.stats(name).vectors.total);
    const failedIds = new Set((error.failedVectors as Vector[]).map((v) => v.id));
    expect(error.upsertedCount + failedIds.size).toBe(2000);
    expect(failedIds.size).toBe(error.failedVectors.length);
    // Resume: exactly the failed vectors complete the load, with nothing written twice.
    await server.setFaults(name, {});
    const resumed = await index.upsert({ vectors: error.failedVectors, batchSize: 20 });
    expect(resumed.upsertedCount).toBe(failedIds.size);
    const stats = server.stats(name);
    expect(stats.vectors.total).toBe(2000);
    expect(stats.vectors.upserted).toBe(2000);
    await pc.close();
  });

  it('a failed batch keeps its typed error class', async () => {
    const name = await freshIndex();
    await server.setFaults(name, { errorRates: { 500: 1 } });
    const { pc } = client(undefined, 0);
    const error = await pc
      .index({ host: server.indexHost(name) })
      .upsert({ vectors: vectors(50), batchSize: 10 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error.upsertedCount).toBe(0);
    expect(error.failedVectors).toHaveLength(50);
    await pc.close();
  });

  it('a 200k-record async generator is upserted with at most maxConcurrency + 1 batches held', async () => {
    const name = await freshIndex();
    const { pc } = client();
    let produced = 0;
    let maxHeld = 0;
    let maxAhead = 0;
    let confirmed = 0;
    async function* input() {
      for (let i = 0; i < 200_000; i++) {
        produced++;
        maxAhead = Math.max(maxAhead, produced - confirmed);
        yield { id: `g${i}`, values: [1, 2, 3, 4, 5, 6, 7, (i % 100) / 100] };
      }
    }
    const res = await pc.index({ host: server.indexHost(name) }).upsert({
      vectors: input(),
      batchSize: 1000,
      maxConcurrency: 4,
      onProgress: (p) => {
        confirmed = p.upserted;
        maxHeld = Math.max(maxHeld, p.batchesHeld ?? 0);
      },
    });
    expect(res.upsertedCount).toBe(200_000);
    expect(server.stats(name).vectors.total).toBe(200_000);
    expect(maxHeld).toBeLessThanOrEqual(5);
    // Records read but not yet confirmed never exceed the batches held.
    expect(maxAhead).toBeLessThanOrEqual(6 * 1000);
    await pc.close();
  });

  it('fetch and delete past 1000 ids are split and run under the limiter', async () => {
    const name = await freshIndex();
    const { pc } = client();
    const index = pc.index({ host: server.indexHost(name) });
    await index.upsert({ vectors: vectors(2500), batchSize: 500 });
    const ids = vectors(2500).map((v) => v.id);
    const fetched = await index.fetch({ ids });
    expect(Object.keys(fetched.vectors)).toHaveLength(2500);
    expect(server.stats(name).operations.fetch?.['200']).toBe(3);
    await index.delete({ ids: ids.slice(0, 2200) });
    expect(server.stats(name).vectors.total).toBe(300);
    await pc.close();
  });
});

describe('a caller signal shared by many requests', () => {
  it('does not trip MaxListenersExceededWarning at high concurrency', async () => {
    const name = await freshIndex();
    await server.setFaults(name, { latency: { fixedMs: 5 } });
    const { pc } = client();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const index = pc.index({ host: server.indexHost(name) });
      await index.upsert({
        vectors: vectors(1000),
        batchSize: 10,
        maxConcurrency: 32,
        signal: controller.signal,
      });
      await index.fetch({
        ids: vectors(5000).map((v) => v.id),
        maxConcurrency: 16,
        signal: controller.signal,
      });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
      await pc.close();
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});

describe('a Retry-After longer than the caller’s patience', () => {
  it('Retry-After: 5 with maxWait 0.2: the call and one beside it settle in well under a second', async () => {
    const name = await freshIndex();
    // One token, then nothing for a long time: every later request is a 429 with Retry-After: 5.
    await server.setFaults(name, { rateLimit: { rps: 0.001, burst: 1, retryAfterSeconds: 5 } });
    const pc = new Pinecone({
      apiKey: 'test-key',
      controllerHost: server.controllerHost,
      retryConfig: { maxRetries: 1, backoffFactor: 0.05, maxWait: 0.2 },
    });
    try {
      const index = pc.index({ host: server.indexHost(name) });
      await index.describeIndexStats(); // the one token: a round trip is known
      const started = performance.now();
      const settled = await Promise.allSettled([index.describeIndexStats(), index.describeIndexStats()]);
      const elapsed = performance.now() - started;
      // Before, the host-wide pause held both calls for the server's 5 s.
      expect(elapsed).toBeLessThan(1500);
      for (const r of settled) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toMatchObject({ name: 'RateLimitError', attempts: 2 });
      }
    } finally {
      await pc.close();
    }
  });
});
