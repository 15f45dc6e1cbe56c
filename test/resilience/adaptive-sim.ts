/**
 * A deterministic simulation of bulk upserts against a throttling server, in simulated
 * time (ManualClock): the real bulk engine, the real retry loop and a limiter state
 * (ours, the spec's literal algorithm, or a fixed pool) against a token bucket, an
 * in-flight cap, or none, with or without throttles that arrive at random whatever the
 * load. Several clients (each with its own limiter, as separate processes would have)
 * can share one server. Used by adaptive-sim.test.ts to compare the algorithms
 * reproducibly, and printed as docs/adaptive.md's simulation table.
 */
import { pathToFileURL } from 'node:url';
import { SpecLiteralState } from '../../bench/contenders/spec-literal.js';
import { runBulkUpsert } from '../../src/data/bulk.js';
import type { Vector } from '../../src/data/types.js';
import { RateLimitError, ServiceUnavailableError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { AimdLimiter } from '../../src/resilience/adaptive.js';
import { AimdState } from '../../src/resilience/aimd-state.js';
import { flushMicrotasks, ManualClock, seededRandom } from '../../src/resilience/clock.js';
import type { ThrottleVerdict } from '../../src/resilience/limiter.js';
import type { PacerOptions } from '../../src/resilience/pacer.js';
import { withRetries } from '../../src/resilience/retry.js';
import { RetryEvents } from '../../src/resilience/retry-events.js';
import type { ThrottleEvidenceOptions } from '../../src/resilience/throttle-evidence.js';

/** How the simulated server admits requests (the load-dependent part). */
export type SimServer =
  | { kind: 'bucket'; ratePerSecond: number; burst: number }
  | { kind: 'inflight'; cap: number }
  | { kind: 'none' };

/** Throttles that arrive at random, whatever the load (a noisy shared project). */
export interface SimNoise {
  /** Share of admitted requests throttled at random (0..1). */
  share: number;
  /** The status they carry (default 429). */
  status?: 429 | 503;
  /** Retry-After (ms) they carry, if any. */
  retryAfterMs?: number;
}

export type SimAlgorithm = 'adaptive' | 'spec' | 'fixed';

export interface SimOptions {
  server: SimServer;
  noise?: SimNoise | undefined;
  algorithm: SimAlgorithm;
  /** Requests each client makes (one record each). */
  requests: number;
  ceiling: number;
  latencyMs: number;
  /** Extra latency drawn uniformly from [0, jitterMs). */
  jitterMs?: number;
  /**
   * How long a throttled request takes to be answered (ms). Default: at once (1 ms), as
   * a gateway (and the emulator) answers; `latencyMs` models a server that works first.
   */
  throttleLatencyMs?: number;
  maxRetries?: number;
  /** Sent with every load-dependent 429 when set. */
  retryAfterMs?: number;
  /** The call's `maxWait` (seconds, default 60). */
  maxWait?: number;
  /** The server stops throttling at this simulated time. */
  throttleUntilMs?: number;
  /** Clients sharing the server, each with its own limiter (default 1). */
  clients?: number;
  /** Client k starts at k × this (ms). */
  staggerMs?: number;
  seed?: number;
  /** Told of each limiter transition (for tracing). */
  trace?: (line: string) => void;
  /** Passed to the adaptive state. */
  probeWindows?: number;
  pacing?: PacerOptions | false;
  slowStart?: boolean;
  /** Passed to the adaptive state (`false`: every throttle of a new epoch is congestion). */
  noiseDetection?: ThrottleEvidenceOptions | false;
}

export interface SimResult {
  /** Simulated wall time ÷ the lower bound the server allows. */
  ratio: number;
  /** Simulated wall time (ms) until the last client finished. */
  wallMs: number;
  /** Throttled attempts ÷ all attempts. */
  rejectedShare: number;
  /** Load-dependent throttles ÷ all attempts (excludes the random ones). */
  congestionShare: number;
  /** Records stored ÷ intended. */
  storedShare: number;
  attempts: number;
  /** Each client's time from its start to its end (ms). */
  clientMs: number[];
  finalLimit: number;
  pacingRate: number | undefined;
}

/** A fixed pool: `ceiling` in flight, whatever happens. */
export class FixedState extends SpecLiteralState {
  override admit(ceiling: number, held: number): boolean {
    return held < ceiling;
  }
  override onSuccess(): void {}
  override onThrottle(): ThrottleVerdict {
    return 'congestion';
  }
}

/** Run one simulated load (one or several clients). */
export async function simulate(o: SimOptions): Promise<SimResult> {
  const clock = new ManualClock(0);
  const random = seededRandom(o.seed ?? 1);
  const clients = o.clients ?? 1;
  const throttleLatency = o.throttleLatencyMs ?? 1;
  const s = o.server;
  let tokens = s.kind === 'bucket' ? Math.min(1, s.burst) : 0;
  let lastRefill = 0;
  let active = 0;
  let attempts = 0;
  let throttled = 0;
  let congested = 0;
  let stored = 0;

  /** The load-dependent verdict on a request arriving now. */
  const admit = (now: number): boolean => {
    if (o.throttleUntilMs !== undefined && now >= o.throttleUntilMs) return true;
    if (s.kind === 'none') return true;
    if (s.kind === 'inflight') return active < s.cap;
    tokens = Math.min(s.burst, tokens + ((now - lastRefill) * s.ratePerSecond) / 1000);
    lastRefill = now;
    if (tokens < 1 - 1e-9) return false;
    tokens -= 1;
    return true;
  };
  const attempt = async (batch: Vector[]) => {
    attempts += 1;
    const ok = admit(clock.now());
    const noisy = ok && o.noise !== undefined && random() < o.noise.share;
    if (!ok || noisy) {
      // A rejected request does no work: it holds no server slot while its answer travels.
      throttled += 1;
      if (!ok) congested += 1;
      o.trace?.(`${clock.now().toFixed(0)}ms throttle${noisy ? ' (noise)' : ''}`);
      await clock.sleep(throttleLatency);
      const status = noisy ? (o.noise?.status ?? 429) : 429;
      const retryAfterMs = noisy ? o.noise?.retryAfterMs : o.retryAfterMs;
      const init = { status, host: 'sim', attempts: 1, retryAfterMs };
      throw status === 503 ? new ServiceUnavailableError(init) : new RateLimitError(init);
    }
    active += 1;
    try {
      await clock.sleep(o.latencyMs + random() * (o.jitterMs ?? 0));
    } finally {
      active -= 1;
    }
    stored += batch.length;
    return batch.length;
  };
  const policy = {
    maxRetries: o.maxRetries ?? 3,
    backoffFactor: 0.25,
    maxWait: o.maxWait ?? 60,
    classify: (e: unknown) => ({
      retryable: true,
      throttle: true,
      rateLimited: e instanceof RateLimitError,
      label: e instanceof ServiceUnavailableError ? 503 : 429,
      retryAfterMs: (e as RateLimitError).retryAfterMs,
    }),
  };

  const starts: number[] = [];
  const ends: number[] = [];
  let finished = 0;
  let firstLimiter: AimdLimiter | undefined;
  for (let k = 0; k < clients; k++) {
    const limiter = new AimdLimiter({
      clock,
      logger: silentLogger,
      host: 'sim',
      // The baselines have no early retries: their delays run their length.
      wakeRetries: o.algorithm === 'adaptive',
      createState: (notify) =>
        o.algorithm === 'adaptive'
          ? new AimdState({
              notify,
              probeWindows: o.probeWindows,
              pacing: o.pacing,
              slowStart: o.slowStart,
              noise: o.noiseDetection,
            })
          : o.algorithm === 'spec'
            ? new SpecLiteralState(notify)
            : new FixedState(),
      onTransition: o.trace
        ? (t) =>
            o.trace?.(
              `${t.at.toFixed(0)}ms c${k} ${t.kind} ${t.before}->${t.after} rate=${t.pacingRate?.toFixed(1)}`,
            )
        : undefined,
    });
    firstLimiter ??= limiter;
    const ctx = {
      clock,
      random,
      events: new RetryEvents(silentLogger),
      host: 'sim',
      limiter,
      ceiling: o.ceiling,
    };
    const input = Array.from({ length: o.requests }, (_, i): Vector => ({ id: `c${k}v${i}`, values: [i] }));
    const start = async () => {
      await clock.sleep(k * (o.staggerMs ?? 0));
      starts[k] = clock.now();
      await runBulkUpsert({
        input,
        batchSize: 1,
        maxConcurrency: o.ceiling,
        limiter,
        send: (batch) => withRetries(() => attempt(batch), policy, ctx),
      }).catch((e) =>
        o.trace?.(`${clock.now().toFixed(0)}ms c${k} FAILED ${(e as Error).message.slice(0, 200)}`),
      );
      ends[k] = clock.now();
      finished += 1;
    };
    void start();
  }
  while (finished < clients) {
    if (!(await clock.runNext())) await flushMicrotasks(50);
  }
  const wall = Math.max(...ends);
  const total = o.requests * clients;
  const mean = o.latencyMs + (o.jitterMs ?? 0) / 2;
  const cap = s.kind === 'inflight' ? Math.min(s.cap, o.ceiling * clients) : o.ceiling * clients;
  // The least time the server allows: its rate, or `cap` requests per service time.
  const byConcurrency = Math.ceil(total / cap) * mean;
  const byRate = s.kind === 'bucket' ? (Math.max(total - s.burst, 0) * 1000) / s.ratePerSecond + mean : 0;
  const lowerBound = Math.max(byConcurrency, byRate);
  return {
    ratio: wall / lowerBound,
    wallMs: wall,
    rejectedShare: throttled / attempts,
    congestionShare: congested / attempts,
    storedShare: stored / total,
    attempts,
    clientMs: ends.map((e, k) => e - (starts[k] ?? 0)),
    finalLimit: firstLimiter?.limit ?? 0,
    pacingRate: firstLimiter?.pacingRate,
  };
}

/** A named scenario of the table. */
export interface SimScenario {
  name: string;
  options: Omit<SimOptions, 'algorithm' | 'seed'>;
  /** Divide wall time by this scenario's fault-free wall time instead of the bound. */
  versusFaultFree?: boolean;
}

const RTT20 = { latencyMs: 20, jitterMs: 4 } as const;
const NOISY = { ...RTT20, server: { kind: 'none' }, requests: 2000, ceiling: 16, maxRetries: 8 } as const;

/** The scenarios of docs/adaptive.md's simulation table (issue 12's, in simulated time). */
export const SCENARIOS: SimScenario[] = [
  {
    name: 'token bucket 40/s, 20 ms',
    options: {
      ...RTT20,
      server: { kind: 'bucket', ratePerSecond: 40, burst: 4 },
      requests: 200,
      ceiling: 16,
    },
  },
  {
    name: 'in-flight cap 4, 50 ms',
    options: { latencyMs: 50, jitterMs: 4, server: { kind: 'inflight', cap: 4 }, requests: 200, ceiling: 16 },
  },
  {
    name: 'token bucket 2/s, 300 ms',
    options: {
      latencyMs: 300,
      jitterMs: 10,
      server: { kind: 'bucket', ratePerSecond: 2, burst: 1 },
      requests: 60,
      ceiling: 16,
    },
  },
  {
    // One process of bench/coordination.ts, with a round trip that varies as a busy
    // machine's does: its throttles are sometimes taken for noise (docs/adaptive.md).
    name: 'token bucket 60/s, 20-35 ms, 4 in flight',
    options: {
      latencyMs: 20,
      jitterMs: 15,
      server: { kind: 'bucket', ratePerSecond: 60, burst: 6 },
      requests: 480,
      ceiling: 4,
    },
  },
  {
    // What `npm run demo` runs: a bucket of one second of tokens, 100-150 ms a request.
    name: 'the demo: token bucket 20/s (burst 20), 100-150 ms',
    options: {
      latencyMs: 100,
      jitterMs: 50,
      server: { kind: 'bucket', ratePerSecond: 20, burst: 20 },
      requests: 200,
      ceiling: 16,
      maxRetries: 5,
    },
  },
  { name: 'random 429 on 5 %', versusFaultFree: true, options: { ...NOISY, noise: { share: 0.05 } } },
  { name: 'random 429 on 12 %', versusFaultFree: true, options: { ...NOISY, noise: { share: 0.12 } } },
  { name: 'random 429 on 25 %', versusFaultFree: true, options: { ...NOISY, noise: { share: 0.25 } } },
  {
    name: 'random 503 + Retry-After 1 s on 10 %',
    versusFaultFree: true,
    options: { ...NOISY, noise: { share: 0.1, status: 503, retryAfterMs: 1000 } },
  },
  {
    name: 'bucket 40/s + random 429 on 10 %',
    options: {
      ...RTT20,
      server: { kind: 'bucket', ratePerSecond: 40, burst: 4 },
      noise: { share: 0.1 },
      requests: 200,
      ceiling: 16,
      maxRetries: 8,
    },
  },
  {
    name: '4 clients sharing a bucket of 60/s',
    options: {
      ...RTT20,
      server: { kind: 'bucket', ratePerSecond: 60, burst: 6 },
      requests: 120,
      clients: 4,
      ceiling: 4,
    },
  },
  {
    name: '8 clients sharing a bucket of 60/s',
    options: {
      ...RTT20,
      server: { kind: 'bucket', ratePerSecond: 60, burst: 6 },
      requests: 60,
      clients: 8,
      ceiling: 4,
    },
  },
];

/** Seeds every scenario runs with: the table shows the median and the range. */
export const TABLE_SEEDS = [1, 2, 3, 4, 5];

/** One run: the scenario's figures for one algorithm and seed, `versus` the bound or fault-free wall. */
export async function runScenario(
  sc: SimScenario,
  algorithm: SimAlgorithm,
  seed: number,
  extra: Partial<SimOptions> = {},
): Promise<SimResult & { versus: number }> {
  const r = await simulate({ ...sc.options, ...extra, algorithm, seed });
  if (!sc.versusFaultFree) return { ...r, versus: r.ratio };
  const clean = await simulate({ ...sc.options, noise: undefined, algorithm: 'fixed', seed });
  return { ...r, versus: r.wallMs / clean.wallMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[], f: (x: number) => string) =>
  `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

/** Print the comparison table (markdown): each algorithm in each scenario over the seeds. */
export async function printTable(
  write: (line: string) => void = console.log,
  filter: (name: string) => boolean = () => true,
  variants: [string, SimAlgorithm, Partial<SimOptions>][] = [
    ['this SDK', 'adaptive', {}],
    ['this SDK, no noise detection', 'adaptive', { noiseDetection: false }],
    ['the spec’s algorithm', 'spec', {}],
    ['naive (fixed pool)', 'fixed', {}],
  ],
  seeds: number[] = TABLE_SEEDS,
): Promise<void> {
  write(
    '| scenario | algorithm | time ÷ bound (÷ fault-free) | rejected | runs that stored all | slowest ÷ fastest client |',
  );
  write('|---|---|---|---|---|---|');
  for (const sc of SCENARIOS.filter((s) => filter(s.name))) {
    for (const [label, algorithm, extra] of variants) {
      const runs = await Promise.all(seeds.map((seed) => runScenario(sc, algorithm, seed, extra)));
      const x = (v: number) => `${v.toFixed(2)}x`;
      const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
      const spread =
        (sc.options.clients ?? 1) > 1
          ? range(
              runs.map((r) => Math.max(...r.clientMs) / Math.min(...r.clientMs)),
              x,
            )
          : '';
      const stored = runs.filter((r) => r.storedShare >= 1).length;
      write(
        `| ${sc.name} | ${label} | ${range(
          runs.map((r) => r.versus),
          x,
        )} | ${range(
          runs.map((r) => r.rejectedShare),
          pct,
        )} | ${stored} of ${runs.length} | ${spread} |`,
      );
    }
  }
}

// `npx tsx test/resilience/adaptive-sim.ts [name filter] [--seeds N]` prints the table
// (seeds 1-5, or 1-N).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--seeds');
  const count = at >= 0 ? Number(args.splice(at, 2)[1]) : TABLE_SEEDS.length;
  if (!(Number.isInteger(count) && count >= 1)) throw new RangeError('--seeds takes a positive integer');
  const needle = args[0];
  const seeds = Array.from({ length: count }, (_, i) => i + 1);
  await printTable(console.log, (name) => !needle || name.includes(needle), undefined, seeds);
}
