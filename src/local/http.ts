/**
 * Small HTTP helpers shared by the emulator's REST servers: servers with a top-level
 * guard (no handler can crash the process; every failure is answered in the plane's
 * error shape) and the limits of `http-limits.ts`; listening with a port search; one
 * port for HTTP/1.1 and HTTP/2; JSON / text responses that always carry an
 * `x-pinecone-request-id`. Request bodies are read in `http-body.ts`.
 */
import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { HostPolicy } from './access.js';
import { ClientAbortError, EmulatorError, GrpcCode, invalidArgument, requestTimeout } from './errors.js';
import { markTimedOut } from './http-body.js';
import { DEFAULT_LIMITS, type ServerLimits } from './http-limits.js';

/** A request handler that may be async; what it throws, the server's guard answers. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Options of {@link createEmulatorServer}. */
export interface EmulatorServerOptions {
  /** The plane's error body for an error (default: the data plane's `{ code, message, details }`). */
  errorBody?: ((err: EmulatorError) => unknown) | undefined;
  /** Timeouts and connection cap (default {@link DEFAULT_LIMITS}). */
  limits?: ServerLimits | undefined;
  /** Host and Origin checks, applied to every request before the handler. */
  hosts?: HostPolicy | undefined;
}

const dataPlaneBody = (err: EmulatorError): unknown => err.dataPlaneBody();

/** The response being written on a socket, while there is one. */
const answering = new WeakMap<Socket, ServerResponse>();

/** An unexpected error as the 500 the guard answers (a bug of ours; the fuzz suite hunts for them). */
export function toEmulatorError(err: unknown): EmulatorError {
  if (err instanceof EmulatorError) return err;
  return new EmulatorError(`Internal error: ${(err as Error)?.message ?? String(err)}`, {
    httpStatus: 500,
    grpcCode: GrpcCode.INTERNAL,
  });
}

/**
 * An HTTP/1.1 server for the emulator. Every request passes one guard: the Host/Origin
 * checks, then the handler; whatever the handler throws (or rejects with) is answered in
 * the plane's shape, or the connection is dropped when an answer has already started. A
 * request the HTTP parser refuses, or that times out, gets the same shape (400, 408, 431).
 * No per-socket request cap; keep-alive until `idleTimeoutMs`.
 */
export function createEmulatorServer(handler: Handler, options: EmulatorServerOptions = {}): Server {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const errorBody = options.errorBody ?? dataPlaneBody;
  const server = createServer(
    {
      keepAlive: true,
      noDelay: true,
      requireHostHeader: false, // answered below, in the plane's shape
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req, res) => {
      void guard(req, res);
    },
  );
  server.keepAliveTimeout = limits.idleTimeoutMs;
  server.maxRequestsPerSocket = 0;
  server.maxConnections = limits.maxConnections;

  async function guard(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket;
    answering.set(socket, res);
    res.once('finish', () => {
      if (answering.get(socket) === res) answering.delete(socket);
    });
    try {
      res.setHeader('x-pinecone-request-id', newRequestId());
      if (req.httpVersion === '1.1' && req.headers.host === undefined) {
        throw invalidArgument('An HTTP/1.1 request must carry a Host header');
      }
      options.hosts?.check(req);
      await handler(req, res);
    } catch (err) {
      try {
        if (err instanceof ClientAbortError || res.headersSent || !req.socket.writable) res.destroy();
        else {
          const e = toEmulatorError(err);
          sendJson(res, e.httpStatus, errorBody(e));
        }
      } catch {
        res.destroy();
      }
    }
  }

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (timeout) markTimedOut(socket);
    // Answer only where no response has started, so the answer cannot corrupt another.
    if (!socket.writable || answering.get(socket)?.headersSent || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const e = timeout
      ? requestTimeout(
          `The request did not arrive in full within the server's timeout (headers ${limits.headersTimeoutMs} ms, whole request ${limits.requestTimeoutMs} ms)`,
        )
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new EmulatorError('Request headers too large', {
            httpStatus: 431,
            grpcCode: GrpcCode.INVALID_ARGUMENT,
          })
        : invalidArgument(`Malformed HTTP request (${err.code ?? 'parse error'})`);
    const body = JSON.stringify(errorBody(e));
    socket.end(
      `HTTP/1.1 ${e.httpStatus} ${STATUS_CODES[e.httpStatus]}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n` +
        `x-pinecone-request-id: ${newRequestId()}\r\n\r\n${body}`,
    );
    // The client reads the answer and closes; one that does not is dropped shortly after.
    socket.setTimeout(1000, () => socket.destroy());
  });
  return server;
}

/**
 * Listen on `host:port`. Port 0 takes any free port; a fixed port that is taken fails,
 * unless `searchUpTo` allows trying the next ports (skipping those in `avoid`).
 */
export async function listen(
  server: NetServer,
  host: string,
  port: number,
  options: { searchUpTo?: number; avoid?: ReadonlySet<number> } = {},
): Promise<number> {
  const last = port === 0 ? 0 : port + (options.searchUpTo ?? 0);
  for (let p = port; p <= last; p++) {
    if (p !== 0 && options.avoid?.has(p)) continue;
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => {
          server.off('listening', onListening);
          reject(err);
        };
        const onListening = () => {
          server.off('error', onError);
          resolve();
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(p, host);
      });
      return (server.address() as AddressInfo).port;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || p === last) throw err;
    }
  }
  throw new Error(`No free port in ${port}..${last} on ${host}`);
}

/** Close a server and drop its idle and active connections. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Listen for one index: any free port when `portStart` is 0, else the first free port from
 * `portStart` on, skipping the ports in `taken` (the controller's and other indexes').
 */
export function listenForIndex(
  server: NetServer,
  host: string,
  portStart: number,
  taken: Iterable<number>,
): Promise<number> {
  return listen(server, host, portStart, { searchUpTo: portStart === 0 ? 0 : 1000, avoid: new Set(taken) });
}

/** The base URL of a listening server: `http://host:port`. */
export function baseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

let requestSeq = 0;
const processTag = randomBytes(4).toString('hex');

/** A request id, unique within the process (`x-pinecone-request-id`). */
export function newRequestId(): string {
  requestSeq = (requestSeq + 1) >>> 0;
  return `${processTag}${requestSeq.toString(16).padStart(8, '0')}`;
}

/** Answer with JSON (`Content-Length` set, so keep-alive connections stay reusable). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Answer with plain text (Pinecone's data-plane 401, proxies' 502/504). */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers?: Record<string, string>,
): void {
  res.writeHead(status, {
    ...headers,
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The request's API key header (`Api-Key`), if any. */
export function apiKeyOf(req: IncomingMessage): string | undefined {
  const key = req.headers['api-key'];
  return Array.isArray(key) ? key[0] : key;
}

/** The request's `X-Pinecone-Api-Version` header, if any. */
export function apiVersionOf(req: IncomingMessage): string | undefined {
  const v = req.headers['x-pinecone-api-version'];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Query-string parameters; a repeated key becomes an array. A map without a prototype, so
 * a parameter named `__proto__` or `constructor` is a parameter like any other.
 */
export function queryParams(url: { searchParams: URLSearchParams }): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of url.searchParams) {
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4), of which three suffice to tell. */
const HTTP2_PREFACE_START = 'PRI';

/** A port serving HTTP/1.1 and HTTP/2, from {@link createDualProtocolServer}. */
export interface DualProtocolServer {
  /** The listening server (pass it to {@link listen}). */
  readonly server: NetServer;
  /** Stop listening and destroy every open connection. */
  close(): Promise<void>;
}

/**
 * One index's port, serving HTTP/1.1 and HTTP/2 (gRPC) as Pinecone's index hosts do. The
 * HTTP/1.1 server itself listens (so Node runs its header and request timeouts and counts
 * connections against `maxConnections`); its connection handler is taken over to read
 * the first bytes of each connection, put them back, and hand the socket to HTTP/1.1, or
 * to `http2()` when they are an HTTP/2 preface and a gRPC server is attached. A
 * connection that sends nothing is closed after `headersTimeoutMs`.
 */
export function createDualProtocolServer(
  http: Server,
  http2: () => ((socket: Socket) => void) | undefined,
  limits: ServerLimits = DEFAULT_LIMITS,
): DualProtocolServer {
  const httpConnection = http.listeners('connection') as ((socket: Socket) => void)[];
  http.removeAllListeners('connection');
  const sockets = new Set<Socket>();
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(limits.headersTimeoutMs, () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const start = head.toString('latin1', 0, 3);
      // Wait for three bytes when what came so far could still be a preface.
      if (head.length < 3 && HTTP2_PREFACE_START.startsWith(start)) return;
      socket.off('data', onData);
      socket.pause();
      socket.setTimeout(0);
      socket.unshift(head);
      const accept = start === HTTP2_PREFACE_START ? http2() : undefined;
      if (accept) accept(socket);
      else for (const listener of httpConnection) listener.call(http, socket);
      process.nextTick(() => socket.resume());
    };
    socket.on('data', onData);
  });
  return {
    server: http,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
