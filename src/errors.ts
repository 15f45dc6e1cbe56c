/**
 * The error tree. Everything the SDK throws is a {@link PineconeError}; HTTP statuses and
 * gRPC codes map onto the same classes so callers catch one set of types whatever the
 * transport.
 */
import type { Vector } from './data/types.js';

/** Accounting a failed (or aborted) bulk `upsert` attaches to the error it throws. */
export interface UpsertFailureInfo {
  /** Vectors confirmed written before the failure. */
  upsertedCount: number;
  /**
   * Every vector taken from the input and not confirmed written: the failed batches and,
   * for an array input, the part never sent. Upserting these (and, for an iterable, the
   * iterable's unconsumed rest) completes the load exactly.
   */
  failedVectors: Vector[];
}

/** Base class of every error the SDK throws. */
export class PineconeError extends Error {
  override name = 'PineconeError';
  /** Set on errors thrown by a bulk `upsert`: vectors confirmed written. */
  upsertedCount?: number;
  /** Set on errors thrown by a bulk `upsert`: vectors not confirmed written. */
  failedVectors?: Vector[];
  /** Set on errors thrown by a bulk `upsert` over an iterable: whether input was left unread. */
  inputExhausted?: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bad input, detected before anything went on the wire. */
export class ValidationError extends PineconeError {
  override name = 'ValidationError';
  /** The offending field, e.g. `retryConfig.maxRetries` or `vectors[3].values`. */
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

/** Fields shared by the errors that describe a request which reached (or tried to reach) a host. */
export interface RequestErrorInit {
  host: string;
  attempts: number;
  cause?: unknown;
}

/** What the server said, as far as it could be read. */
export interface ApiErrorInit extends RequestErrorInit {
  status: number;
  /** The server's error code: a string (`QUOTA_EXCEEDED`), a numeric gRPC code, or a gRPC code name. */
  code?: string | number | undefined;
  /** The server's own message. */
  serverMessage?: string | undefined;
  /** The response body (parsed JSON when it was JSON, else the text), API key redacted. */
  body?: unknown;
  /** `x-pinecone-request-id`, which Pinecone support asks for. */
  requestId?: string | undefined;
  /** Server hint (ms) that came with the response, if any. */
  retryAfterMs?: number | undefined;
  /** The transport that produced the error. */
  transport?: 'rest' | 'grpc';
  /** gRPC status code name (e.g. `RESOURCE_EXHAUSTED`) when the transport was gRPC. */
  grpcCode?: string | undefined;
  /** Extra advice appended to the message. */
  hint?: string | undefined;
}

/** The server answered with an error status. Subclasses name the common ones. */
export class ApiError extends PineconeError {
  override name = 'ApiError';
  /** HTTP status (for gRPC, the HTTP status the gRPC code corresponds to). */
  readonly status: number;
  readonly host: string;
  /** Total attempts made, the first one included. */
  attempts: number;
  readonly code: string | number | undefined;
  readonly serverMessage: string | undefined;
  readonly body: unknown;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly grpcCode: string | undefined;

  constructor(init: ApiErrorInit) {
    super(describeApiError(init), { cause: init.cause });
    this.status = init.status;
    this.host = init.host;
    this.attempts = init.attempts;
    this.code = init.code;
    this.serverMessage = init.serverMessage;
    this.body = init.body;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
    this.grpcCode = init.grpcCode;
  }
}

/** 400: the server rejected the request as malformed. */
export class BadRequestError extends ApiError {
  override name = 'BadRequestError';
}
/** 401: missing or wrong API key. */
export class UnauthorizedError extends ApiError {
  override name = 'UnauthorizedError';
}
/** 403: the key may not do this. */
export class ForbiddenError extends ApiError {
  override name = 'ForbiddenError';
}
/** 404: no such index, namespace or resource. */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
}
/** 409: already exists / conflicting state. */
export class ConflictError extends ApiError {
  override name = 'ConflictError';
}
/** 429 (gRPC RESOURCE_EXHAUSTED): throttled, after the configured retries. */
export class RateLimitError extends ApiError {
  override name = 'RateLimitError';
}
/** 5xx. */
export class ServerError extends ApiError {
  override name = 'ServerError';
}
/** 503 (gRPC UNAVAILABLE). */
export class ServiceUnavailableError extends ServerError {
  override name = 'ServiceUnavailableError';
}

/**
 * `ConnectionError.code` of an `https` (TLS) request to a host that answered in plain HTTP
 * (e.g. the local emulator given without `http://`). Thrown after one attempt: every attempt
 * would be answered the same way.
 */
export const TLS_TO_PLAIN_HTTP = 'TLS_TO_PLAIN_HTTP';

/**
 * The host could not be reached or the connection broke, after the configured retries;
 * or, with code {@link TLS_TO_PLAIN_HTTP}, it answered TLS in plain HTTP (not retried).
 */
export class ConnectionError extends PineconeError {
  override name = 'ConnectionError';
  readonly host: string;
  attempts: number;
  /**
   * Low-level code, e.g. `ECONNREFUSED`, `ECONNRESET`, `UND_ERR_SOCKET`, `BAD_BODY`,
   * {@link TLS_TO_PLAIN_HTTP}.
   */
  readonly code: string | undefined;
  constructor(message: string, init: RequestErrorInit & { code?: string | undefined }) {
    super(message, { cause: init.cause });
    this.host = init.host;
    this.attempts = init.attempts;
    this.code = init.code;
  }
}

/** Every attempt ran past its per-attempt timeout (the last one did, at least). */
export class TimeoutError extends PineconeError {
  override name = 'TimeoutError';
  readonly host: string;
  attempts: number;
  /** The per-attempt timeout in seconds. */
  readonly timeout: number;
  constructor(message: string, init: RequestErrorInit & { timeout: number }) {
    super(message, { cause: init.cause });
    this.host = init.host;
    this.attempts = init.attempts;
    this.timeout = init.timeout;
  }
}

/**
 * The caller's `AbortSignal` fired. Follows Node core's convention: `name` is
 * `'AbortError'` and `cause` is the signal's reason.
 */
export class AbortError extends PineconeError {
  override name = 'AbortError';
  /** Node's convention for abort errors. */
  readonly code = 'ABORT_ERR';
  constructor(reason?: unknown) {
    super('The operation was aborted', { cause: reason });
  }
}

/** Map an HTTP status to its error class. */
export function errorClassForStatus(status: number): new (init: ApiErrorInit) => ApiError {
  switch (status) {
    case 400:
    case 422:
      return BadRequestError;
    case 401:
      return UnauthorizedError;
    case 403:
      return ForbiddenError;
    case 404:
      return NotFoundError;
    case 409:
      return ConflictError;
    case 429:
      return RateLimitError;
    case 503:
      return ServiceUnavailableError;
    default:
      return status >= 500 ? ServerError : ApiError;
  }
}

/** Build the typed error for an HTTP status. */
export function apiErrorFromStatus(init: ApiErrorInit): ApiError {
  const Cls = errorClassForStatus(init.status);
  return new Cls(init);
}

/** gRPC status code names by number (grpc/status.h). */
export const GRPC_CODE_NAMES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** The HTTP status a gRPC code corresponds to (the mapping gRPC gateways use). */
export function httpStatusForGrpcCode(code: number): number {
  switch (code) {
    case 3: // INVALID_ARGUMENT
    case 9: // FAILED_PRECONDITION
    case 11: // OUT_OF_RANGE
      return 400;
    case 16: // UNAUTHENTICATED
      return 401;
    case 7: // PERMISSION_DENIED
      return 403;
    case 5: // NOT_FOUND
      return 404;
    case 6: // ALREADY_EXISTS
    case 10: // ABORTED
      return 409;
    case 8: // RESOURCE_EXHAUSTED
      return 429;
    case 1: // CANCELLED
      return 499;
    case 12: // UNIMPLEMENTED
      return 501;
    case 14: // UNAVAILABLE
      return 503;
    case 4: // DEADLINE_EXCEEDED
      return 504;
    default:
      return 500;
  }
}

function describeApiError(init: ApiErrorInit): string {
  const what = init.grpcCode ? `${init.grpcCode} (gRPC)` : `HTTP ${init.status}`;
  // The server's message is quoted as a sentence: no second full stop after its own.
  const server = init.serverMessage ? `: ${init.serverMessage.trim().replace(/[.!?]+$/, '')}` : '';
  const tries = init.attempts === 1 ? '1 attempt' : `${init.attempts} attempts`;
  let advice = init.hint ?? '';
  if (!advice && init.status === 429) {
    advice =
      init.attempts > 1
        ? ` Still throttled after ${tries}; raise retryConfig.maxRetries (or lower maxConcurrency / batchSize) to ride it out, or catch RateLimitError and retry from your orchestrator.`
        : ' Not retried: 429 was not retryable here (maxRetries is 0 or 429 is not in retryableStatusCodes).';
  } else if (!advice && init.status === 401) {
    advice = ' Check the API key (option apiKey or env PINECONE_API_KEY).';
  }
  const id = init.requestId ? ` [request id ${init.requestId}]` : '';
  return `${what} from ${init.host} after ${tries}${server}.${advice}${id}`;
}
