/**
 * A call-scoped abort signal that follows the caller's. A bulk call runs many requests,
 * and each attempt, backoff sleep and limiter wait listens for abort; hanging them all on
 * the caller's signal would trip Node's MaxListenersExceededWarning and grow the caller's
 * listener list. They listen on this one instead; the caller's signal gets one listener.
 */
import { setMaxListeners } from 'node:events';

/** A controller whose signal aborts when the caller's does (or when told to). */
export interface FollowingController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
  /** Stop following the caller's signal (call when the operation ends). */
  dispose(): void;
}

/**
 * An AbortController whose signal takes any number of listeners without Node's
 * MaxListenersExceededWarning: for signals shared by as many waiters as requests in flight.
 */
export function sharedAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/** Make a {@link FollowingController} for `parent` (which may be absent). */
export function followSignal(parent: AbortSignal | undefined): FollowingController {
  // Listeners are bounded by the call's own concurrency, not by anything a caller controls.
  const controller = sharedAbortController();
  const forward = () => controller.abort(parent?.reason);
  if (parent?.aborted) forward();
  else parent?.addEventListener('abort', forward, { once: true });
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose: () => parent?.removeEventListener('abort', forward),
  };
}
