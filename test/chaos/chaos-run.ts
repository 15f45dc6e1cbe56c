/**
 * The chaos suite's engine (issue 12 §4), shared by `chaos.test.ts` (CI size, instant
 * backoff) and `bench/chaos.ts` (100 k vectors, real time): a fresh emulator injecting
 * 30 % faults of every kind, one bulk load through the SDK over REST or gRPC, then the
 * accounting checked against the emulator (`chaos-verify.ts`), `failedVectors` upserted
 * again until the load is complete, and, once client and emulator are closed, nothing
 * left keeping the event loop alive and no unhandled rejection.
 *
 * Settings (and why): a per-attempt `timeout` of 1 s cuts hangs short; `maxRetries` 10
 * (11 attempts) makes a batch fail for good with probability 0.3^11 ≈ 2·10⁻⁶; REST's
 * `maxWait` 2 s bounds decorrelated jitter for the unluckiest batch, whose window grows
 * threefold with each failure in a row (gRPC's jitter is the spec's fixed 0.25–60 s; at
 * seed 12 the default cap made little difference, see docs/chaos.md); slow bodies take 0.5 s, inside the timeout, so they are slow successes
 * (a write whose answer is lost is covered by resets after the write).
 */
import { Pinecone } from '../../src/client.js';
import type { Vector } from '../../src/data/types.js';
import { PineconeError } from '../../src/errors.js';
import { GrpcIndex } from '../../src/grpc.js';
import { type FaultConfig, startLocalServer } from '../../src/local.js';
import { type Clock, seededRandom, systemClock } from '../../src/resilience/clock.js';
import { liveResources, settledLeaks } from '../helpers/live-resources.js';
import { type Accounting, checkAccounting, type StoredView } from './chaos-verify.js';

/** 30 % of requests faulted, every kind the emulator has; half the injected statuses carry `Retry-After: 1`. */
export const CHAOS_FAULTS: FaultConfig = {
  // 14 %: a load-independent 429, 500, 502 and 504 (plain-text proxy bodies), 503.
  errorRates: { 429: 0.04, 500: 0.03, 502: 0.02, 503: 0.03, 504: 0.02 },
  errorRetryAfter: { seconds: 1, share: 0.5 },
  // 16 %: resets before and after the write, hangs, truncated and malformed 200s, slow bodies.
  resetRate: 0.03,
  resetAfterWriteRate: 0.03,
  hangRate: 0.02,
  truncateRate: 0.03,
  malformedRate: 0.03,
  slowBodyRate: 0.02,
  slowBodyMs: 500,
};

/** The suite's client settings (see the header for why). */
export const CHAOS_SETTINGS = {
  /** Per-attempt timeout, seconds. */
  timeout: 1,
  maxRetries: 10,
  /** REST jitter cap, seconds (gRPC's is fixed at 60). */
  maxWait: 2,
  batchSize: 100,
  maxConcurrency: 16,
  dimension: 8,
  namespace: 'chaos',
} as const;

/** One chaos run. */
export interface ChaosOptions {
  transport: 'rest' | 'grpc';
  vectors: number;
  /** Seeds the emulator's fault sequence and the client's jitter. */
  seed: number;
  /** Backoff and limiter time (CI: an instant clock); default real time. */
  clock?: Clock | undefined;
  /** Faults (default {@link CHAOS_FAULTS}; `{}`: a fault-free baseline). */
  faults?: FaultConfig | undefined;
  /** Retries of the first load (default 10); resumed loads always use 10. */
  maxRetries?: number | undefined;
  /** REST jitter cap, seconds (default 2). */
  maxWait?: number | undefined;
  batchSize?: number | undefined;
  maxConcurrency?: number | undefined;
  /** Most resumed loads before giving up (default 3). */
  maxResumes?: number | undefined;
}

/** One bulk call's outcome and its accounting. */
export interface CallReport extends Accounting {
  wallMs: number;
  /** The error's class name, or undefined when the call completed. */
  error: string | undefined;
}

/** What a chaos run found. */
export interface ChaosReport {
  transport: 'rest' | 'grpc';
  /** The first load, then each load of the previous one's `failedVectors`. */
  calls: CallReport[];
  /** Whether the namespace holds exactly the input, values included, in the end. */
  complete: boolean;
  /** The emulator's upsert outcomes (`"200"`, `"429"`, `"reset"`, `"hang"`, ...). */
  outcomes: Record<string, number>;
  /** Requests the emulator saw. */
  requests: number;
  /** Retries the SDK logged, the sum and the longest of their delays (seconds). */
  retries: { count: number; totalDelay: number; maxDelay: number };
  /** The most batches the bulk engine held at once, and its bound `2 × maxConcurrency + 1`. */
  batchesHeld: { max: number; bound: number };
  /** Peak RSS and heap seen during the run, and heap after it, MiB. */
  memory: { peakRss: number; peakHeap: number; heapAfter: number };
  /** Resources still keeping the event loop alive after close (empty: none). */
  leaks: string[];
  /** Unhandled rejections and uncaught exceptions seen during the run. */
  unhandled: string[];
  /** Every broken rule, from all calls and the checks after them. */
  violations: string[];
}

const INDEX = 'chaos';
const MIB = 1024 * 1024;

/** The `k`-th input record: values and metadata derived from `k`. */
export function chaosVector(k: number, dimension: number = CHAOS_SETTINGS.dimension): Vector {
  const values = new Array<number>(dimension);
  for (let j = 0; j < dimension; j++) values[j] = (((k * 31 + j * 7) % 97) + 1) / 97;
  return { id: `v${k}`, values, metadata: { k } };
}

/** Run one chaos load on a fresh emulator and report what it found. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const batchSize = options.batchSize ?? CHAOS_SETTINGS.batchSize;
  const maxConcurrency = options.maxConcurrency ?? CHAOS_SETTINGS.maxConcurrency;
  const clock = options.clock ?? systemClock;
  const input = Array.from({ length: options.vectors }, (_, k) => chaosVector(k));
  const baseline = liveResources();
  const unhandled: string[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(describe(reason));
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);

  const retries = { count: 0, totalDelay: 0, maxDelay: 0 };
  const logger = {
    debug(_message: string, fields: Record<string, unknown>) {
      if (fields.event !== 'throttled_response') return;
      const delay = Number(fields.delaySeconds);
      retries.count += 1;
      retries.totalDelay += delay;
      retries.maxDelay = Math.max(retries.maxDelay, delay);
    },
    info() {},
    warn() {},
  };
  const memory = { peakRss: 0, peakHeap: 0, heapAfter: 0 };
  const sampleMemory = () => {
    const m = process.memoryUsage();
    memory.peakRss = Math.max(memory.peakRss, m.rss / MIB);
    memory.peakHeap = Math.max(memory.peakHeap, m.heapUsed / MIB);
  };
  let maxHeld = 0;
  let progressCalls = 0;
  const onProgress = (p: { batchesHeld?: number }) => {
    maxHeld = Math.max(maxHeld, p.batchesHeld ?? 0);
    if (++progressCalls % 16 === 0) sampleMemory();
  };

  const server = await startLocalServer({
    seed: options.seed,
    indexes: [{ name: INDEX, dimension: CHAOS_SETTINGS.dimension, faults: options.faults ?? CHAOS_FAULTS }],
  });
  const clients: Pinecone[] = [];
  const open = (maxRetries: number) => {
    const pc = new Pinecone({
      apiKey: 'chaos-key',
      clock,
      random: seededRandom(options.seed + clients.length),
      retryConfig: { maxRetries, maxWait: options.maxWait ?? CHAOS_SETTINGS.maxWait },
      timeout: CHAOS_SETTINGS.timeout,
      logger,
    });
    clients.push(pc);
    const host = server.indexHost(INDEX);
    return options.transport === 'grpc'
      ? new GrpcIndex({ host, client: pc, maxRetries, timeout: CHAOS_SETTINGS.timeout })
      : pc.index({ host });
  };
  const view = (): StoredView => {
    const ns = server.emulator.require(INDEX).store.namespace(CHAOS_SETTINGS.namespace);
    const stats = server.stats(INDEX);
    return {
      size: ns?.size ?? 0,
      statsTotal: stats.vectors.total,
      statsNamespace: stats.vectors.namespaces[CHAOS_SETTINGS.namespace] ?? 0,
      get: (id) => ns?.get(id),
      *ids() {
        for (let slot = 0; slot < (ns?.size ?? 0); slot++) yield ns!.idAt(slot);
      },
    };
  };

  const calls: CallReport[] = [];
  const violations: string[] = [];
  let complete = false;
  try {
    let pending: Vector[] = input;
    let index = open(options.maxRetries ?? CHAOS_SETTINGS.maxRetries);
    const maxCalls = 1 + (options.maxResumes ?? 3);
    while (pending.length > 0 && calls.length < maxCalls) {
      const started = performance.now();
      let reported: { upsertedCount: number; failedVectors: Vector[] | undefined };
      let error: string | undefined;
      try {
        const result = await index.upsert({
          vectors: pending,
          namespace: CHAOS_SETTINGS.namespace,
          batchSize,
          maxConcurrency,
          onProgress,
        });
        reported = { upsertedCount: result.upsertedCount, failedVectors: undefined };
      } catch (thrown) {
        error = describe(thrown);
        if (!(thrown instanceof PineconeError) || thrown.failedVectors === undefined) {
          violations.push(`call ${calls.length + 1} threw without accounting: ${error}`);
          break;
        }
        reported = { upsertedCount: thrown.upsertedCount ?? 0, failedVectors: thrown.failedVectors };
      }
      const wallMs = performance.now() - started;
      const accounting = checkAccounting(pending, reported, restrictedTo(view(), input, pending), batchSize);
      calls.push({ ...accounting, wallMs, error });
      violations.push(...accounting.violations.map((v) => `call ${calls.length}: ${v}`));
      pending = reported.failedVectors ?? [];
      if (pending.length > 0 && calls.length === 1) index = open(CHAOS_SETTINGS.maxRetries);
    }
    const final = checkAccounting(
      input,
      { upsertedCount: input.length, failedVectors: undefined },
      view(),
      batchSize,
    );
    complete = final.violations.length === 0;
    if (!complete) violations.push(...final.violations.map((v) => `in the end: ${v}`));
  } finally {
    sampleMemory();
    for (const pc of clients) await pc.close();
    await server.close();
  }
  const stats = server.stats(INDEX);
  const leaks = await settledLeaks(baseline);
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  memory.heapAfter = process.memoryUsage().heapUsed / MIB;

  const bound = 2 * maxConcurrency + 1;
  if (maxHeld > bound) violations.push(`the bulk engine held ${maxHeld} batches, more than ${bound}`);
  if (leaks.length > 0) violations.push(`still alive after close: ${leaks.join(', ')}`);
  if (unhandled.length > 0) violations.push(`unhandled: ${unhandled.join('; ')}`);
  return {
    transport: options.transport,
    calls,
    complete,
    outcomes: stats.operations.upsert ?? {},
    requests: stats.requests.total,
    retries,
    batchesHeld: { max: maxHeld, bound },
    memory,
    leaks,
    unhandled,
    violations,
  };
}

/**
 * The emulator's view for a resumed call over `pending`, restricted to its records, so the
 * call's accounting covers exactly its own input (the final check covers the whole load,
 * counts included).
 */
function restrictedTo(view: StoredView, input: readonly Vector[], pending: readonly Vector[]): StoredView {
  if (pending === input) return view;
  const mine = new Set(pending.map((v) => v.id));
  let held = 0;
  for (const id of mine) if (view.get(id)) held += 1;
  return {
    size: held,
    statsTotal: held,
    statsNamespace: held,
    get: (id) => (mine.has(id) ? view.get(id) : undefined),
    *ids() {
      for (const id of view.ids()) if (mine.has(id)) yield id;
    },
  };
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message.slice(0, 300)}`;
  return String(value);
}
