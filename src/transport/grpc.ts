/**
 * One gRPC attempt over @grpc/grpc-js: one channel per host, protobuf-es (de)serialisers,
 * the API key as call metadata, a per-attempt deadline, abort → cancel, and every failure
 * turned into the SDK's typed errors. Retrying is not done here (see
 * `resilience/retry.ts`); the classifier in `grpc-policy.ts` tells the loop what a
 * failure means.
 *
 * Failures grpc-js makes up on the client's side (no connection established, name
 * resolution failed, connection dropped, stream refused or reset before a status) become
 * `ConnectionError`s, as the same failures do over REST: the server never answered, so
 * they are retried but say nothing about its load.
 *
 * Only the `pinecone-resilient/grpc` entry point loads this file (and so grpc-js).
 */

import { inspect } from 'node:util';
import type { DescMessage, DescMethodUnary, MessageShape } from '@bufbuild/protobuf';
import { fromBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  type ApiError,
  apiErrorFromStatus,
  ConnectionError,
  GRPC_CODE_NAMES,
  httpStatusForGrpcCode,
  type PineconeError,
  TimeoutError,
  TLS_TO_PLAIN_HTTP,
} from '../errors.js';
import type { FailureClass } from '../resilience/retry.js';
import { API_VERSION, VERSION } from '../version.js';
import { classifyGrpcFailure } from './grpc-policy.js';
import { tlsCredentials } from './grpc-tls.js';
import { parseHost } from './host.js';
import { plainHttpAnswerError, plainHttpAnswerReason } from './plain-http-answer.js';

export {
  classifyGrpcFailure,
  DEFAULT_RETRYABLE_GRPC_CODES,
  GRPC_BACKOFF_FACTOR,
  GRPC_DEFAULT_MAX_RETRIES,
  GRPC_MAX_WAIT,
  grpcCodeOf,
  RETRYABLE_GRPC_CODES,
} from './grpc-policy.js';

/** Where a gRPC host lives and how to talk to it. */
export interface GrpcTarget {
  /** `host:port` for grpc-js (port 443 unless the host names one). */
  address: string;
  /** The host name or IP address alone, as in the URL (an IPv6 address in brackets). */
  hostname: string;
  /** TLS unless the host was given as `http://`. */
  secure: boolean;
  /** `host[:port]` as logs, errors and the limiter registry show it (same as REST's). */
  label: string;
}

/**
 * Read a user-supplied host: `my-index.svc.pinecone.io` and `https://...` mean TLS on
 * port 443; `http://127.0.0.1:5082` means plaintext (the local emulator).
 */
export function grpcTarget(host: string): GrpcTarget {
  const url = parseHost(host);
  const secure = url.protocol === 'https:';
  return {
    address: `${url.hostname}:${url.port || (secure ? '443' : '80')}`,
    hostname: url.hostname,
    secure,
    label: url.host,
  };
}

/** One RPC of the service, with the (de)serialisers grpc-js needs. */
export interface GrpcMethod<I extends DescMessage, O extends DescMessage> {
  /** `/VectorService/Upsert`. */
  path: string;
  input: I;
  output: O;
}

/** A generated unary method as grpc-js calls it: path `/<Service>/<Method>` plus its schemas. */
export function grpcMethod<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
): GrpcMethod<I, O> {
  return { path: `/${method.parent.typeName}/${method.name}`, input: method.input, output: method.output };
}

/** One attempt of a unary call. */
export interface GrpcRequest {
  /** 1-based attempt number, recorded on errors. */
  attempt: number;
  /** Per-attempt deadline, seconds. */
  timeout: number;
  signal?: AbortSignal | undefined;
}

/** Connection settings of one host. */
export interface GrpcTransportOptions {
  /** Index host, bare (TLS) or with `http://` (plaintext) / `https://`. */
  host: string;
  apiKey: string;
  apiVersion?: string | undefined;
  /** Extra metadata sent on every call. */
  additionalHeaders?: Record<string, string> | undefined;
  /** Appended to the user agent. */
  sourceTag?: string | undefined;
  /** Extra grpc-js channel options (e.g. keepalive settings). */
  channelOptions?: grpc.ChannelOptions | undefined;
}

/** Our deserialiser never throws into grpc-js (which would report INTERNAL); it hands this back. */
class UndecodableResponse {
  constructor(readonly cause: unknown) {}
}

const REDACTED = '[REDACTED]';

/** Unary calls to one host over one channel, one attempt at a time. */
export class GrpcTransport {
  /** `host[:port]`, as logs, errors and the limiter show it. */
  readonly host: string;
  /** The `host:port` the channel connects to. */
  readonly address: string;
  /** Whether the channel uses TLS. */
  readonly secure: boolean;
  readonly #apiKey: string;
  readonly #metadata: grpc.Metadata;
  readonly #client: grpc.Client;

  constructor(options: GrpcTransportOptions) {
    const target = grpcTarget(options.host);
    this.host = target.label;
    this.address = target.address;
    this.secure = target.secure;
    this.#apiKey = options.apiKey;
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(options.additionalHeaders ?? {})) metadata.set(key, value);
    metadata.set('api-key', options.apiKey);
    metadata.set('x-pinecone-api-version', options.apiVersion ?? API_VERSION);
    this.#metadata = metadata;
    const agent = `pinecone-resilient/${VERSION}`;
    this.#client = new grpc.Client(
      target.address,
      target.secure
        ? tlsCredentials(target.hostname, options.channelOptions)
        : grpc.credentials.createInsecure(),
      {
        'grpc.primary_user_agent': options.sourceTag ? `${agent}; source_tag=${options.sourceTag}` : agent,
        // The SDK's retry loop is the only one: attempts, logs and limiter stay exact.
        'grpc.enable_retries': 0,
        // Upsert batches of high-dimension vectors are large; Pinecone caps requests at 2 MB.
        'grpc.max_send_message_length': 4 * 1024 * 1024,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        ...options.channelOptions,
      },
    );
  }

  /**
   * Send one attempt of a unary call with an already-encoded request (bulk paths encode a
   * batch once and resend the same bytes on retries) and decode the response. Throws
   * {@link ApiError} subclasses for error statuses (with `grpcCode`), {@link TimeoutError}
   * when the attempt ran past its deadline, {@link ConnectionError} for a response that
   * cannot be decoded. The caller's abort cancels the call; the retry loop checks the
   * signal itself.
   */
  unary<I extends DescMessage, O extends DescMessage>(
    method: GrpcMethod<I, O>,
    request: Uint8Array,
    req: GrpcRequest,
  ): Promise<MessageShape<O>> {
    const { signal } = req;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const timeoutMs = req.timeout * 1000;
    const started = performance.now();
    return new Promise<MessageShape<O>>((resolve, reject) => {
      const onAbort = () => call.cancel();
      const call = this.#client.makeUnaryRequest<Uint8Array, MessageShape<O> | UndecodableResponse>(
        method.path,
        toBuffer,
        (bytes) => {
          try {
            return fromBinary(method.output, bytes);
          } catch (cause) {
            return new UndecodableResponse(cause);
          }
        },
        request,
        this.#metadata,
        { deadline: Date.now() + timeoutMs },
        (error, response) => {
          signal?.removeEventListener('abort', onAbort);
          if (error) {
            const elapsed = performance.now() - started;
            reject(this.toError(error, req, elapsed >= timeoutMs - 1));
          } else if (response instanceof UndecodableResponse || response === undefined) {
            reject(
              new ConnectionError(
                `gRPC ${method.path} on ${this.host} answered OK with a message that cannot be decoded (truncated or malformed); nothing counts as written by this reply`,
                { host: this.host, attempts: req.attempt, code: 'BAD_BODY', cause: response?.cause },
              ),
            );
          } else {
            resolve(response);
          }
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** What the retry loop should do about an error {@link unary} threw (see {@link classifyGrpcFailure}). */
  classify(error: unknown): FailureClass {
    return classifyGrpcFailure(error);
  }

  /** Close the channel. Calls in flight fail with CANCELLED. */
  close(): void {
    this.#client.close();
  }

  /** @internal Never show the key. */
  [inspect.custom](): string {
    return `GrpcTransport { host: '${this.host}', secure: ${this.secure} }`;
  }

  private redact(text: string): string {
    return this.#apiKey && text.includes(this.#apiKey) ? text.split(this.#apiKey).join(REDACTED) : text;
  }

  private toError(error: grpc.ServiceError, req: GrpcRequest, pastDeadline: boolean): PineconeError {
    // grpc-js passes on a grpc-status that is no code (`abc` as NaN, `-1`, `99`); gRPC reads those as UNKNOWN.
    const code = isGrpcCode(error.code) ? error.code : grpc.status.UNKNOWN;
    const name = GRPC_CODE_NAMES[code]!;
    if (code === grpc.status.DEADLINE_EXCEEDED && pastDeadline) {
      return new TimeoutError(
        `No response from ${this.host} within the ${req.timeout}s per-attempt deadline (attempt ${req.attempt}); raise the \`timeout\` option if requests are legitimately slow`,
        { host: this.host, attempts: req.attempt, timeout: req.timeout },
      );
    }
    const details = this.redact(error.details ?? '');
    const network = clientSideFailure(code, details);
    if (network === TLS_TO_PLAIN_HTTP) {
      const reason = plainHttpAnswerReason(details)!;
      return plainHttpAnswerError(this.host, reason, { attempts: req.attempt, cause: error });
    }
    if (network) {
      return new ConnectionError(
        `Could not complete the gRPC call to ${this.host}: ${network} (${name}: ${details})`,
        { host: this.host, attempts: req.attempt, code: network, cause: error },
      );
    }
    const trailers = error.metadata;
    return apiErrorFromStatus({
      status: httpStatusForGrpcCode(code),
      host: this.host,
      attempts: req.attempt,
      code: name,
      grpcCode: name,
      serverMessage: details || undefined,
      body: details ? { code, message: details } : undefined,
      requestId: firstString(trailers?.get('x-pinecone-request-id')),
      retryAfterMs: parsePushback(firstString(trailers?.get('grpc-retry-pushback-ms'))),
      transport: 'grpc',
      hint:
        code === grpc.status.RESOURCE_EXHAUSTED
          ? req.attempt > 1
            ? ` Still throttled after ${req.attempt} attempts; raise maxRetries on new GrpcIndex({ host, apiKey, maxRetries }) (or lower maxConcurrency / batchSize) to ride it out, or catch RateLimitError and retry from your orchestrator.`
            : ' Not retried (maxRetries is 0 or the server said not to).'
          : undefined,
    });
  }
}

/**
 * The server's pushback from the `grpc-retry-pushback-ms` trailer: milliseconds, or -1
 * when present but negative or not an integer (gRPC's "do not retry"), undefined when absent.
 */
export function parsePushback(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (!/^-?\d+$/.test(text)) return -1;
  const n = Number(text);
  return n < 0 ? -1 : n;
}

/**
 * The network code of a failure grpc-js reports without the server having answered (the
 * details are grpc-js's own words), or undefined for a status the server sent.
 */
function clientSideFailure(code: number, details: string): string | undefined {
  if (code !== grpc.status.UNAVAILABLE && code !== grpc.status.INTERNAL) return undefined;
  const errno = /\b(E[A-Z]{3,}|ENOTFOUND|EAI_AGAIN)\b/.exec(details)?.[1];
  if (/No connection established|Name resolution failed|Failed to connect/.test(details)) {
    // A TLS handshake answered in plain HTTP: grpc-js passes on OpenSSL's words only.
    if (plainHttpAnswerReason(details)) return TLS_TO_PLAIN_HTTP;
    return errno ?? 'UNREACHABLE';
  }
  if (/^Connection dropped/.test(details)) return 'CONNECTION_DROPPED';
  if (/^Stream refused by server/.test(details)) return 'REFUSED_STREAM';
  if (/^Received RST_STREAM with code \d+/.test(details)) return 'STREAM_RESET';
  if (code === grpc.status.UNAVAILABLE && errno && /^(read|write|connect) E/.test(details)) return errno;
  return undefined;
}

function isGrpcCode(code: unknown): code is number {
  return Number.isInteger(code) && (code as number) >= 0 && (code as number) < GRPC_CODE_NAMES.length;
}

function firstString(values: grpc.MetadataValue[] | undefined): string | undefined {
  const v = values?.[0];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.toString('utf8');
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
