/**
 * The emulator's gRPC data plane: one plaintext HTTP/2 server per index (its own port),
 * serving Pinecone's `VectorService` over the same store, fault injector and stats as
 * the REST data plane. Requests are decoded with the generated protobuf-es schemas and
 * handed to the transport-agnostic operations in their JSON shape (protobuf's JSON
 * mapping is the REST wire's camelCase); answers go back the same way.
 *
 * Built on `node:http2` rather than a gRPC server library because fault injection needs
 * the wire: refusing a stream, cutting a message short, sending bytes that do not
 * decode. Unary gRPC over HTTP/2 is small: one length-prefixed message each way, the
 * status in trailers (or in the headers of a trailers-only answer).
 *
 * Every RPC of Pinecone's published `VectorService` is served (namespaces and fetch by
 * metadata included); bulk imports and integrated-inference records are REST-only at
 * Pinecone and here.
 *
 * Faults as gRPC sees them: throttle and a random 429 → RESOURCE_EXHAUSTED (with `grpc-retry-pushback-ms`
 * when the fault sets a Retry-After); 500 → INTERNAL; 502 and 503 → UNAVAILABLE; 504 →
 * DEADLINE_EXCEEDED; reset → the stream refused (RST_STREAM REFUSED_STREAM, which clients
 * report as UNAVAILABLE; nothing was processed); truncated → half a message, then the
 * stream reset (INTERNAL); malformed → OK with a message that does not decode; hang →
 * nothing until the client's deadline; reset after write → the operation runs, then the
 * stream is reset (INTERNAL); slow body → the message frame sent in parts over time.
 */

import http2 from 'node:http2';
import type { DescMessage } from '@bufbuild/protobuf';
import { fromBinary, fromJson, type JsonValue, toBinary, toJson } from '@bufbuild/protobuf';
import {
  CreateNamespaceRequestSchema,
  DeleteNamespaceRequestSchema,
  DeleteRequestSchema,
  DeleteResponseSchema,
  DescribeIndexStatsRequestSchema,
  DescribeIndexStatsResponseSchema,
  DescribeNamespaceRequestSchema,
  FetchByMetadataRequestSchema,
  FetchByMetadataResponseSchema,
  FetchRequestSchema,
  FetchResponseSchema,
  ListNamespacesRequestSchema,
  ListNamespacesResponseSchema,
  ListRequestSchema,
  ListResponseSchema,
  NamespaceDescriptionSchema,
  QueryRequestSchema,
  QueryResponseSchema,
  UpdateRequestSchema,
  UpdateResponseSchema,
  type UpsertRequest,
  UpsertRequestSchema,
  UpsertResponseSchema,
} from '../gen/db_data_pb.js';
import { sharedAbortController } from '../resilience/abort.js';
import { systemClock } from '../resilience/clock.js';
import { keyMatches } from './access.js';
import type { EmulatedIndex, IndexTransport } from './emulator.js';
import { ClientAbortError, EmulatorError, GrpcCode, type GrpcCodeNumber } from './errors.js';
import { type FaultDecision, runsOperation } from './faults.js';
import { readMessage } from './grpc-message.js';
import { baseUrl, listenForIndex, newRequestId, toEmulatorError } from './http.js';
import { DEFAULT_LIMITS, type ServerLimits } from './http-limits.js';
import { assertBodyDepth, MAX_NESTING_DEPTH, tooDeep } from './json-depth.js';
import type { DataOperation } from './operation-names.js';
import { type OperationRequest, runOperation } from './operations.js';
import type { Outcome } from './stats.js';
import { untilClosed } from './until-closed.js';

/** Options of the gRPC data plane. */
export interface GrpcDataPlaneOptions {
  /** Address to bind, e.g. `127.0.0.1`. */
  host: string;
  /** First port to try for an index; 0 = any free port per index. */
  portStart: number;
  /** When set, calls must carry this `api-key` metadata (else UNAUTHENTICATED). */
  apiKey?: string | undefined;
  /** Largest request message read (default 4 MiB); larger gets RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number | undefined;
  /** Timeouts and connection cap (default `DEFAULT_LIMITS`): the message read, idle sessions. */
  limits?: ServerLimits | undefined;
}

/**
 * Largest request message by default: gRPC's customary 4 MiB, twice what a binary upsert
 * within Pinecone's 2 MB limit takes.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Message nesting protobuf may decode: a filter of {@link MAX_NESTING_DEPTH} JSON levels
 * is two messages per level (a Struct or ListValue, then a Value), under the request.
 * Up to there the depth check names the filter; past it the decoder refuses.
 */
const RECURSION_LIMIT = 2 * MAX_NESTING_DEPTH + 8;

/** One RPC: its operation, how its request becomes an operation request, its response schema. */
interface Rpc {
  operation: DataOperation;
  request: DescMessage;
  response: DescMessage;
  /** GET endpoints read the query string over REST; the rest read the JSON body. */
  asQuery?: boolean;
  /** Endpoints whose REST path names the namespace: the request's `namespace` becomes that parameter. */
  asPathNamespace?: boolean;
}

const RPCS: Record<string, Rpc> = {
  '/VectorService/Upsert': {
    operation: 'upsert',
    request: UpsertRequestSchema,
    response: UpsertResponseSchema,
  },
  '/VectorService/Query': { operation: 'query', request: QueryRequestSchema, response: QueryResponseSchema },
  '/VectorService/Fetch': {
    operation: 'fetch',
    request: FetchRequestSchema,
    response: FetchResponseSchema,
    asQuery: true,
  },
  '/VectorService/Delete': {
    operation: 'delete',
    request: DeleteRequestSchema,
    response: DeleteResponseSchema,
  },
  '/VectorService/Update': {
    operation: 'update',
    request: UpdateRequestSchema,
    response: UpdateResponseSchema,
  },
  '/VectorService/DescribeIndexStats': {
    operation: 'describe_index_stats',
    request: DescribeIndexStatsRequestSchema,
    response: DescribeIndexStatsResponseSchema,
  },
  '/VectorService/List': {
    operation: 'list',
    request: ListRequestSchema,
    response: ListResponseSchema,
    asQuery: true,
  },
  '/VectorService/FetchByMetadata': {
    operation: 'fetch_by_metadata',
    request: FetchByMetadataRequestSchema,
    response: FetchByMetadataResponseSchema,
  },
  '/VectorService/ListNamespaces': {
    operation: 'list_namespaces',
    request: ListNamespacesRequestSchema,
    response: ListNamespacesResponseSchema,
    asQuery: true,
  },
  '/VectorService/DescribeNamespace': {
    operation: 'describe_namespace',
    request: DescribeNamespaceRequestSchema,
    response: NamespaceDescriptionSchema,
    asPathNamespace: true,
  },
  '/VectorService/DeleteNamespace': {
    operation: 'delete_namespace',
    request: DeleteNamespaceRequestSchema,
    response: DeleteResponseSchema,
    asPathNamespace: true,
  },
  '/VectorService/CreateNamespace': {
    operation: 'create_namespace',
    request: CreateNamespaceRequestSchema,
    response: NamespaceDescriptionSchema,
  },
};

/** Per-stream HTTP/2 flow-control window the server grants. */
const WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * A message no protobuf reader accepts: field 1 with wire type 7, which does not exist.
 * (It is what "malformed" sends; a missing or truncated message would be reported by the
 * client's gRPC library as a different failure.)
 */
const UNDECODABLE = Buffer.from([0x0f, 0xff, 0xff, 0xff, 0xff]);

/** Serves the gRPC data plane of every index, one HTTP/2 server (and port) each. */
export class GrpcDataPlane implements IndexTransport {
  private readonly servers = new Map<
    EmulatedIndex,
    { server: http2.Http2Server; sessions: Set<http2.ServerHttp2Session>; port: number }
  >();
  /** Ports not to hand to an index (the controller's). */
  readonly reservedPorts = new Set<number>();
  /** Aborts pending latency sleeps on close; one listener per request in its latency wait. */
  private readonly closing = sharedAbortController();
  private readonly maxMessageBytes: number;
  private readonly limits: ServerLimits;

  constructor(private readonly options: GrpcDataPlaneOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.limits = options.limits ?? DEFAULT_LIMITS;
  }

  async attach(index: EmulatedIndex): Promise<void> {
    // Upsert messages are large (100 × 1536 floats is 600 KB): windows of a few MB let a
    // client send one without waiting for window updates every 64 KB.
    const server = http2.createServer({
      maxSessionMemory: 64,
      settings: { initialWindowSize: WINDOW_BYTES },
    });
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (session) => {
      session.setLocalWindowSize(WINDOW_BYTES * 4);
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
      session.on('error', () => undefined);
    });
    // Sessions (on this port, and those the REST port hands over) close when idle: no
    // frame either way for idleTimeoutMs and no call in progress (a call waiting on the
    // client is the request timeout's; one waiting on an injected latency is no idler).
    const calls = new WeakMap<http2.Http2Session, number>();
    server.setTimeout(this.limits.idleTimeoutMs);
    server.on('timeout', (session: http2.Http2Session) => {
      if (!calls.get(session)) session.destroy();
    });
    server.maxConnections = this.limits.maxConnections;
    // The plane's one guard: whatever a handler throws ends its stream, never the process.
    server.on('stream', (stream, headers) => {
      const session = stream.session;
      if (session) {
        calls.set(session, (calls.get(session) ?? 0) + 1);
        stream.once('close', () => calls.set(session, (calls.get(session) ?? 1) - 1));
      }
      this.handle(index, stream, headers).catch((err: unknown) => lastResort(stream, err));
    });
    const taken = [...this.reservedPorts, ...[...this.servers.values()].map((s) => s.port)];
    const port = await listenForIndex(server, this.options.host, this.options.portStart, taken);
    this.servers.set(index, { server, sessions, port });
    index.grpcHost = baseUrl(this.options.host, port);
    index.acceptHttp2 = (socket) => server.emit('connection', socket);
  }

  async detach(index: EmulatedIndex): Promise<void> {
    const entry = this.servers.get(index);
    if (!entry) return;
    this.servers.delete(index);
    index.grpcHost = undefined;
    index.acceptHttp2 = undefined;
    await stopServer(entry.server, entry.sessions);
  }

  async close(): Promise<void> {
    this.closing.abort();
    const all = [...this.servers.entries()];
    this.servers.clear();
    await Promise.all(
      all.map(([index, { server, sessions }]) => {
        index.grpcHost = undefined;
        index.acceptHttp2 = undefined;
        return stopServer(server, sessions);
      }),
    );
  }

  private async handle(
    index: EmulatedIndex,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
  ): Promise<void> {
    stream.on('error', () => undefined);
    const requestId = newRequestId();
    const path = String(headers[':path'] ?? '');
    const rpc = Object.hasOwn(RPCS, path) ? RPCS[path] : undefined;
    if (
      headers[':method'] !== 'POST' ||
      !String(headers['content-type'] ?? '').startsWith('application/grpc')
    ) {
      stream.respond({ ':status': 415, 'content-type': 'text/plain' }, { endStream: false });
      stream.end('gRPC requests only (POST, content-type application/grpc)');
      return;
    }
    if (!rpc) {
      sendStatus(stream, GrpcCode.UNIMPLEMENTED, `${path} is not a method of this index`, requestId);
      return;
    }
    const op = rpc.operation;
    const key = this.options.apiKey;
    const given = headers['api-key'];
    if (key !== undefined && !keyMatches(typeof given === 'string' ? given : undefined, key)) {
      sendStatus(stream, GrpcCode.UNAUTHENTICATED, 'Unauthorized', requestId);
      index.stats.record(op, 401);
      return;
    }
    const decision = index.faults.decide(op);
    if (decision.action === 'throttle') {
      sendError(stream, decision.error, requestId);
      index.stats.record(op, 429);
      return;
    }
    index.faults.enter();
    index.stats.observeInFlight(index.faults.inFlight);
    try {
      // The message first (bounded by the request timeout), then the latency, as over REST.
      const message = await readMessage(stream, this.maxMessageBytes, this.limits.requestTimeoutMs);
      if (decision.delayMs > 0) await systemClock.sleep(decision.delayMs, this.closing.signal);
      // A client that cancelled meanwhile gave up on the call: it must not be carried out.
      if (!writable(stream)) throw new ClientAbortError('The client cancelled the call');
      if (!runsOperation(decision)) {
        index.stats.record(op, await this.actOut(decision, stream, requestId));
        return;
      }
      const request = toOperationRequest(rpc, message);
      const result = runOperation(op, index.store, request, {
        apiVersion: single(headers['x-pinecone-api-version']),
      });
      const bytes = toBinary(
        rpc.response,
        fromJson(rpc.response, result as JsonValue, { ignoreUnknownFields: true }),
      );
      const written = op === 'upsert' ? (result.upsertedCount as number) : 0;
      if (decision.action === 'reset-after-write') {
        // Done, and never told: the stream is reset (clients report INTERNAL).
        if (writable(stream)) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        index.stats.record(op, 'reset-after-write');
      } else if (decision.action === 'slow-body') {
        const delivered = await this.sendSlowly(stream, bytes, requestId, decision.durationMs);
        index.stats.record(op, delivered ? 200 : 'slow-body', delivered ? written : 0);
      } else if (sendMessage(stream, bytes, requestId)) {
        index.stats.record(op, 200, written);
      } else {
        index.stats.record(op, 'reset');
      }
    } catch (err) {
      index.stats.record(op, this.fail(err, stream, requestId));
    } finally {
      index.faults.leave();
    }
  }

  /** Act out an injected fault; returns the outcome to record. */
  private async actOut(
    decision: Exclude<FaultDecision, { action: 'proceed' | 'throttle' | 'reset-after-write' | 'slow-body' }>,
    stream: http2.ServerHttp2Stream,
    requestId: string,
  ): Promise<Outcome> {
    switch (decision.action) {
      case 'reset':
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return 'reset';
      case 'hang':
        // No headers, no status: hold the stream until the client's deadline or cancel.
        await untilClosed(stream, this.closing.signal);
        return 'hang';
      case 'error':
        sendError(stream, decision.error, requestId);
        return decision.status;
      case 'malformed':
        return sendMessage(stream, UNDECODABLE, requestId) ? 'malformed' : 'reset';
      default: {
        // Truncated: a frame that promises more bytes than it carries, then the stream reset.
        if (!writable(stream)) return 'reset';
        stream.respond({
          ':status': 200,
          'content-type': 'application/grpc+proto',
          'x-pinecone-request-id': requestId,
        });
        const header = Buffer.alloc(5);
        header.writeUInt32BE(64, 1);
        stream.write(Buffer.concat([header, Buffer.from([0x08, 0x01])]), () =>
          stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
        );
        return 'truncated';
      }
    }
  }

  /**
   * Answer OK with one message whose frame is spread over `durationMs` in ten parts.
   * Resolves whether all of it went out (false: the client cancelled, or we closed).
   */
  private async sendSlowly(
    stream: http2.ServerHttp2Stream,
    bytes: Uint8Array,
    requestId: string,
    durationMs: number,
  ): Promise<boolean> {
    if (!writable(stream)) return false;
    const frame = lengthPrefixed(bytes);
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc+proto', 'x-pinecone-request-id': requestId },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    const parts = 10;
    for (let i = 0; i < parts; i++) {
      if (!writable(stream) || this.closing.signal.aborted) return false;
      const chunk = frame.subarray(
        Math.floor((i * frame.length) / parts),
        Math.floor(((i + 1) * frame.length) / parts),
      );
      if (i === parts - 1) {
        stream.end(chunk);
        break;
      }
      stream.write(chunk);
      try {
        await systemClock.sleep(durationMs / parts, this.closing.signal);
      } catch {
        return false;
      }
    }
    return writable(stream) || stream.writableFinished;
  }

  /** Render an error; returns the outcome to record. */
  private fail(err: unknown, stream: http2.ServerHttp2Stream, requestId: string): Outcome {
    if (err instanceof ClientAbortError) return 'aborted';
    if (!writable(stream) || stream.headersSent || this.closing.signal.aborted) {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
      return 'reset';
    }
    if (err instanceof EmulatorError) {
      sendError(stream, err, requestId);
      return err.httpStatus;
    }
    sendStatus(stream, GrpcCode.INTERNAL, `Internal error: ${(err as Error).message}`, requestId);
    return 500;
  }
}

/** The last resort of the stream guard: an error no handler caught. */
function lastResort(stream: http2.ServerHttp2Stream, err: unknown): void {
  try {
    if (writable(stream) && !stream.headersSent) {
      const e = toEmulatorError(err);
      sendStatus(stream, e.grpcCode, e.message, newRequestId());
    } else if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  } catch {
    stream.destroy();
  }
}

/** The request as the operations take it: the JSON body, or for Fetch/List the query string. */
function toOperationRequest(rpc: Rpc, message: Buffer): OperationRequest {
  let decoded: ReturnType<typeof fromBinary>;
  try {
    decoded = fromBinary(rpc.request, message, { recursionLimit: RECURSION_LIMIT });
  } catch (cause) {
    const text = (cause as Error).message;
    if (/maximum recursion depth/.test(text)) throw tooDeep('request message');
    throw new EmulatorError(`The request message could not be decoded: ${text}`, {
      httpStatus: 400,
      grpcCode: GrpcCode.INVALID_ARGUMENT,
    });
  }
  if (rpc.operation === 'upsert') {
    // The hot path: the decoded vectors already have the JSON shape's field names and
    // types (values a number array, metadata a JSON object), and an absent field reads
    // as the validator expects (`values: []` is "no dense values"); skip the JSON copy.
    const upsert = decoded as UpsertRequest;
    return { body: { vectors: upsert.vectors, namespace: upsert.namespace } };
  }
  const json = toJson(rpc.request, decoded) as Record<string, unknown>;
  assertBodyDepth(json);
  if (rpc.asPathNamespace) return { params: { namespace: String(json.namespace ?? '') } };
  if (!rpc.asQuery) return { body: json };
  const query: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(json)) {
    query[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return { query };
}

function writable(stream: http2.ServerHttp2Stream): boolean {
  return !stream.destroyed && !stream.closed;
}

/** gRPC's framing of one uncompressed message: a zero flag byte and a 4-byte length. */
function lengthPrefixed(bytes: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + bytes.length);
  frame[0] = 0;
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

/** Answer OK with one message. False when the client has gone (cancelled, deadline). */
function sendMessage(stream: http2.ServerHttp2Stream, bytes: Uint8Array, requestId: string): boolean {
  if (!writable(stream)) return false;
  const frame = lengthPrefixed(bytes);
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc+proto', 'x-pinecone-request-id': requestId },
    { waitForTrailers: true },
  );
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frame);
  return true;
}

/** A trailers-only answer: the status in the response headers, no message. */
function sendStatus(
  stream: http2.ServerHttp2Stream,
  code: GrpcCodeNumber,
  message: string,
  requestId: string,
  extra: Record<string, string> = {},
): void {
  if (!writable(stream)) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc+proto',
      'grpc-status': String(code),
      'grpc-message': percentEncode(message),
      'x-pinecone-request-id': requestId,
      ...extra,
    },
    { endStream: true },
  );
}

/** An emulator error as a gRPC status; a Retry-After becomes gRPC's standard pushback. */
function sendError(stream: http2.ServerHttp2Stream, err: EmulatorError, requestId: string): void {
  const extra: Record<string, string> = {};
  if (err.retryAfterSeconds !== undefined) {
    extra['grpc-retry-pushback-ms'] = String(Math.round(err.retryAfterSeconds * 1000));
  }
  sendStatus(stream, err.grpcCode, err.message, requestId, extra);
}

/** gRPC's `grpc-message` encoding: percent-encode `%` and everything outside printable ASCII. */
function percentEncode(message: string): string {
  return message.replace(/[^\x20-\x24\x26-\x7e]+/g, (run) => encodeURIComponent(run));
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function stopServer(server: http2.Http2Server, sessions: Set<http2.ServerHttp2Session>): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const session of sessions) session.destroy();
  });
}
