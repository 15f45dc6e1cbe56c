/**
 * Recording what a bulk upsert did over time, for the summary and the report: periodic
 * samples of the `onProgress` state, every adaptive-limit transition, taken from the
 * SDK's own DEBUG records through the logger the CLI passes to `Pinecone` (so the
 * saw-tooth in the picture is exact, not whatever a 200 ms sample happened to catch), and
 * when each throttled response arrived, from the retry loop's `Throttled response` records
 * (so throttles can be counted in bins of any width, the same bins for the bars and the
 * hover read-out).
 */
import type { UpsertProgress } from '../data/index.js';
import type { LogFields, Logger } from '../log.js';

/** One sample of the client's state. `t` is seconds since the recording started. */
export interface TimelineSample {
  t: number;
  /** Vectors confirmed written so far. */
  upserted: number;
  inFlight: number;
  /** The adaptive limit. */
  limit: number;
  /** Throttled responses seen so far. */
  throttled: number;
}

/** One adaptive-limit transition, from the SDK's `AIMD limiter ...` record. */
export interface LimitChange {
  t: number;
  kind: 'decrease' | 'increase';
  from: number;
  to: number;
  ceiling: number;
}

/** Everything the report draws. */
export interface Timeline {
  samples: TimelineSample[];
  changes: LimitChange[];
  /** When each throttled response arrived, seconds since the start. */
  throttles: number[];
  /** Seconds from start to stop. */
  duration: number;
}

const DECREASED = /^AIMD limiter decreased: before=(\d+) after=(\d+) ceiling=(\d+)/;
const INCREASED = /^AIMD limiter increased: now=(\d+) ceiling=(\d+)/;
const THROTTLED = /^Throttled response: status=(\w+)/;
/** The statuses the limiter counts as throttling (REST, gRPC); others are retried errors. */
const THROTTLE_STATUSES = new Set(['429', '503', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE']);

/** Records samples and limiter transitions; see the module comment. */
export class TimelineRecorder {
  /** Limit decreases seen. */
  decreases = 0;
  /** Limit increases seen. */
  increases = 0;
  /** `Throttled response: ...` records seen (one per retried attempt, throttled or not). */
  throttleRecords = 0;
  readonly #samples: TimelineSample[] = [];
  readonly #changes: LimitChange[] = [];
  /** Arrival of each throttled response that was retried (from the log records). */
  readonly #logged: number[] = [];
  /** When `onProgress` first counted each throttled response (later, but never missing one). */
  readonly #reported: number[] = [];
  readonly #now: () => number;
  #latest: UpsertProgress = { upserted: 0, inFlight: 0, limit: 0, throttled: 0 };
  #start: number;
  #stop: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastLimit: number | undefined;

  /** @param now time source in ms (tests pass a fake). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#start = now();
  }

  /** Seconds since the recording started. */
  elapsed(): number {
    return ((this.#stop ?? this.#now()) - this.#start) / 1000;
  }

  /** Restart the clock and sample every `intervalMs` until {@link stop}. */
  start(intervalMs = 200): void {
    this.#start = this.#now();
    this.#stop = undefined;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  /** Feed an `onProgress` report. */
  observe(progress: UpsertProgress): void {
    const t = this.elapsed();
    for (let n = this.#latest.throttled; n < progress.throttled; n++) this.#reported.push(t);
    this.#latest = { ...progress };
    if (this.#lastLimit === undefined) this.#lastLimit = progress.limit;
  }

  /** Take a sample of the latest state now. */
  sample(): void {
    this.#samples.push({ t: this.elapsed(), ...this.#latest });
  }

  /** Stop sampling (takes a last sample). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.sample();
    this.#stop = this.#now();
  }

  /**
   * A logger for `new Pinecone({ logger })` that records limiter transitions and counts
   * throttle records, then passes every record on to `next` (if given).
   */
  logger(next?: Logger): Logger {
    const see = (message: string) => {
      const down = DECREASED.exec(message);
      if (down) {
        this.decreases++;
        this.#change('decrease', Number(down[1]), Number(down[2]), Number(down[3]));
        return;
      }
      const up = INCREASED.exec(message);
      if (up) {
        this.increases++;
        const to = Number(up[1]);
        this.#change('increase', this.#lastLimit ?? to - 1, to, Number(up[2]));
        return;
      }
      const retried = THROTTLED.exec(message);
      if (retried) {
        this.throttleRecords++;
        if (THROTTLE_STATUSES.has(retried[1] as string)) this.#logged.push(this.elapsed());
      }
    };
    return {
      debug: (message: string, fields: LogFields) => {
        see(message);
        next?.debug(message, fields);
      },
      info: (message: string, fields: LogFields) => {
        see(message);
        next?.info(message, fields);
      },
      warn: (message: string, fields: LogFields) => {
        see(message);
        next?.warn(message, fields);
      },
    };
  }

  /** What was recorded. */
  timeline(): Timeline {
    return {
      samples: [...this.#samples],
      changes: [...this.#changes],
      // The records' exact times, unless some throttle was never retried (and so not logged).
      throttles: [...(this.#logged.length >= this.#reported.length ? this.#logged : this.#reported)],
      duration: this.elapsed(),
    };
  }

  #change(kind: LimitChange['kind'], from: number, to: number, ceiling: number): void {
    this.#changes.push({ t: this.elapsed(), kind, from, to, ceiling });
    this.#lastLimit = to;
  }
}

/**
 * A rate from cumulative counts: at each sample, the increase of `pick` over the preceding
 * `windowSeconds` divided by the time it took (shorter windows at the start).
 */
export function windowedRate(
  samples: readonly TimelineSample[],
  pick: (s: TimelineSample) => number,
  windowSeconds = 1,
): { t: number; value: number }[] {
  const out: { t: number; value: number }[] = [];
  let j = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as TimelineSample;
    while (j < i && s.t - (samples[j + 1] as TimelineSample).t >= windowSeconds) j++;
    const base = samples[j] as TimelineSample;
    const dt = s.t - base.t;
    out.push({ t: s.t, value: dt > 0 ? (pick(s) - pick(base)) / dt : 0 });
  }
  return out;
}
