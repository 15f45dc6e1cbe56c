/**
 * Waiting for a connection or stream to go away: what a request the emulator holds on
 * purpose (an injected hang) waits for, so it never outlives its client or the server.
 */

/** Resolve when `emitter` closes or `signal` aborts (whichever first), leaving no listener. */
export function untilClosed(
  emitter: {
    once(event: 'close', f: () => void): unknown;
    off(event: 'close', f: () => void): unknown;
    destroyed?: boolean;
    closed?: boolean;
  },
  signal: AbortSignal,
): Promise<void> {
  if (emitter.destroyed || emitter.closed || signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      emitter.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    emitter.once('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
