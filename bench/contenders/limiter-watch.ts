/**
 * Watches one host's limiter during a benchmark run: its transitions, and every 10 ms
 * the limit, requests in flight, acquirers queued, pacing, dispatches (by wrapping the
 * limiter's `acquire`) and the batches sleeping out a retry delay (the limiter's own
 * count: throttled retries sleep through `limiter.retryWait`, which may end them early).
 * Gives time means for the table's notes and a limit-over-time series for `--trace`.
 */
import { type Logger, silentLogger } from '../../src/log.js';
import type { AdaptiveTransition, AimdLimiter } from '../../src/resilience/adaptive.js';

/** How often the limiter is read (ms): fine enough for means over seconds. */
const SAMPLE_MS = 10;
/** One line of the limit-over-time series per this many samples (100 ms). */
const SERIES_EVERY = 10;

/** Time means and a series, from samples of one limiter. */
export class LimiterWatch {
  /** Pass as the client's logger: it counts retries. */
  readonly logger: Logger;
  readonly #t0 = performance.now();
  readonly #transitions: (AdaptiveTransition & {
    rttMs?: number | undefined;
    inFlight?: number | undefined;
  })[] = [];
  readonly #series: string[] = [];
  #limiter: AimdLimiter | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retries = 0;
  #samples = 0;
  #sums = { inFlight: 0, limit: 0, backoff: 0, paced: 0 };
  #limitMin = Number.POSITIVE_INFINITY;
  #lastSample = performance.now();
  /** Time (ms) with nothing in flight or queued while some batch slept out a retry delay. */
  #idleOnRetries = 0;
  /** Permits granted (dispatches), counted by wrapping the limiter's `acquire`. */
  #dispatches = 0;
  #dispatchesAtSample = 0;
  #dispatchesAtSeries = 0;
  #seriesAt = 0;
  /** While pacing: time (ms), dispatches, and the integral of the pacing rate (req/s x ms). */
  #paced = { ms: 0, dispatches: 0, rateMs: 0 };

  constructor(private readonly ceiling: number) {
    this.logger = {
      ...silentLogger,
      debug: (_message, fields) => {
        if (fields.event === 'throttled_response') this.#retries += 1;
      },
    };
  }

  /** Transition listener for the limiter options. */
  readonly onTransition = (t: AdaptiveTransition): void => {
    const s = this.#limiter?.snapshot();
    this.#transitions.push({ ...t, rttMs: s?.smoothedRttMs, inFlight: s?.inFlight });
  };

  /** Start sampling `limiter`. */
  start(limiter: AimdLimiter): void {
    this.#limiter = limiter;
    // Count dispatches: the retry loop takes one permit per attempt, the moment it leaves.
    const acquire = limiter.acquire.bind(limiter);
    limiter.acquire = async (ceiling, signal, maxWaitMs) => {
      const permit = await acquire(ceiling, signal, maxWaitMs);
      this.#dispatches += 1;
      return permit;
    };
    this.#lastSample = performance.now();
    this.#seriesAt = this.#lastSample;
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Short figures for the table: means over the run. */
  notes(): string[] {
    const s = this.#limiter?.snapshot();
    const n = Math.max(this.#samples, 1);
    const mean = (x: number) => (x / n).toFixed(1);
    const notes = [
      `limit mean ${mean(this.#sums.limit)} (min ${Number.isFinite(this.#limitMin) ? this.#limitMin : '-'})`,
      `in flight mean ${mean(this.#sums.inFlight)}`,
      `backing off mean ${mean(this.#sums.backoff)} (${this.#retries} retries)`,
      `${s?.decreases ?? 0} dec / ${s?.increases ?? 0} inc`,
      `idle on retry sleeps ${(this.#idleOnRetries / 1000).toFixed(2)} s`,
    ];
    if (this.#paced.ms > 0) {
      // What the pacer let through against the rate it was set to (other brakes may bind too).
      const sent = (this.#paced.dispatches * 1000) / this.#paced.ms;
      const rate = this.#paced.rateMs / this.#paced.ms;
      notes.push(
        `paced ${Math.max(1, Math.round((100 * this.#sums.paced) / n))} % of the time, sending ${sent.toFixed(0)}/s at a set rate of ${rate.toFixed(0)}/s`,
      );
    }
    return notes;
  }

  /** Transitions and the 100 ms series, timestamped from the start of the run. */
  trace(): string[] {
    const at = (ms: number) => `${((ms - this.#t0) / 1000).toFixed(3)} s`;
    const transitions = this.#transitions.map(
      (t) =>
        `${at(t.at)} ${t.kind} ${t.before}->${t.after}` +
        (t.pacingRate === undefined ? '' : ` pacing ${t.pacingRate.toFixed(1)}/s`) +
        ` (srtt ${t.rttMs?.toFixed(1) ?? '-'} ms, in flight ${t.inFlight ?? '-'})`,
    );
    // A long saw-tooth repeats itself: its start and end tell the story.
    const shown =
      transitions.length > 100
        ? [...transitions.slice(0, 80), `... ${transitions.length - 100} more ...`, ...transitions.slice(-20)]
        : transitions;
    return [
      ...shown,
      '-- every 100 ms: limit / in flight / queued / backing off / pacing rate / sent since the last line',
      ...this.#series,
    ];
  }

  #sample(): void {
    const limiter = this.#limiter;
    if (!limiter) return;
    const s = limiter.snapshot();
    if (s.limit === 0) return;
    const now = performance.now();
    const dt = now - this.#lastSample;
    this.#lastSample = now;
    if (s.inFlight === 0 && s.queued === 0 && s.sleeping > 0) this.#idleOnRetries += dt;
    const sent = this.#dispatches - this.#dispatchesAtSample;
    this.#dispatchesAtSample = this.#dispatches;
    if (s.pacingRate !== undefined) {
      this.#paced.ms += dt;
      this.#paced.dispatches += sent;
      this.#paced.rateMs += s.pacingRate * dt;
    }
    const limit = Math.min(s.limit, this.ceiling);
    this.#samples += 1;
    this.#sums.inFlight += s.inFlight;
    this.#sums.limit += limit;
    this.#sums.backoff += s.sleeping;
    if (s.pacingRate !== undefined) this.#sums.paced += 1;
    this.#limitMin = Math.min(this.#limitMin, limit);
    if (this.#samples % SERIES_EVERY === 1) {
      const pacing = s.pacingRate === undefined ? '-' : `${s.pacingRate.toFixed(1)}/s`;
      const sentRate =
        ((this.#dispatches - this.#dispatchesAtSeries) * 1000) / Math.max(now - this.#seriesAt, 1);
      this.#dispatchesAtSeries = this.#dispatches;
      this.#seriesAt = now;
      this.#series.push(
        `${((now - this.#t0) / 1000).toFixed(1)} s  ${limit} / ${s.inFlight} / ${s.queued} / ` +
          `${s.sleeping} / ${pacing} / ${sentRate.toFixed(0)}/s`,
      );
    }
  }
}
