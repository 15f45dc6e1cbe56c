/**
 * How long a retry waits, and ending that wait early: one concept, one place. The retry
 * loop computes the spec's delay (decorrelated jitter, or the server's hint capped at
 * `maxWait`); a {@link RetryWait} from the host's limiter may shorten it:
 *
 * - a throttle the limiter judged to be noise (within the share of throttles that arrive
 *   whatever the load) and that carries no hint is retried as soon as the host answers
 *   another request successfully (one retry per success): backing off does not make such
 *   throttles rarer, and clocking retries by successes means that, were the judgement
 *   wrong, they could not be sent faster than the server admits; the retry still passes
 *   the limiter's limit and pacing; once such a retry is throttled again, the call's
 *   later throttles wait as below (a call does not spend its attempts at one per success);
 * - a throttle without a hint sleeps through the host's {@link RetrySleepers}, which end
 *   such sleeps early when the host runs dry (nothing in flight or queued, the latest
 *   answer a success, some success since the sleep began): then the only thing left to
 *   wait for is this retry, which still goes through the limiter;
 * - once an early retry of a call was throttled again (not as noise), that call's later
 *   delays run their length, so early retries never spend a retry budget faster than the
 *   backoff would;
 * - a hint and any failure other than a throttle always wait their full delay.
 */
import { AbortError } from '../errors.js';
import { type Clock, throwIfAborted } from './clock.js';
import type { RetryCause, RetryWaits } from './limiter.js';

/** A retry delay being slept out, as the host's sleepers see it. */
interface Sleeper {
  /** When it would end (clock ms). */
  end: number;
  /** Woken by the next success (a noise throttle's retry), not only when the host runs dry. */
  clocked: boolean;
  ceiling: number;
  /** The host's success count when it began: only a later success makes it wakeable. */
  successesAtStart: number;
  wake: () => void;
}

/** What the host looks like when a release might wake sleepers. */
export interface HostTally {
  /** Permits held or being waited for: the host is dry when 0. */
  busy: number;
  /** Successful releases so far. */
  successes: number;
  /** Whether the latest success-or-throttle outcome was a success. */
  lastSucceeded: boolean;
  /** The host's learned limit (at most this many are woken, per ceiling). */
  limit: number;
}

/** The retry delays being slept out at one host, and their early wake. */
export class RetrySleepers {
  readonly #sleepers = new Set<Sleeper>();

  /**
   * @param clock Time for the sleeps.
   * @param enabled Whether sleeps may end early at all (`false`: every delay runs its length).
   * @param changed Told when the number of sleepers changes (the bulk engine counts them).
   */
  constructor(
    private readonly clock: Clock,
    private readonly enabled: boolean,
    private readonly changed: () => void,
  ) {}

  /** Retry delays being slept out now. */
  get size(): number {
    return this.#sleepers.size;
  }

  /**
   * Sleep `ms` for a call with `ceiling`, unless woken first (resolves `true` then, `false`
   * when it ran its length). Rejects with an `AbortError` if the signal fires.
   */
  async sleep(
    ms: number,
    ceiling: number,
    successes: number,
    signal?: AbortSignal,
    clocked = false,
  ): Promise<boolean> {
    throwIfAborted(signal);
    const early = new AbortController();
    let woken = false;
    const sleeper: Sleeper = {
      clocked,
      end: this.clock.now() + ms,
      ceiling,
      successesAtStart: successes,
      wake: () => {
        woken = true;
        early.abort();
      },
    };
    const onAbort = () => early.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#sleepers.add(sleeper);
    this.changed();
    try {
      await this.clock.sleep(ms, early.signal);
      return false;
    } catch (error) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      if (woken) return true;
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#sleepers.delete(sleeper);
    }
  }

  /** A request succeeded: wake the clocked sleeper that began first (one per success). */
  onSuccess(): void {
    for (const sleeper of this.#sleepers) {
      if (!sleeper.clocked) continue;
      this.#sleepers.delete(sleeper);
      sleeper.wake();
      return;
    }
  }

  /**
   * The host may have run dry: wake the sleepers that have seen a success since they
   * began, up to the host's limit (per their ceiling), soonest-ending first (the order
   * their sleeps would have ended in anyway). Not while the latest answer was a throttle:
   * the server is not admitting just now.
   */
  wakeIfDry(host: HostTally): void {
    if (!this.enabled || this.#sleepers.size === 0 || host.busy > 0 || !host.lastSucceeded) return;
    const ready = [...this.#sleepers]
      .filter((s) => host.successes > s.successesAtStart)
      .sort((a, b) => a.end - b.end);
    let woken = 0;
    for (const sleeper of ready) {
      if (woken >= Math.min(host.limit, sleeper.ceiling)) break;
      woken += 1;
      this.#sleepers.delete(sleeper);
      sleeper.wake();
    }
  }
}

/** The waits between one call's attempts (one per call: it remembers its early retries). */
export class RetryWait implements RetryWaits {
  #early = false;
  /** The last wait was clocked by successes (a noise throttle's retry)... */
  #clocked = false;
  /** ...and was throttled again: no more clocked retries for this call. */
  #clockedAgain = false;
  #noEarlyRetries = false;
  #mode: 'clocked' | 'wakeable' | 'full' = 'full';

  constructor(
    private readonly clock: Clock,
    private readonly ceiling: number,
    private readonly host?: { sleepers: RetrySleepers; successes: () => number } | undefined,
  ) {}

  plan(delayMs: number, cause: RetryCause): number {
    const noise = cause.throttle && cause.verdict === 'noise';
    // An early retry throttled again: this call's delays run their length from now on.
    if (this.#early && cause.throttle && !noise) this.#noEarlyRetries = true;
    // A retry clocked by successes throttled again, even as noise: random throttles hit one
    // request twice running at p² (6 % at 25 %), while a limit taken for noise hits such
    // retries again and again, each at the next success, until the call's attempts are
    // spent (a single process against a bucket of 60/s with a round trip of 20-35 ms lost
    // a batch in 11 of 40 simulated runs; now 1). From then on its throttles wait as
    // congestion's do: their delay, ended early only when the host runs dry.
    if (this.#clocked && cause.throttle) this.#clockedAgain = true;
    if (this.host && noise && !cause.hinted && !this.#clockedAgain) {
      this.#mode = 'clocked';
      return delayMs;
    }
    this.#mode = this.host && cause.throttle && !cause.hinted && !this.#noEarlyRetries ? 'wakeable' : 'full';
    return delayMs;
  }

  async wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#mode === 'clocked' && this.host) {
      // A noise throttle: not an early retry in the sense above (it says nothing of load).
      await this.host.sleepers.sleep(ms, this.ceiling, this.host.successes(), signal, true);
      this.#early = false;
      this.#clocked = true;
      return;
    }
    this.#clocked = false;
    if (this.#mode === 'wakeable' && this.host) {
      this.#early = await this.host.sleepers.sleep(ms, this.ceiling, this.host.successes(), signal);
      return;
    }
    this.#early = false;
    await this.clock.sleep(ms, signal);
  }
}
