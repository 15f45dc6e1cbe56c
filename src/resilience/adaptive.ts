/**
 * The adaptive per-host limiter: AIMD on the number of requests in flight plus dispatch
 * pacing, behind the {@link HostLimiter} interface the retry loop uses. This file owns
 * the queue (FIFO, abortable), the sleeping (pacing waits, and the retry delays it may
 * end early when the host idles) and the logs; the state and its decisions live behind
 * {@link LimiterState} (`limiter-state.ts`) so they can be swapped.
 */
import { AbortError, ValidationError } from '../errors.js';
import { ADAPTIVE_LOGGER, aimdDecreasedMessage, aimdIncreasedMessage, type Logger } from '../log.js';
import type { Clock } from './clock.js';
import type { AttemptOutcome, HostLimiter, Permit } from './limiter.js';
import {
  AimdState,
  type Dispatch,
  type LimiterSnapshot,
  type LimiterState,
  type LimitTransition,
} from './limiter-state.js';
import type { PacerOptions } from './pacer.js';

/** A transition as listeners see it: which host, and when (clock ms). */
export interface AdaptiveTransition extends LimitTransition {
  host: string;
  at: number;
}

/** Listener of {@link AimdLimiter.onTransition}. */
export type TransitionListener = (transition: AdaptiveTransition) => void;

/** Options of {@link AimdLimiter}. Nothing is global: time and logs come from here. */
export interface AimdLimiterOptions {
  clock: Clock;
  logger: Logger;
  /** The index host this limiter gates (appears in logs and transitions). */
  host: string;
  /** Pacer tuning, or `false` for plain AIMD (Retry-After pauses still apply). */
  pacing?: PacerOptions | false | undefined;
  /** Slow start for a fresh host (default `true`); see `AimdStateOptions.slowStart`. */
  slowStart?: boolean | undefined;
  /**
   * End retry delays early when the host runs dry (default `true`); `false` makes
   * {@link AimdLimiter.backoff} always sleep the full delay (e.g. to measure a plain AIMD).
   */
  wakeRetries?: boolean | undefined;
  /**
   * Replace the in-process state (e.g. with one coordinated across processes). It must
   * call `notify` for each transition so logs and listeners keep working.
   */
  createState?: ((notify: (transition: LimitTransition) => void) => LimiterState) | undefined;
  /** A first transition listener (more via {@link AimdLimiter.onTransition}). */
  onTransition?: TransitionListener | undefined;
}

/** {@link LimiterSnapshot} plus the queue's own counters. */
export interface AimdLimiterSnapshot extends LimiterSnapshot {
  host: string;
  /** Permits held now. */
  inFlight: number;
  /** Acquirers waiting (for a slot or for their send time). */
  queued: number;
  /** Retry delays being slept out through {@link AimdLimiter.backoff}. */
  sleeping: number;
}

interface Waiter {
  ceiling: number;
  signal: AbortSignal | undefined;
  resolve: (permit: Permit) => void;
  reject: (error: unknown) => void;
  onAbort: (() => void) | undefined;
}

/** A retry delay being slept out through {@link AimdLimiter.backoff}. */
interface Sleeper {
  /** When it would end (clock ms). */
  end: number;
  ceiling: number;
  /** The limiter's success count when it began: only a later success makes it wakeable. */
  successesAtStart: number;
  wake: () => void;
}

/**
 * Adaptive limiter of one host. `acquire(ceiling)` waits for a slot under
 * `min(limit, ceiling)` and, when pacing or paused, for the next send time; the permit's
 * `release(outcome)` feeds the AIMD decisions. Waiters are served first come, first
 * served; at most one waits for a send time at a time, so each send slot is reserved
 * with the rate and limit current when it falls due.
 */
export class AimdLimiter implements HostLimiter {
  /** The host this limiter gates. */
  readonly host: string;
  readonly #clock: Clock;
  readonly #wakeRetries: boolean;
  readonly #logger: Logger;
  readonly #state: LimiterState;
  readonly #listeners = new Set<TransitionListener>();
  readonly #changeListeners = new Set<() => void>();
  readonly #queue: Waiter[] = [];
  /** Slots taken: permits in flight plus the waiter sleeping until its send time. */
  #held = 0;
  #inFlight = 0;
  /** The waiter that holds a slot and sleeps until its send time, if any. */
  #pacing: Waiter | undefined;
  readonly #sleepers = new Set<Sleeper>();
  /** Successful releases so far. */
  #successes = 0;
  /** Whether the latest success-or-throttle outcome was a success. */
  #lastSucceeded = false;

  constructor(options: AimdLimiterOptions) {
    this.host = options.host;
    this.#clock = options.clock;
    this.#wakeRetries = options.wakeRetries ?? true;
    this.#logger = options.logger;
    const notify = (t: LimitTransition) => this.#transition(t);
    this.#state = options.createState
      ? options.createState(notify)
      : new AimdState({ pacing: options.pacing, slowStart: options.slowStart, notify });
    if (options.onTransition) this.#listeners.add(options.onTransition);
  }

  /**
   * Wait for leave to send one attempt. `ceiling` is the call's `maxConcurrency`
   * (a positive integer, or `Infinity` for no cap of the call's own). Rejects at once
   * with an {@link AbortError} (cause: the signal's reason) if the signal fires while
   * waiting, leaving no listener or timer behind.
   */
  acquire(ceiling: number, signal?: AbortSignal): Promise<Permit> {
    if (!(Number.isInteger(ceiling) || ceiling === Number.POSITIVE_INFINITY) || ceiling < 1) {
      return Promise.reject(
        new ValidationError(`maxConcurrency must be a positive integer, got ${ceiling}`, 'maxConcurrency'),
      );
    }
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = { ceiling, signal, resolve, reject, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => this.#abandon(waiter);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      this.#pump();
    });
  }

  /**
   * Sleep out a retry's backoff delay of `ms`, unless the host runs dry first: the sleep
   * ends early (resolving `true`; `false` when it ran its length) once the host has
   * nothing in flight and nothing queued, some request has succeeded since the sleep
   * began, and the latest answer was a success, not a throttle. Then the server is
   * admitting again and the only thing left to wait for is
   * this retry, which still goes through `acquire` (the lowered limit, pacing, any
   * Retry-After pause). At most `min(limit, ceiling)` sleepers are woken at a time,
   * soonest-ending first. Rejects with an {@link AbortError} if the signal fires.
   *
   * The retry loop sleeps here only after a throttle without a server hint, and not again
   * once an early retry of the same call was throttled, so early retries cannot burn a
   * retry budget the way a tight loop would.
   */
  async backoff(ms: number, ceiling: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) throw new AbortError(signal.reason);
    const early = new AbortController();
    let woken = false;
    const sleeper: Sleeper = {
      end: this.#clock.now() + ms,
      ceiling,
      successesAtStart: this.#successes,
      wake: () => {
        woken = true;
        early.abort();
      },
    };
    const onAbort = () => early.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#sleepers.add(sleeper);
    // The bulk engine counts sleeping batches apart from awake ones.
    this.#changed();
    try {
      await this.#clock.sleep(ms, early.signal);
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

  /** Retry delays being slept out through {@link backoff} now. */
  get sleeping(): number {
    return this.#sleepers.size;
  }

  /** The learned limit (0 before the first acquire). A call's effective limit is `min(limit, ceiling)`. */
  get limit(): number {
    return this.#state.snapshot().limit;
  }

  /** Permits held now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Acquirers waiting. */
  get queued(): number {
    return this.#queue.length + (this.#pacing ? 1 : 0);
  }

  /** Pacing rate (req/s), `undefined` when not pacing. */
  get pacingRate(): number | undefined {
    return this.#state.snapshot().pacingRate;
  }

  /** Throttled responses seen. */
  get throttles(): number {
    return this.#state.snapshot().throttles;
  }

  /** Times the limit went down. */
  get decreases(): number {
    return this.#state.snapshot().decreases;
  }

  /** Times the limit went up by one. */
  get increases(): number {
    return this.#state.snapshot().increases;
  }

  /** Nothing in flight and nobody waiting (safe to forget). */
  get idle(): boolean {
    return this.#held === 0 && this.#queue.length === 0;
  }

  /** Everything at once, for telemetry. */
  snapshot(): AimdLimiterSnapshot {
    return {
      ...this.#state.snapshot(),
      host: this.host,
      inFlight: this.#inFlight,
      queued: this.queued,
      sleeping: this.#sleepers.size,
    };
  }

  /** Be told of every transition. Returns a function that unsubscribes. */
  onTransition(listener: TransitionListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Be told after anything that may have changed `limit`, `inFlight` or `queued`, other
   * than a new acquire (a release, an abandoned wait, a transition). Returns a function
   * that unsubscribes. The bulk engine uses it to refill the window.
   */
  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener);
    return () => {
      this.#changeListeners.delete(listener);
    };
  }

  /** Grant slots to waiters in order while the head fits. */
  #pump(): void {
    while (this.#pacing === undefined) {
      const waiter = this.#queue[0];
      if (!waiter || !this.#state.admit(waiter.ceiling, this.#held)) return;
      this.#queue.shift();
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      this.#held += 1;
      const now = this.#clock.now();
      if (this.#state.sendAt(now) <= now) {
        this.#send(waiter, now);
      } else {
        this.#pacing = waiter;
        void this.#waitForSendTime(waiter);
      }
    }
  }

  /** Sleep until the send time; re-read it after waking (a pause may have begun meanwhile). */
  async #waitForSendTime(waiter: Waiter): Promise<void> {
    let now = this.#clock.now();
    try {
      for (let at = this.#state.sendAt(now); at > now; at = this.#state.sendAt(now)) {
        await this.#clock.sleep(at - now, waiter.signal);
        now = this.#clock.now();
      }
    } catch (error) {
      this.#pacing = undefined;
      this.#held -= 1;
      waiter.reject(error);
      this.#pump();
      return;
    }
    this.#pacing = undefined;
    this.#send(waiter, now);
    this.#pump();
  }

  #send(waiter: Waiter, now: number): void {
    this.#inFlight += 1;
    const dispatch = this.#state.dispatch(now, waiter.ceiling, this.#inFlight);
    let released = false;
    waiter.resolve({
      release: (outcome: AttemptOutcome) => {
        // Exactly once: a second release would free a slot someone else now holds.
        if (released) return;
        released = true;
        this.#release(dispatch, outcome);
      },
    });
  }

  #release(dispatch: Dispatch, outcome: AttemptOutcome): void {
    this.#inFlight -= 1;
    this.#held -= 1;
    const now = this.#clock.now();
    if (outcome.kind === 'success') {
      this.#successes += 1;
      this.#lastSucceeded = true;
      this.#state.onSuccess(now, dispatch);
    } else if (outcome.kind === 'throttled') {
      this.#lastSucceeded = false;
      this.#state.onThrottle(now, dispatch, outcome.retryAfterMs);
    }
    // 'failed' and 'cancelled' say nothing about congestion: neutral.
    this.#pump();
    this.#wakeSleepers();
    this.#changed();
  }

  /**
   * The host has run dry (nothing in flight or queued) while retries sleep: wake those
   * that have seen a success since they began, up to the effective limit, soonest-ending
   * first (the order their sleeps would have ended in anyway). Not while the latest
   * answer was a throttle: the server is not admitting just now.
   */
  #wakeSleepers(): void {
    if (!this.#wakeRetries || this.#sleepers.size === 0 || this.#held > 0 || this.#queue.length > 0) return;
    if (!this.#lastSucceeded) return;
    const ready = [...this.#sleepers]
      .filter((s) => this.#successes > s.successesAtStart)
      .sort((a, b) => a.end - b.end);
    const limit = this.#state.snapshot().limit;
    let woken = 0;
    for (const sleeper of ready) {
      if (woken >= Math.min(limit, sleeper.ceiling)) break;
      woken += 1;
      this.#sleepers.delete(sleeper);
      sleeper.wake();
    }
  }

  #abandon(waiter: Waiter): void {
    const i = this.#queue.indexOf(waiter);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    waiter.reject(new AbortError(waiter.signal?.reason));
    // The head may have been what blocked the others (e.g. a lower ceiling).
    this.#pump();
    this.#wakeSleepers();
    this.#changed();
  }

  #changed(): void {
    for (const listener of this.#changeListeners) {
      try {
        listener();
      } catch {
        // As for transition listeners: never break the limiter.
      }
    }
  }

  #transition(t: LimitTransition): void {
    const fields = {
      logger: ADAPTIVE_LOGGER,
      before: t.before,
      after: t.after,
      ceiling: t.ceiling,
      host: this.host,
    };
    if (t.kind === 'decrease') {
      this.#logger.debug(aimdDecreasedMessage(t.before, t.after, t.ceiling), {
        ...fields,
        event: 'aimd_decrease',
      });
    } else if (t.kind === 'increase') {
      this.#logger.debug(aimdIncreasedMessage(t.after, t.ceiling), { ...fields, event: 'aimd_increase' });
    }
    this.#changed();
    if (this.#listeners.size === 0) return;
    const event: AdaptiveTransition = { ...t, host: this.host, at: this.#clock.now() };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not break the limiter the requests depend on.
      }
    }
  }
}
