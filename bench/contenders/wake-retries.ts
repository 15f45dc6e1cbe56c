/**
 * An experiment, not the SDK as shipped: a {@link Clock} that cuts a retry's backoff sleep
 * short when the host's limiter has nothing in flight and nothing queued. It
 * tests one proposed fix: in a limiter-gated bulk call, a batch throttled near the end of
 * the input should not sleep out a decorrelated-jitter delay (≥ 0.25 s) while the
 * connection sits idle; the limiter, whose limit and pacing already went down for that
 * congestion event, is the brake.
 *
 * The retry loop announces each backoff sleep with its `throttled_response` DEBUG record
 * immediately before it calls `clock.sleep`, so a sleep right after that record is a
 * retry's; every other sleep (the pacer's send times) passes through untouched.
 */
import type { Logger } from '../../src/log.js';
import type { AimdLimiter } from '../../src/resilience/adaptive.js';
import { type Clock, systemClock } from '../../src/resilience/clock.js';

interface Sleeper {
  end: number;
  wake: () => void;
}

/** A clock and logger pair whose retry sleeps end early when the host idles. */
export class WakeRetries {
  readonly clock: Clock;
  readonly #sleepers = new Set<Sleeper>();
  #nextIsRetry = false;
  #limiter: AimdLimiter | undefined;
  #ceiling = Number.POSITIVE_INFINITY;
  #scheduled = false;
  /** Retry sleeps cut short. */
  woken = 0;

  constructor() {
    this.clock = {
      now: () => systemClock.now(),
      sleep: (ms, signal) => {
        if (!this.#nextIsRetry) return systemClock.sleep(ms, signal);
        this.#nextIsRetry = false;
        return this.#retrySleep(ms, signal);
      },
    };
  }

  /** Wrap the client's logger: marks the next sleep as a retry's. */
  wrapLogger(logger: Logger): Logger {
    return {
      ...logger,
      debug: (message, fields) => {
        if (fields.event === 'throttled_response') this.#nextIsRetry = true;
        logger.debug(message, fields);
      },
    };
  }

  /** Watch `limiter` (the bulk call's ceiling given) and wake retries into its idle slots. */
  attach(limiter: AimdLimiter, ceiling: number): () => void {
    this.#limiter = limiter;
    this.#ceiling = ceiling;
    return limiter.onChange(() => this.#schedule());
  }

  #retrySleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        end: systemClock.now() + ms,
        wake: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.#sleepers.delete(sleeper);
          resolve();
        },
      };
      const timer = setTimeout(sleeper.wake, ms);
      const onAbort = () => {
        clearTimeout(timer);
        this.#sleepers.delete(sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.add(sleeper);
      this.#schedule();
    });
  }

  /** Look after the bulk engine has had its turn to refill the window with fresh batches. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const limiter = this.#limiter;
      if (!limiter || this.#sleepers.size === 0) return;
      // Only a host with nothing in flight or queued: a busy window is the limiter's to fill.
      if (limiter.inFlight + limiter.queued > 0) return;
      let free = Math.min(limiter.limit, this.#ceiling);
      // Soonest-ending first: the order the sleeps would have ended in anyway.
      const order = [...this.#sleepers].sort((a, b) => a.end - b.end);
      for (const sleeper of order) {
        if (free <= 0) break;
        free -= 1;
        this.woken += 1;
        sleeper.wake();
      }
    });
  }
}
