/**
 * The limits every port of the emulator enforces, whatever it serves: how long a client
 * may take to send its request, how long an idle connection stays open, how many
 * connections a port holds. (Body size is the body reader's, see `http-body.ts`.)
 */

/** Timeouts and caps of every port (milliseconds and connections). */
export interface ServerLimits {
  /** A request's headers must arrive in full within this time from its first byte (or the connection's start). */
  headersTimeoutMs: number;
  /** A request (headers and body; a gRPC call's message) must arrive in full within this time. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection (an idle HTTP/2 session) is closed after this time. */
  idleTimeoutMs: number;
  /** Connections open at once per port; more are closed as they arrive. */
  maxConnections: number;
}

/** The defaults of {@link ServerLimits}. */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  // Beyond clients' own idle timeouts, so the server never closes a connection a client is about to reuse.
  idleTimeoutMs: 65_000,
  maxConnections: 1000,
};

/** Fill in and check limits; throws a plain `Error` naming the bad one. */
export function resolveLimits(given: Partial<ServerLimits> = {}): ServerLimits {
  const limits: ServerLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ServerLimits)[]) {
    const value = given[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
      throw new Error(`${key} must be a positive integer (at most ${2 ** 31 - 1}), got ${value}`);
    }
    limits[key] = value;
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new Error(
      `headersTimeoutMs (${limits.headersTimeoutMs}) must not exceed requestTimeoutMs (${limits.requestTimeoutMs})`,
    );
  }
  return limits;
}
