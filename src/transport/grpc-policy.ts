/**
 * The gRPC retry policy: default attempts and jitter settings, which status codes are
 * retried, which count as throttling, and the classifier the retry loop calls. A leaf
 * module (no grpc-js import), so the root entry point and the `GrpcIndex` class read it
 * without loading the gRPC library.
 *
 * Which codes are retried: the spec lists UNAVAILABLE, RESOURCE_EXHAUSTED and ABORTED.
 * That list is the documented floor; by default the gRPC twins of what REST retries are
 * retried too (INTERNAL for 500, DEADLINE_EXCEEDED for 504 and 408), since every
 * data-plane call is idempotent and REST retries those. Broken streams, resets and
 * unreachable servers never reach this table: the transport reports them as
 * `ConnectionError`s (as REST does), retried and neutral for the limiter; a TLS channel
 * answered in plain HTTP is the one `ConnectionError` not retried.
 */
import { ApiError, ConnectionError, GRPC_CODE_NAMES, TimeoutError } from '../errors.js';
import type { FailureClass } from '../resilience/retry.js';
import { classifyConnectionFailure } from './plain-http-answer.js';

/** gRPC status codes by name (grpc/status.h), for the sets below. */
export const GrpcStatus = {
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** The spec's gRPC default: 5 retries after the first attempt (6 attempts in all). */
export const GRPC_DEFAULT_MAX_RETRIES = 5;
/** Jitter floor, seconds: the spec's default, the same as REST's. Not configurable for gRPC. */
export const GRPC_BACKOFF_FACTOR = 0.25;
/** Delay cap, seconds: the spec's default, the same as REST's. Not configurable for gRPC. */
export const GRPC_MAX_WAIT = 60;

/** The codes the spec retries: the documented floor of the default set. */
export const RETRYABLE_GRPC_CODES: ReadonlySet<number> = Object.freeze(
  new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.RESOURCE_EXHAUSTED, GrpcStatus.ABORTED]),
) as ReadonlySet<number>;

/** The codes retried by default: the spec's, plus INTERNAL and DEADLINE_EXCEEDED (REST's 500, 504). */
export const DEFAULT_RETRYABLE_GRPC_CODES: ReadonlySet<number> = Object.freeze(
  new Set<number>([...RETRYABLE_GRPC_CODES, GrpcStatus.INTERNAL, GrpcStatus.DEADLINE_EXCEEDED]),
) as ReadonlySet<number>;

/** Codes that signal congestion: the adaptive limiter backs off on these (REST's 429 and 503). */
const THROTTLE_GRPC_CODES: ReadonlySet<number> = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.RESOURCE_EXHAUSTED,
]);

/** The gRPC status code an SDK error came from, if it came from one. */
export function grpcCodeOf(error: unknown): number | undefined {
  const name = (error as { grpcCode?: unknown } | null)?.grpcCode;
  if (typeof name !== 'string') return undefined;
  const code = GRPC_CODE_NAMES.indexOf(name);
  return code >= 0 ? code : undefined;
}

/**
 * Read a set of retryable codes given as numbers (`13`) or names (`'INTERNAL'`). Returns
 * an error message instead when an entry is not a gRPC failure code.
 */
export function parseGrpcCodes(codes: Iterable<unknown>): ReadonlySet<number> | string {
  const out = new Set<number>();
  for (const c of codes) {
    const n = typeof c === 'string' ? GRPC_CODE_NAMES.indexOf(c.toUpperCase()) : c;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n >= GRPC_CODE_NAMES.length) {
      return `must hold gRPC failure codes (1..16 or names such as 'INTERNAL'); got ${JSON.stringify(c)}`;
    }
    out.add(n);
  }
  return out;
}

/**
 * What the retry loop should do about an error a gRPC attempt threw. A status code in
 * `retryable` is retried (the server's pushback honoured; a negative pushback means "do
 * not retry"); UNAVAILABLE and RESOURCE_EXHAUSTED are throttling. An attempt past its
 * deadline, a reply that does not decode, a broken stream and an unreachable server are
 * retried and neutral for the limiter, except a TLS channel answered in plain HTTP (never
 * retried: see `plain-http-answer.ts`). The log label is the code name (or network code).
 */
export function classifyGrpcFailure(
  error: unknown,
  retryable: ReadonlySet<number> = DEFAULT_RETRYABLE_GRPC_CODES,
): FailureClass {
  const code = grpcCodeOf(error);
  if (code !== undefined) {
    const pushback = (error as ApiError).retryAfterMs;
    const retry = retryable.has(code) && (pushback === undefined || pushback >= 0);
    return {
      retryable: retry,
      throttle: THROTTLE_GRPC_CODES.has(code),
      rateLimited: code === GrpcStatus.RESOURCE_EXHAUSTED,
      label: GRPC_CODE_NAMES[code] ?? String(code),
      retryAfterMs: retry ? pushback : undefined,
    };
  }
  if (error instanceof TimeoutError) {
    return { retryable: true, throttle: false, rateLimited: false, label: 'DEADLINE_EXCEEDED' };
  }
  if (error instanceof ConnectionError) return classifyConnectionFailure(error);
  return { retryable: false, throttle: false, rateLimited: false, label: 'ERROR' };
}

/** Does this error come from a REST call (an HTTP status, no gRPC code)? */
export function isRestApiError(error: unknown): error is ApiError {
  return error instanceof ApiError && error.grpcCode === undefined;
}
