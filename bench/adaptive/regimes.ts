/**
 * The server behaviours of `bench/adaptive-regimes.ts` and the least time each allows for
 * a load, given the emulator's measured service time of one request. Two kinds, to be
 * measured side by side (docs/adaptive.md): limits that depend on load (a token bucket,
 * a cap on requests in flight), judged against the bound they allow; and throttles or
 * faults that arrive whatever the load, judged against the same contender's fault-free
 * run (wall ÷ fault-free wall).
 */
import type { FaultConfig } from '../../src/local.js';

/** Retry settings a regime needs of every contender alike (seconds, like `RetryConfig`). */
export interface RegimeRetries {
  maxRetries: number;
  /** Per-attempt timeout, seconds (hangs need one shorter than the default 30). */
  timeout?: number;
}

/** A server behaviour, its default size, and its lower bound. */
export interface Regime {
  name: string;
  label: string;
  /** Latency (ms) of every admitted request. */
  latencyMs: number;
  faults: FaultConfig;
  /** Default vectors. */
  vectors: number;
  /**
   * Lower bound (ms) for `requests` requests of service time `serviceMs` from a client of
   * `ceiling`; absent for regimes judged against the contender's own fault-free run.
   */
  bound?: (requests: number, serviceMs: number, ceiling: number) => number;
  /** Retry settings given to every contender (default: each contender's defaults). */
  retries?: RegimeRetries;
}

/**
 * Token bucket: after at most `burst` stored tokens, tokens arrive at `rps`, and the last
 * request still takes one service time. Never below what the client's own ceiling allows
 * (`ceiling` requests per service time).
 */
export function rateRegime(
  name: string,
  rps: number,
  burst: number,
  vectors: number,
  latencyMs: number,
  label: string,
): Regime {
  return {
    name,
    label,
    vectors,
    latencyMs,
    faults: { rateLimit: { rps, burst }, latency: { fixedMs: latencyMs } },
    bound: (requests, serviceMs, ceiling) =>
      Math.max(
        (Math.max(requests - burst, 0) / rps) * 1000 + serviceMs,
        Math.ceil(requests / ceiling) * serviceMs,
      ),
  };
}

/** In-flight cap: `cap` requests at a time (or the ceiling, if lower), each one service time. */
export function inFlightRegime(cap: number, vectors: number, latencyMs: number): Regime {
  return {
    name: `inflight-${cap}`,
    label: `in-flight cap ${cap}, ${latencyMs} ms`,
    vectors,
    latencyMs,
    faults: { maxInFlight: cap, latency: { fixedMs: latencyMs } },
    bound: (requests, serviceMs, ceiling) => Math.ceil(requests / Math.min(cap, ceiling)) * serviceMs,
  };
}

/** Faults that arrive whatever the load, judged against the contender's fault-free run. */
export function faultRegime(
  name: string,
  label: string,
  faults: FaultConfig,
  vectors: number,
  latencyMs: number,
  retries: RegimeRetries,
): Regime {
  return { name, label, vectors, latencyMs, faults: { ...faults, latency: { fixedMs: latencyMs } }, retries };
}

/**
 * 30 % of requests faulted, every kind the emulator has (each 2-3 %): throttles that
 * arrive whatever the load (429 and 503, half of them with Retry-After: 1), other 5xx,
 * resets before and after the write was stored, hangs, truncated, malformed and slow
 * bodies.
 */
export const CHAOS_30: FaultConfig = {
  errorRates: { 429: 0.03, 500: 0.03, 502: 0.025, 503: 0.03, 504: 0.025 },
  errorRetryAfter: { seconds: 1, share: 0.5 },
  resetRate: 0.025,
  resetAfterWriteRate: 0.025,
  truncateRate: 0.025,
  malformedRate: 0.025,
  hangRate: 0.02,
  slowBodyRate: 0.02,
  slowBodyMs: 500,
};

/**
 * Retries for the regimes of random faults, for every contender alike: at a share p of
 * random failures a batch is lost with probability p^(attempts), 0.4 % per batch at 25 %
 * with the default 4 attempts; 9 attempts make it 4e-6.
 */
const NOISY: RegimeRetries = { maxRetries: 8 };

/** The scenarios of issue 12 (default), in its order. */
export const REGIMES: Regime[] = [
  rateRegime('bucket-40', 40, 4, 10_000, 20, 'token bucket 40/s (burst 4), 20 ms'),
  inFlightRegime(4, 10_000, 50),
  rateRegime('rate-2', 2, 1, 3_000, 300, 'token bucket 2/s (burst 1), 300 ms'),
  faultRegime(
    'random-429-5',
    'random 429 on 5 %, no limit',
    { errorRates: { 429: 0.05 } },
    100_000,
    20,
    NOISY,
  ),
  faultRegime(
    'random-429-12',
    'random 429 on 12 %, no limit',
    { errorRates: { 429: 0.12 } },
    100_000,
    20,
    NOISY,
  ),
  faultRegime(
    'random-429-25',
    'random 429 on 25 %, no limit',
    { errorRates: { 429: 0.25 } },
    100_000,
    20,
    NOISY,
  ),
  faultRegime(
    'random-503-ra',
    'random 503 with Retry-After: 1 on 10 %, no limit',
    { errorRates: { 503: 0.1 }, errorRetryAfter: { seconds: 1 } },
    100_000,
    20,
    NOISY,
  ),
  faultRegime('chaos-30', '30 % faults of every kind', CHAOS_30, 100_000, 20, { maxRetries: 10, timeout: 1 }),
];

/** Earlier regimes, run when named with `--regime`. */
export const MORE_REGIMES: Regime[] = [
  rateRegime('rate-loose', 300, 30, 60_000, 8, 'token bucket 300/s, burst 30, 8 ms'),
  rateRegime('rate-tight', 40, 4, 12_000, 8, 'token bucket 40/s, burst 4, 8 ms'),
  inFlightRegime(3, 50_000, 8),
];
