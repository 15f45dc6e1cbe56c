/**
 * An experiment, not the SDK as shipped: TCP's slow start in front of the SDK's own
 * limiter state. The SDK starts a host at the call's ceiling, so against a server that
 * admits only a few requests at first, the whole first window but one is rejected
 * (31 of 32 at ceiling 32) before anything has been learned. Here the window starts at
 * one request and doubles after each window of successes; the first throttle ends slow
 * start and the SDK's decisions take over from the level actually reached.
 *
 * It needs no change to {@link AimdState}: while in slow start the wrapped state is
 * handed the slow-start window as the call's ceiling, and an unlearned limit follows a
 * rising ceiling (a `ceiling` transition); a throttle then halves that window, not the
 * call's ceiling, and from then on the real ceiling applies.
 */
import {
  AimdState,
  type Dispatch,
  type LimiterSnapshot,
  type LimiterState,
  type LimitTransition,
} from '../../src/resilience/limiter-state.js';

/** {@link AimdState} behind a slow start from one request in flight. */
export class SlowStartState implements LimiterState {
  readonly #inner: AimdState;
  /** The slow-start window, or `undefined` once slow start has ended. */
  #window: number | undefined = 1;
  #successes = 0;

  constructor(notify: (transition: LimitTransition) => void) {
    this.#inner = new AimdState({ notify });
  }

  #ceiling(ceiling: number): number {
    return this.#window === undefined ? ceiling : Math.min(ceiling, this.#window);
  }

  admit(ceiling: number, held: number): boolean {
    if (this.#window !== undefined && this.#window >= ceiling) this.#window = undefined;
    return this.#inner.admit(this.#ceiling(ceiling), held);
  }

  sendAt(now: number): number {
    return this.#inner.sendAt(now);
  }

  dispatch(now: number, ceiling: number, inFlight: number): Dispatch {
    return this.#inner.dispatch(now, this.#ceiling(ceiling), inFlight);
  }

  onSuccess(now: number, dispatch: Dispatch): void {
    this.#inner.onSuccess(now, dispatch);
    if (this.#window === undefined) return;
    // One window of successes doubles it: exponential growth per round trip.
    if (++this.#successes >= this.#window) {
      this.#successes = 0;
      this.#window *= 2;
    }
  }

  onThrottle(now: number, dispatch: Dispatch, retryAfterMs?: number): void {
    this.#window = undefined;
    this.#inner.onThrottle(now, dispatch, retryAfterMs);
  }

  snapshot(): LimiterSnapshot {
    return this.#inner.snapshot();
  }
}
