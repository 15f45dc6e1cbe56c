/**
 * Errors the emulator answers with, independent of the transport: each carries the HTTP
 * status (REST), the numeric gRPC code (gRPC, and the `code` of Pinecone's data-plane
 * error body) and the string code of Pinecone's control-plane error body. A transport
 * catches an {@link EmulatorError} and renders it in its own wire shape.
 */

/** gRPC status codes the emulator uses (grpc/status.h). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** A numeric gRPC status code. */
export type GrpcCodeNumber = (typeof GrpcCode)[keyof typeof GrpcCode];

/** The control plane's string code for each gRPC code (Pinecone's `error.code`). */
const STRING_CODES: Record<number, string> = {
  [GrpcCode.CANCELLED]: 'CANCELLED',
  [GrpcCode.UNKNOWN]: 'UNKNOWN',
  [GrpcCode.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [GrpcCode.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [GrpcCode.NOT_FOUND]: 'NOT_FOUND',
  [GrpcCode.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [GrpcCode.PERMISSION_DENIED]: 'FORBIDDEN',
  [GrpcCode.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
  [GrpcCode.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [GrpcCode.UNIMPLEMENTED]: 'UNIMPLEMENTED',
  [GrpcCode.INTERNAL]: 'INTERNAL',
  [GrpcCode.UNAVAILABLE]: 'UNAVAILABLE',
  [GrpcCode.UNAUTHENTICATED]: 'UNAUTHENTICATED',
};

/** What an {@link EmulatorError} is made of. */
export interface EmulatorErrorInit {
  /** HTTP status the REST transport answers with. */
  httpStatus: number;
  /** gRPC code: the gRPC transport's status and the REST data plane's `code` field. */
  grpcCode: GrpcCodeNumber;
  /** Control-plane `error.code`; defaults to the gRPC code's name. */
  stringCode?: string;
  /** Seconds for a `Retry-After` header (throttling only). */
  retryAfterSeconds?: number | undefined;
}

/** An error the emulator reports to the client; the message is the server's message. */
export class EmulatorError extends Error {
  override name = 'EmulatorError';
  readonly httpStatus: number;
  readonly grpcCode: GrpcCodeNumber;
  readonly stringCode: string;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, init: EmulatorErrorInit) {
    super(message);
    this.httpStatus = init.httpStatus;
    this.grpcCode = init.grpcCode;
    this.stringCode = init.stringCode ?? STRING_CODES[init.grpcCode] ?? 'UNKNOWN';
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** The REST data-plane body: `{ code, message, details: [] }`. */
  dataPlaneBody(): { code: number; message: string; details: unknown[] } {
    return { code: this.grpcCode, message: this.message, details: [] };
  }

  /** The REST control-plane body: `{ status, error: { code, message } }`. */
  controlPlaneBody(): { status: number; error: { code: string; message: string } } {
    return { status: this.httpStatus, error: { code: this.stringCode, message: this.message } };
  }
}

/** 400 / INVALID_ARGUMENT: the request is malformed or breaks a documented limit. */
export function invalidArgument(message: string): EmulatorError {
  return new EmulatorError(message, { httpStatus: 400, grpcCode: GrpcCode.INVALID_ARGUMENT });
}

/**
 * 400 / INVALID_ARGUMENT for a Pinecone feature the emulator does not model: it says so
 * rather than serve something else in its place.
 */
export function notEmulated(feature: string, hint?: string): EmulatorError {
  return invalidArgument(`${feature} is not supported by the emulator${hint ? `; ${hint}` : ''}`);
}

/** 404 / NOT_FOUND. */
export function notFound(message: string): EmulatorError {
  return new EmulatorError(message, { httpStatus: 404, grpcCode: GrpcCode.NOT_FOUND });
}

/** 409 / ALREADY_EXISTS. */
export function alreadyExists(message: string): EmulatorError {
  return new EmulatorError(message, { httpStatus: 409, grpcCode: GrpcCode.ALREADY_EXISTS });
}

/** 403 / PERMISSION_DENIED (control plane code `FORBIDDEN`). */
export function forbidden(message: string): EmulatorError {
  return new EmulatorError(message, { httpStatus: 403, grpcCode: GrpcCode.PERMISSION_DENIED });
}

/** 401 / UNAUTHENTICATED. */
export function unauthenticated(message: string): EmulatorError {
  return new EmulatorError(message, { httpStatus: 401, grpcCode: GrpcCode.UNAUTHENTICATED });
}

/** 413: the raw body is past what the emulator reads at all (a load balancer's answer). */
export function payloadTooLarge(message: string): EmulatorError {
  return new EmulatorError(message, { httpStatus: 413, grpcCode: GrpcCode.RESOURCE_EXHAUSTED });
}

/** 429 / RESOURCE_EXHAUSTED: throttled. */
export function resourceExhausted(message: string, retryAfterSeconds?: number): EmulatorError {
  return new EmulatorError(message, {
    httpStatus: 429,
    grpcCode: GrpcCode.RESOURCE_EXHAUSTED,
    retryAfterSeconds,
  });
}

/** The gRPC code an injected HTTP 5xx corresponds to (what a gRPC transport reports instead). */
export function grpcCodeForServerStatus(status: number): GrpcCodeNumber {
  switch (status) {
    case 502:
    case 503:
      return GrpcCode.UNAVAILABLE;
    case 504:
      return GrpcCode.DEADLINE_EXCEEDED;
    default:
      return GrpcCode.INTERNAL;
  }
}

/** An injected server error (500, 502, 503, 504). */
export function serverError(status: number, message: string): EmulatorError {
  return new EmulatorError(message, { httpStatus: status, grpcCode: grpcCodeForServerStatus(status) });
}

/** 405: the path exists, the method does not (control-plane code `METHOD_NOT_ALLOWED`). */
export function methodNotAllowed(method: string, path: string): EmulatorError {
  return new EmulatorError(`Method ${method} is not allowed on ${path}`, {
    httpStatus: 405,
    grpcCode: GrpcCode.UNIMPLEMENTED,
    stringCode: 'METHOD_NOT_ALLOWED',
  });
}

/** 415: a body not declared as JSON, or compressed (control-plane code `INVALID_ARGUMENT`). */
export function unsupportedMediaType(message: string): EmulatorError {
  return new EmulatorError(message, { httpStatus: 415, grpcCode: GrpcCode.INVALID_ARGUMENT });
}

/** 408 / DEADLINE_EXCEEDED: the client did not send its whole request in time. */
export function requestTimeout(message: string): EmulatorError {
  return new EmulatorError(message, { httpStatus: 408, grpcCode: GrpcCode.DEADLINE_EXCEEDED });
}

/**
 * The client went away (closed or reset its connection, cancelled its stream) before its
 * request was read: nobody is left to answer. Not an {@link EmulatorError}: nothing is sent.
 */
export class ClientAbortError extends Error {
  override name = 'ClientAbortError';
}
