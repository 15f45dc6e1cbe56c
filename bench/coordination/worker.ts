/**
 * One worker process of `bench/coordination.ts`: a user's process doing bulk upserts
 * through `new Pinecone({ coordination? })`. It prints `{"ready":true}` once loaded, then
 * runs one job per line read on stdin (`{"vectors": N, "idStart": K}`), each with a FRESH
 * client (nothing learned carries over: a cold start as far as the SDK can tell), and prints
 * one JSON line per job. It exits when stdin closes.
 *
 *   node --import tsx bench/coordination/worker.ts '<WorkerConfig JSON>'
 */
import { createInterface } from 'node:readline';
import { Pinecone } from '../../src/client.js';
import { redisCoordinator } from '../../src/coordination/redis-coordinator.js';
import type { Vector } from '../../src/data/types.js';
import { silentLogger } from '../../src/log.js';
import { seededRandom, systemClock } from '../../src/resilience/clock.js';
import { AdaptiveLimiterRegistry } from '../../src/resilience/registry.js';
import { SpecLiteralState } from '../contenders/spec-literal.js';
import { describeError } from '../contenders/types.js';
import { traceJobStart, traceLogger } from './trace.js';

/** How the worker's client is built. */
export type Variant = 'sdk' | 'redis' | 'spec';

/** The worker's one command-line argument. */
export interface WorkerConfig {
  host: string;
  variant: Variant;
  /** For `redis`: the server, and a prefix unique to the run (no state from earlier runs). */
  redisUrl?: string | undefined;
  keyPrefix?: string | undefined;
  dimension: number;
  batchSize: number;
  maxConcurrency: number;
  /** The most vectors one job of the run upserts: their values are made before the worker is ready. */
  largestJob: number;
  /** Write the SDK's records as trace lines on stderr (`--trace`; see trace.ts). */
  trace?: boolean | undefined;
}

/** One job: upsert `vectors` records with ids from `idStart`. */
export interface Job {
  vectors: number;
  idStart: number;
}

/** What a worker prints per job. */
export interface JobResult {
  /** Vectors the SDK confirmed written. */
  upserted: number;
  /** Real time of the job, ms (client creation to the upsert's end). */
  ms: number;
  /** Redis commands the job's coordinator sent (0 without one). */
  redisCommands: number;
  /** Times the job's coordinator found Redis unavailable (a call over its timeout or failed). */
  redisOutages: number;
  failure?: string | undefined;
}

/**
 * The values of a run's records, made once before the worker says it is ready: a user's
 * records exist before the upsert is called. Made per job, inside the timed part, 3000
 * records of 32 dimensions took 70-140 ms on 8 processes starting at once on 2 cores, a
 * third of their time to the first request, counted in the wall against the bound.
 */
function valuePool(config: WorkerConfig): number[][] {
  const random = seededRandom(1);
  return Array.from({ length: config.largestJob }, () =>
    Array.from({ length: config.dimension }, () => Math.fround(random() * 2 - 1)),
  );
}

/** A job's records: its own ids, the pool's values. */
function records(job: Job, pool: number[][]): Vector[] {
  if (job.vectors > pool.length)
    throw new Error(`job of ${job.vectors} vectors over largestJob ${pool.length}`);
  return Array.from({ length: job.vectors }, (_, i) => ({
    id: `v${job.idStart + i}`,
    values: pool[i] as number[],
  }));
}

async function runJob(config: WorkerConfig, job: Job, pool: number[][]): Promise<JobResult> {
  const vectors = records(job, pool);
  const t0 = performance.now();
  const coordination =
    config.variant === 'redis'
      ? redisCoordinator({ url: config.redisUrl as string, keyPrefix: config.keyPrefix })
      : undefined;
  // The spec's algorithm on the SDK's machinery, as in bench/contenders/sdk.ts.
  const limiters =
    config.variant === 'spec'
      ? new AdaptiveLimiterRegistry({
          clock: systemClock,
          logger: silentLogger,
          limiter: { createState: (notify) => new SpecLiteralState(notify), wakeRetries: false },
        })
      : undefined;
  if (config.trace) traceJobStart();
  const logger = config.trace ? traceLogger(() => coordination?.available) : undefined;
  const pc = new Pinecone({ apiKey: 'bench', coordination, limiters, logger });
  let upserted = 0;
  let failure: string | undefined;
  try {
    // Connecting to Redis counts in the job's time (the module was loaded at start-up).
    await coordination?.ready();
    const result = await pc
      .index({ host: config.host })
      .upsert({ vectors, batchSize: config.batchSize, maxConcurrency: config.maxConcurrency });
    upserted = result.upsertedCount;
  } catch (error) {
    upserted = (error as { upsertedCount?: number }).upsertedCount ?? 0;
    failure = describeError(error);
  } finally {
    await pc.close();
  }
  return {
    upserted,
    ms: performance.now() - t0,
    redisCommands: coordination?.stats().commands ?? 0,
    redisOutages: coordination?.stats().outages ?? 0,
    failure,
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig;
  // A service loads its modules when it starts, not in its first request: @redis/client's
  // CommonJS tree (about 0.4 s of CPU; eight processes loading it at once on two cores took
  // 1.6 s) loads here, before the worker says it is ready, as the SDK's own modules do.
  if (config.variant === 'redis') await import('@redis/client');
  const pool = valuePool(config);
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue;
    const result = await runJob(config, JSON.parse(line) as Job, pool);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

await main();
