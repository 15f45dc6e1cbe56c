/**
 * gRPC under faults (issue 12 §8), over the real emulator: a bulk load under 30 % faults of
 * every non-throttle kind the emulator has (500/502/503/504, resets, truncated and
 * malformed replies) completes with every vector stored, over gRPC as over REST; and a
 * server that cannot be reached is retried as a network failure, not counted as a throttle.
 * CI size: 2,000 vectors; backoff sleeps are instant (injected clock).
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import { ConnectionError } from '../../src/errors.js';
import { GrpcIndex } from '../../src/grpc.js';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { seededRandom } from '../../src/resilience/clock.js';
import { AdaptiveLimiterRegistry } from '../../src/resilience/registry.js';
import { InstantClock, recordingLogger } from '../helpers/clocks.js';

const VECTORS = 2000;
const FAULTS = {
  errorRates: { 500: 0.05, 502: 0.05, 503: 0.05, 504: 0.05 },
  resetRate: 0.04,
  truncateRate: 0.03,
  malformedRate: 0.03,
};

let server: LocalServer;

const vectors = Array.from({ length: VECTORS }, (_, k) => ({
  id: `v${k}`,
  values: [k % 7, (k % 11) / 2, 1, k / VECTORS],
  metadata: { k },
}));

beforeAll(async () => {
  server = await startLocalServer({
    seed: 1234,
    indexes: [
      { name: 'over-grpc', dimension: 4, faults: FAULTS },
      { name: 'over-rest', dimension: 4, faults: FAULTS },
    ],
  });
});
afterAll(async () => {
  await server.close();
});

describe('a bulk load under 30 % faults', () => {
  it('stores every vector over gRPC, as over REST', async () => {
    const clock = new InstantClock();
    const pc = new Pinecone({
      apiKey: 'local',
      clock,
      random: seededRandom(7),
      retryConfig: { maxRetries: 12 },
    });
    try {
      const grpc = new GrpcIndex({ host: server.indexHost('over-grpc'), client: pc, maxRetries: 12 });
      const rest = pc.index({ host: server.indexHost('over-rest') });
      for (const [name, index] of [
        ['over-grpc', grpc],
        ['over-rest', rest],
      ] as const) {
        const res = await index.upsert({ vectors, batchSize: 20, maxConcurrency: 8 });
        expect(res.upsertedCount, name).toBe(VECTORS);
        const stats = server.stats(name);
        expect(stats.vectors.total, name).toBe(VECTORS);
        // The faults did happen, of every kind.
        const upserts = stats.operations.upsert ?? {};
        for (const outcome of ['500', '502', '503', '504', 'reset', 'truncated', 'malformed']) {
          expect(upserts[outcome], `${name} ${outcome}`).toBeGreaterThan(0);
        }
        const described = await index.describeIndexStats();
        expect(described.totalVectorCount, name).toBe(VECTORS);
      }
    } finally {
      await pc.close();
    }
  });
});

describe('a gRPC server that cannot be reached', () => {
  it('is retried as a network failure and never counted as a throttle', async () => {
    // A port that was just free: nothing listens there now.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const host = `http://127.0.0.1:${port}`;
    const clock = new InstantClock();
    const log = recordingLogger();
    const limiters = new AdaptiveLimiterRegistry({ clock, logger: log.logger });
    const index = new GrpcIndex({
      host,
      apiKey: 'local',
      maxRetries: 2,
      clock,
      limiters,
      logger: log.logger,
    });
    try {
      const err = await index.upsert({ vectors: vectors.slice(0, 3) }).catch((e) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect(err.attempts).toBe(3);
      expect(['ECONNREFUSED', 'UNREACHABLE']).toContain(err.code);
      expect(err.upsertedCount).toBe(0);
      expect(err.failedVectors).toHaveLength(3);
      // The limiter saw three failed attempts and no throttle: nothing to back off from.
      expect(limiters.peek(host)?.throttles).toBe(0);
      expect(log.records.some((r) => r.fields.event === 'rate_limited')).toBe(false);
      const retried = log.records.filter((r) => r.fields.event === 'throttled_response');
      expect(retried).toHaveLength(2);
      expect(String(retried[0]!.fields.status)).toMatch(/^(ECONNREFUSED|UNREACHABLE)$/);
    } finally {
      await index.close();
    }
  });
});
