/**
 * The least time a demo load can take against the emulator's settings: the yardstick of
 * the summary's "wall time ÷ lower bound" and the dashed line of the report. Two limits
 * apply, and the larger binds; both are true lower bounds (no client can beat them):
 * - the admitted rate: the emulator's token bucket starts with one token when the limit is
 *   set (docs/emulator.md), refills at `rps` and holds at most `burst`, so a load that
 *   starts `idleSeconds` later finds `min(burst, 1 + rps × idleSeconds)` tokens, can have
 *   the rest admitted no faster than `rps`, and its last request still takes the added
 *   latency: `(requests − tokens at start) ÷ rps + latency`;
 * - latency at the ceiling: at most `maxConcurrency` requests are in flight and each takes
 *   at least the added latency, so some slot serves `⌈requests ÷ maxConcurrency⌉` of them
 *   one after another: `⌈requests ÷ maxConcurrency⌉ × latency`.
 * (The emulator adds up to half the latency again at random; the bounds use the fixed part,
 * the least a request can take.) A ratio to the rate bound means something only if the rate
 * was reached (the emulator throttled); otherwise the client side set the pace (round
 * trips, slow start, this machine's speed) and `binding` is false.
 */

/** The demo settings the bound depends on. */
export interface BoundInput {
  /** Requests the load needs (batches). */
  requests: number;
  batchSize: number;
  rps: number;
  /** The token bucket's size. */
  burst: number;
  /** Seconds from setting the rate limit to starting the load (the bucket refills meanwhile). */
  idleSeconds: number;
  /** Latency the emulator adds to every request, ms (the fixed part). */
  latencyMs: number;
  maxConcurrency: number;
}

/** The binding limit and how it reads. */
export interface LowerBound {
  kind: 'admitted rate' | 'latency at the ceiling';
  seconds: number;
  /** How the figure was reached, e.g. `(200 requests − 1 token) ÷ 20 req/s + 100 ms`. */
  detail: string;
  /** The rate that limit allows, vectors/s (the report draws it as a dashed line). */
  vectorsPerSecond: number;
  /** The dashed line's label. */
  label: string;
  /** Whether that limit was reached, so that a ratio to it means something. */
  binding: boolean;
}

/**
 * The larger of the two bounds (see the module comment); a tie goes to latency, which is
 * always reached when there is any. `throttled`: requests the emulator throttled.
 */
export function lowerBound(input: BoundInput, throttled: number): LowerBound {
  const { requests, batchSize, rps, maxConcurrency, latencyMs } = input;
  const tokens = Math.min(input.burst, 1 + rps * Math.max(0, input.idleSeconds));
  const rounds = Math.ceil(requests / maxConcurrency);
  const rateSeconds = Math.max(requests - tokens, 0) / rps + latencyMs / 1000;
  const latencySeconds = (rounds * latencyMs) / 1000;
  if (rateSeconds > latencySeconds) {
    return {
      kind: 'admitted rate',
      seconds: rateSeconds,
      detail: `(${fmt(requests)} requests − ${fmt(tokens)} token${tokens === 1 ? '' : 's'} in the bucket) ÷ ${fmt(rps)} req/s${latencyMs > 0 ? ` + ${fmt(latencyMs)} ms` : ''}`,
      vectorsPerSecond: rps * batchSize,
      label: `emulator admits ${fmt(rps)} req/s × ${fmt(batchSize)} = ${fmt(rps * batchSize)} vectors/s`,
      binding: throttled > 0,
    };
  }
  const vectorsPerSecond = latencyMs > 0 ? (maxConcurrency * batchSize * 1000) / latencyMs : Infinity;
  return {
    kind: 'latency at the ceiling',
    seconds: latencySeconds,
    detail: `${fmt(rounds)} round${rounds === 1 ? '' : 's'} of ${fmt(maxConcurrency)} in flight × ${fmt(latencyMs)} ms`,
    vectorsPerSecond,
    label: `${fmt(maxConcurrency)} in flight × ${fmt(batchSize)} ÷ ${fmt(latencyMs)} ms = ${fmt(vectorsPerSecond)} vectors/s`,
    binding: latencyMs > 0,
  };
}

function fmt(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 1 });
}
