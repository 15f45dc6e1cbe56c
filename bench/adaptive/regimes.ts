/**
 * The server behaviours of `bench/adaptive-regimes.ts` and the least time each allows for
 * a load, given the emulator's measured service time of one request.
 */
import type { FaultConfig } from '../../src/local.js';

/** A server behaviour, its default size, and its lower bound. */
export interface Regime {
  name: string;
  label: string;
  faults: (latencyMs: number) => FaultConfig;
  /** Default vectors (about 4-6 s at the bound). */
  vectors: number;
  /** Lower bound (ms) for `requests` requests of service time `serviceMs` from a client of `ceiling`. */
  bound: (requests: number, serviceMs: number, ceiling: number) => number;
}

/**
 * Token bucket: after at most `burst` stored tokens, tokens arrive at `rps`, and the last
 * request still takes one service time. Never below what the client's own ceiling allows
 * (`ceiling` requests per service time).
 */
export function rateRegime(name: string, rps: number, burst: number, vectors: number, label: string): Regime {
  return {
    name,
    label,
    vectors,
    faults: (latencyMs) => ({ rateLimit: { rps, burst }, latency: { fixedMs: latencyMs } }),
    bound: (requests, serviceMs, ceiling) =>
      Math.max(
        (Math.max(requests - burst, 0) / rps) * 1000 + serviceMs,
        Math.ceil(requests / ceiling) * serviceMs,
      ),
  };
}

/** In-flight cap: `cap` requests at a time (or the ceiling, if lower), each one service time. */
export function inFlightRegime(cap: number, vectors: number): Regime {
  return {
    name: `inflight-${cap}`,
    label: `in-flight cap ${cap}`,
    vectors,
    faults: (latencyMs) => ({ maxInFlight: cap, latency: { fixedMs: latencyMs } }),
    bound: (requests, serviceMs, ceiling) => Math.ceil(requests / Math.min(cap, ceiling)) * serviceMs,
  };
}

/**
 * The three regimes. With the default 8 ms latency a round trip is about 11 ms, so one
 * request per round trip is about 90/s: 300/s is looser than that (about 3.3 requests per
 * round trip) yet binds at both ceilings (8 in flight would send about 700/s); 40/s is
 * tighter than one request per round trip.
 */
export const REGIMES: Regime[] = [
  rateRegime('rate-loose', 300, 30, 60_000, 'token bucket 300/s, burst 30'),
  rateRegime('rate-tight', 40, 4, 12_000, 'token bucket 40/s, burst 4'),
  inFlightRegime(3, 50_000),
];
