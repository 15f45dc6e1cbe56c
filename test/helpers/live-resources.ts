/**
 * What keeps the event loop alive: `process.getActiveResourcesInfo()` (ref'd timers,
 * sockets, servers, pipes; unref'd timers are not listed), compared with a baseline taken
 * before the code under test ran. A handle being closed leaves the list only after the
 * loop's close phase, so the check polls a few turns before it calls anything a leak.
 */

/** Resource kinds and counts now (`{ Timeout: 2, TCPSocketWrap: 1 }`). */
export function liveResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Resources alive now beyond `baseline`, e.g. `['TCPSocketWrap ×2']`; empty when none. */
export function resourcesBeyond(baseline: Map<string, number>): string[] {
  const extra: string[] = [];
  for (const [kind, n] of liveResources()) {
    const more = n - (baseline.get(kind) ?? 0);
    if (more > 0) extra.push(more === 1 ? kind : `${kind} ×${more}`);
  }
  return extra;
}

/** One loop turn: past the timers, check and close phases (the polling timer itself is gone by then). */
function turn(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(() => setImmediate(resolve), ms));
}

/**
 * Wait until nothing beyond `baseline` is alive, for at most `boundMs` (closing handles
 * take a loop turn or two); resolves to what is still alive then (empty: no leak).
 */
export async function settledLeaks(baseline: Map<string, number>, boundMs = 2000): Promise<string[]> {
  const deadline = performance.now() + boundMs;
  for (;;) {
    await turn(5);
    const extra = resourcesBeyond(baseline);
    if (extra.length === 0 || performance.now() >= deadline) return extra;
  }
}
