/**
 * The adaptive per-host limiter: AIMD on the number of requests in flight plus dispatch
 * pacing, behind the {@link HostLimiter} interface the retry loop uses. This file owns
 * the queue (FIFO, abortable; a Retry-After pause holds each waiter at most its call's
 * `maxWait`), the pacing waits and the logs; the state and its decisions live behind
 * {@link LimiterState} (`limiter-state.ts`, in-process: `aimd-state.ts`) so they can be
 * swapped, and the retry delays it may end early in `retry-wait.ts`.
 */
import { AbortError, ValidationError } from '../errors.js';
import { ADAPTIVE_LOGGER, aimdDecreasedMessage, aimdIncreasedMessage, type Logger } from '../log.js';
import { AimdState, type AimdStateOptions } from './aimd-state.js';
import type { Clock } from './clock.js';
import type { AttemptOutcome, HostLimiter, Permit, ThrottleVerdict } from './limiter.js';
import type { Dispatch, LimiterSnapshot, LimiterState, LimitTransition } from './limiter-state.js';
import { RetrySleepers, RetryWait } from './retry-wait.js';

/** A transition as listeners see it: which host, and when (clock ms). */
export interface AdaptiveTransition extends LimitTransition {
  host: string;
  at: number;
}

/** Listener of {@link AimdLimiter.onTransition}. */
export type TransitionListener = (transition: AdaptiveTransition) => void;

/** What every {@link AimdLimiter} takes. Nothing is global: time and logs come from here. */
export interface AimdLimiterBaseOptions {
  clock: Clock;
  logger: Logger;
  /** The index host this limiter gates (appears in logs and transitions). */
  host: string;
  /**
   * End retry delays early when the host runs dry (default `true`); `false` makes every
   * throttle's delay run its length (e.g. to measure a plain AIMD).
   */
  wakeRetries?: boolean | undefined;
  /** A first transition listener (more via {@link AimdLimiter.onTransition}). */
  onTransition?: TransitionListener | undefined;
}

/** The in-process state's tuning (see {@link AimdStateOptions}); no custom state. */
export interface AimdLimiterStateOptions extends Omit<AimdStateOptions, 'notify'> {
  createState?: undefined;
}

/**
 * A custom state (e.g. one coordinated across processes) in place of the in-process one.
 * It must call `notify` for each transition so logs and listeners keep working. The
 * in-process tuning options are not accepted beside it (they would be silently ignored):
 * give them to the state you create.
 */
export interface AimdLimiterCustomState {
  /** Makes the state of `host` (the limiter's host key). */
  createState: (notify: (transition: LimitTransition) => void, host: string) => LimiterState;
  pacing?: undefined;
  slowStart?: undefined;
  probeWindows?: undefined;
  noise?: undefined;
  initialRttMs?: undefined;
  holdThrottled?: undefined;
}

/** Everything of {@link AimdLimiterOptions} but where it runs (clock, logger, host). */
export type AimdLimiterTuning = Omit<AimdLimiterBaseOptions, 'clock' | 'logger' | 'host'> &
  (AimdLimiterStateOptions | AimdLimiterCustomState);

/** Options of {@link AimdLimiter}. */
export type AimdLimiterOptions = Pick<AimdLimiterBaseOptions, 'clock' | 'logger' | 'host'> &
  AimdLimiterTuning;

/** {@link LimiterSnapshot} plus the queue's own counters. */
export interface AimdLimiterSnapshot extends LimiterSnapshot {
  host: string;
  /** Permits held now. */
  inFlight: number;
  /** Acquirers waiting (for a slot or for their send time). */
  queued: number;
  /** Retry delays being slept out through {@link AimdLimiter.retryWait}. */
  sleeping: number;
}

interface Waiter {
  ceiling: number;
  /** The latest a Retry-After pause of the host may hold it (clock ms): its call's patience. */
  pauseCap: number;
  signal: AbortSignal | undefined;
  resolve: (permit: Permit) => void;
  reject: (error: unknown) => void;
  onAbort: (() => void) | undefined;
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
  readonly #logger: Logger;
  readonly #state: LimiterState;
  readonly #listeners = new Set<TransitionListener>();
  readonly #changeListeners = new Set<() => void>();
  readonly #queue: Waiter[] = [];
  /** Slots taken: permits in flight plus the waiter sleeping until its send time. */
  #held = 0;
  /** Cancels the timers of slots held after throttles (dispose). */
  readonly #holds = new AbortController();
  #inFlight = 0;
  /** The waiter that holds a slot and sleeps until its send time, if any. */
  #pacing: Waiter | undefined;
  /** Wakes the queue when a pause ends for some waiter (its end, or a waiter's cap). */
  #pauseTimer: { at: number; controller: AbortController } | undefined;
  readonly #sleepers: RetrySleepers;
  /** Successful releases so far. */
  #successes = 0;
  /** Whether the latest success-or-throttle outcome was a success. */
  #lastSucceeded = false;

  constructor(options: AimdLimiterOptions) {
    this.host = options.host;
    this.#clock = options.clock;
    this.#sleepers = new RetrySleepers(options.clock, options.wakeRetries ?? true, () => this.#changed());
    this.#logger = options.logger;
    const notify = (t: LimitTransition) => this.#transition(t);
    if (options.createState) {
      this.#state = options.createState(notify, options.host);
    } else {
      const { pacing, slowStart, probeWindows, noise, initialRttMs, holdThrottled } = options;
      this.#state = new AimdState({
        pacing,
        slowStart,
        probeWindows,
        noise,
        initialRttMs,
        holdThrottled,
        notify,
      });
    }
    if (options.onTransition) this.#listeners.add(options.onTransition);
  }

  /**
   * Wait for leave to send one attempt. `ceiling` is the call's `maxConcurrency`
   * (a positive integer, or `Infinity` for no cap of the call's own). Rejects at once
   * with an {@link AbortError} (cause: the signal's reason) if the signal fires while
   * waiting, leaving no listener or timer behind.
   */
  acquire(ceiling: number, signal?: AbortSignal, maxWaitMs?: number): Promise<Permit> {
    if (!(Number.isInteger(ceiling) || ceiling === Number.POSITIVE_INFINITY) || ceiling < 1) {
      return Promise.reject(
        new ValidationError(`maxConcurrency must be a positive integer, got ${ceiling}`, 'maxConcurrency'),
      );
    }
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
    const pauseCap = this.#clock.now() + (maxWaitMs ?? Number.POSITIVE_INFINITY);
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = { ceiling, pauseCap, signal, resolve, reject, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => this.#abandon(waiter);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      this.#pump();
    });
  }

  /**
   * The waits between the attempts of one call with `ceiling` (see `retry-wait.ts`): a
   * throttle judged to be noise is retried at once, and a throttle's delay may end early
   * when the host runs dry.
   */
  retryWait(ceiling: number): RetryWait {
    return new RetryWait(this.#clock, ceiling, {
      sleepers: this.#sleepers,
      successes: () => this.#successes,
    });
  }

  /** Retry delays being slept out through {@link retryWait} now. */
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

  /**
   * The limiter is being dropped (registry eviction, client close): the state releases
   * what it holds (e.g. a coordinator's reserved slots) and any pause timer stops. Calls
   * still waiting are not rejected: they finish as they would have.
   */
  dispose(): void {
    this.#holds.abort();
    this.#state.dispose?.();
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

  /**
   * Grant slots to waiters in order while the first one free to go fits. While a
   * Retry-After pause holds the host, only waiters whose own patience has run out are free
   * to go (a pause never holds a call past its `maxWait`); the others wait for its end.
   */
  #pump(): void {
    while (this.#pacing === undefined) {
      const now = this.#clock.now();
      const index = this.#nextFree(now);
      if (index < 0) return;
      const waiter = this.#queue[index]!;
      if (!this.#state.admit(waiter.ceiling, this.#held)) return;
      this.#queue.splice(index, 1);
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      this.#held += 1;
      if (this.#releaseAt(waiter, now) <= now) {
        this.#send(waiter, now);
      } else {
        this.#pacing = waiter;
        void this.#waitForSendTime(waiter);
      }
    }
  }

  /** The queue index of the first waiter a pause does not hold now, or -1 (then a timer is set). */
  #nextFree(now: number): number {
    if (this.#queue.length === 0) return -1;
    const paused = this.#state.pausedUntil;
    if (paused <= now) return 0;
    let wake = paused;
    for (let i = 0; i < this.#queue.length; i++) {
      const cap = this.#queue[i]!.pauseCap;
      if (cap <= now) return i;
      wake = Math.min(wake, cap);
    }
    this.#wakeAt(wake);
    return -1;
  }

  /** When `waiter` may leave: its pacing slot, and the pause as far as its patience allows. */
  #releaseAt(waiter: Waiter, now: number): number {
    return Math.max(this.#state.sendAt(now), Math.min(this.#state.pausedUntil, waiter.pauseCap));
  }

  /** Pump again at `at` (clock ms); one timer at a time, the earliest wins. */
  #wakeAt(at: number): void {
    if (this.#pauseTimer && this.#pauseTimer.at <= at) return;
    this.#pauseTimer?.controller.abort();
    const timer = { at, controller: new AbortController() };
    this.#pauseTimer = timer;
    this.#clock.sleep(Math.max(0, at - this.#clock.now()), timer.controller.signal).then(
      () => {
        if (this.#pauseTimer === timer) this.#pauseTimer = undefined;
        this.#pump();
      },
      () => {},
    );
  }

  /** Drop the pause timer when nobody is left to wake. */
  #idleTimer(): void {
    if (this.#queue.length > 0 || !this.#pauseTimer) return;
    this.#pauseTimer.controller.abort();
    this.#pauseTimer = undefined;
  }

  /** Sleep until the send time; re-read it after waking (a pause may have begun meanwhile). */
  async #waitForSendTime(waiter: Waiter): Promise<void> {
    let now = this.#clock.now();
    try {
      for (let at = this.#releaseAt(waiter, now); at > now; at = this.#releaseAt(waiter, now)) {
        await this.#clock.sleep(at - now, waiter.signal);
        now = this.#clock.now();
      }
    } catch (error) {
      this.#pacing = undefined;
      this.#held -= 1;
      waiter.reject(error);
      this.#pump();
      this.#idleTimer();
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
        if (released) return undefined;
        released = true;
        return this.#release(dispatch, outcome);
      },
    });
  }

  #release(dispatch: Dispatch, outcome: AttemptOutcome): ThrottleVerdict | undefined {
    this.#inFlight -= 1;
    const now = this.#clock.now();
    let verdict: ThrottleVerdict | undefined;
    let hold = 0;
    if (outcome.kind === 'success') {
      this.#successes += 1;
      this.#lastSucceeded = true;
      this.#state.onSuccess(now, dispatch);
      this.#sleepers.onSuccess();
    } else if (outcome.kind === 'throttled') {
      this.#lastSucceeded = false;
      verdict = this.#state.onThrottle(now, dispatch, outcome) ?? 'congestion';
      // A Retry-After pauses the host instead: holding the slot as well would add nothing.
      if (outcome.retryAfterMs === undefined)
        hold = this.#state.holdAfterThrottle?.(now, dispatch, verdict) ?? 0;
    }
    if (hold > 0 && !this.#holds.signal.aborted) {
      // The slot stays taken for the rest of a round trip (see LimiterState.holdAfterThrottle).
      this.#clock.sleep(hold, this.#holds.signal).then(
        () => {
          this.#held -= 1;
          this.#settle();
        },
        () => {},
      );
    } else {
      this.#held -= 1;
    }
    // 'failed' and 'cancelled' say nothing about congestion: neutral.
    this.#settle();
    return verdict;
  }

  /** After a release (or a held slot freed): serve the queue, maybe wake sleepers, tell listeners. */
  #settle(): void {
    this.#pump();
    this.#wakeSleepers();
    this.#changed();
  }

  /** Let the host's sleepers know it may have run dry. */
  #wakeSleepers(): void {
    this.#sleepers.wakeIfDry({
      busy: this.#held + this.#queue.length,
      successes: this.#successes,
      lastSucceeded: this.#lastSucceeded,
      limit: this.#state.snapshot().limit,
    });
  }

  #abandon(waiter: Waiter): void {
    const i = this.#queue.indexOf(waiter);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    waiter.reject(new AbortError(waiter.signal?.reason));
    // The head may have been what blocked the others (e.g. a lower ceiling).
    this.#pump();
    this.#idleTimer();
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
    } else if (t.kind === 'increase' || (t.kind === 'restore' && t.after > t.before)) {
      // A cut undone raises the limit like an increase (with its own event name).
      this.#logger.debug(aimdIncreasedMessage(t.after, t.ceiling), {
        ...fields,
        event: t.kind === 'increase' ? 'aimd_increase' : 'aimd_restore',
      });
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
