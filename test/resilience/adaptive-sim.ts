/**
 * A deterministic simulation of a bulk upsert against a throttling server, in simulated
 * time (ManualClock): the real bulk engine, the real retry loop and a limiter state
 * (ours, the spec's literal algorithm, or a fixed pool) against a token bucket or an
 * in-flight cap. Used by adaptive-sim.test.ts to compare the algorithms reproducibly.
 */
import { pathToFileURL } from 'node:url';
import { SpecLiteralState } from '../../bench/contenders/spec-literal.js';
import { runBulkUpsert } from '../../src/data/bulk.js';
import type { Vector } from '../../src/data/types.js';
import { RateLimitError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { AimdLimiter } from '../../src/resilience/adaptive.js';
import { flushMicrotasks, ManualClock, seededRandom } from '../../src/resilience/clock.js';
import { AimdState } from '../../src/resilience/limiter-state.js';
import type { PacerOptions } from '../../src/resilience/pacer.js';
import { withRetries } from '../../src/resilience/retry.js';
import { RetryEvents } from '../../src/resilience/retry-events.js';

/** How the simulated server admits requests. */
export type SimServer =
  | { kind: 'bucket'; ratePerSecond: number; burst: number }
  | { kind: 'inflight'; cap: number };

export type SimAlgorithm = 'adaptive' | 'spec' | 'fixed';

export interface SimOptions {
  server: SimServer;
  algorithm: SimAlgorithm;
  /** Requests to make (one record each). */
  requests: number;
  ceiling: number;
  latencyMs: number;
  /** Extra latency drawn uniformly from [0, jitterMs). */
  jitterMs?: number;
  maxRetries?: number;
  /** Sent with every 429 when set. */
  retryAfterMs?: number;
  /** The server stops throttling at this simulated time. */
  throttleUntilMs?: number;
  seed?: number;
  /** Told of each limiter transition (for tracing). */
  trace?: (line: string) => void;
  /** Passed to the adaptive state. */
  probeWindows?: number;
  pacing?: PacerOptions | false;
  slowStart?: boolean;
}

export interface SimResult {
  /** Simulated wall time ÷ the lower bound the server allows. */
  ratio: number;
  /** Throttled attempts ÷ all attempts. */
  rejectedShare: number;
  /** Records stored ÷ intended. */
  storedShare: number;
  attempts: number;
  finalLimit: number;
  pacingRate: number | undefined;
}

/** A fixed pool: `ceiling` in flight, whatever happens. */
export class FixedState extends SpecLiteralState {
  override admit(ceiling: number, held: number): boolean {
    return held < ceiling;
  }
  override onSuccess(): void {}
  override onThrottle(): void {}
}

/** Run one simulated bulk upsert. */
export async function simulate(o: SimOptions): Promise<SimResult> {
  const clock = new ManualClock(0);
  const random = seededRandom(o.seed ?? 1);
  const limiter = new AimdLimiter({
    clock,
    logger: silentLogger,
    host: 'sim',
    // The baselines have no early retries: their delays run their length.
    wakeRetries: o.algorithm === 'adaptive',
    createState: (notify) =>
      o.algorithm === 'adaptive'
        ? new AimdState({ notify, probeWindows: o.probeWindows, pacing: o.pacing, slowStart: o.slowStart })
        : o.algorithm === 'spec'
          ? new SpecLiteralState(notify)
          : new FixedState(),
    onTransition: o.trace
      ? (t) =>
          o.trace?.(`${t.at.toFixed(0)}ms ${t.kind} ${t.before}->${t.after} rate=${t.pacingRate?.toFixed(1)}`)
      : undefined,
  });
  let tokens = o.server.kind === 'bucket' ? o.server.burst : 0;
  let lastRefill = 0;
  let active = 0;
  let attempts = 0;
  let throttled = 0;
  let stored = 0;

  const admit = (now: number): boolean => {
    const s = o.server;
    if (o.throttleUntilMs !== undefined && now >= o.throttleUntilMs) return true;
    if (s.kind === 'inflight') return active < s.cap;
    tokens = Math.min(s.burst, tokens + ((now - lastRefill) * s.ratePerSecond) / 1000);
    lastRefill = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  const attempt = async (batch: Vector[]) => {
    attempts += 1;
    const ok = admit(clock.now());
    // A rejected request does no work: it holds no server slot while its answer travels.
    if (ok) active += 1;
    try {
      await clock.sleep(o.latencyMs + random() * (o.jitterMs ?? 0));
    } finally {
      if (ok) active -= 1;
    }
    if (!ok) {
      throttled += 1;
      throw new RateLimitError({ status: 429, host: 'sim', attempts: 1, retryAfterMs: o.retryAfterMs });
    }
    stored += batch.length;
    return batch.length;
  };
  const policy = {
    maxRetries: o.maxRetries ?? 3,
    backoffFactor: 0.25,
    maxWait: 60,
    classify: (e: unknown) => ({
      retryable: true,
      throttle: true,
      rateLimited: true,
      label: 429,
      retryAfterMs: e instanceof RateLimitError ? e.retryAfterMs : undefined,
    }),
  };
  const ctx = {
    clock,
    random,
    events: new RetryEvents(silentLogger),
    host: 'sim',
    limiter,
    ceiling: o.ceiling,
  };
  const input = Array.from({ length: o.requests }, (_, i): Vector => ({ id: `v${i}`, values: [i] }));

  let settled = false;
  const run = runBulkUpsert({
    input,
    batchSize: 1,
    maxConcurrency: o.ceiling,
    limiter,
    send: (batch) => withRetries(() => attempt(batch), policy, ctx),
  }).then(
    () => {},
    () => {},
  );
  void run.finally(() => {
    settled = true;
  });
  while (!settled) {
    if (!(await clock.runNext())) await flushMicrotasks(50);
  }
  const wall = clock.now();
  const s = o.server;
  const lowerBound =
    s.kind === 'bucket'
      ? Math.max(((o.requests - s.burst) * 1000) / s.ratePerSecond, 0) + o.latencyMs
      : Math.ceil(o.requests / Math.min(s.cap, o.ceiling)) * (o.latencyMs + (o.jitterMs ?? 0) / 2);
  return {
    ratio: wall / lowerBound,
    rejectedShare: throttled / attempts,
    storedShare: stored / o.requests,
    attempts,
    finalLimit: limiter.limit,
    pacingRate: limiter.pacingRate,
  };
}

/** The regimes of docs/adaptive.md's table. */
export const TABLE_REGIMES: [string, SimServer, number][] = [
  ['token bucket 250/s (looser than 8/RTT)', { kind: 'bucket', ratePerSecond: 250, burst: 25 }, 3000],
  ['token bucket 20/s (below 1/RTT = 40/s)', { kind: 'bucket', ratePerSecond: 20, burst: 5 }, 1000],
  ['token bucket 5/s (8x below 1/RTT)', { kind: 'bucket', ratePerSecond: 5, burst: 2 }, 600],
  ['in-flight cap 3', { kind: 'inflight', cap: 3 }, 2000],
  ['in-flight cap 12', { kind: 'inflight', cap: 12 }, 4000],
];

/** Print the comparison table (markdown) of every algorithm in every regime. */
export async function printTable(write: (line: string) => void = console.log): Promise<void> {
  write('| server | algorithm | ceiling | time ÷ bound | rejected | stored |');
  write('|---|---|---|---|---|---|');
  for (const [name, server, requests] of TABLE_REGIMES) {
    for (const algorithm of ['adaptive', 'spec', 'fixed'] as const) {
      for (const ceiling of [8, 32]) {
        const r = await simulate({
          server,
          algorithm,
          requests,
          ceiling,
          latencyMs: 20,
          jitterMs: 10,
          seed: 7,
        });
        const ratio = r.storedShare < 1 ? 'stopped' : `${r.ratio.toFixed(2)}x`;
        const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
        write(
          `| ${name} | ${algorithm} | ${ceiling} | ${ratio} | ${pct(r.rejectedShare)} | ${pct(r.storedShare)} |`,
        );
      }
    }
  }
}

// `npx tsx test/resilience/adaptive-sim.ts` prints the table.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await printTable();
