/**
 * Small HTTP helpers shared by the emulator's REST servers: servers tuned for keep-alive,
 * listening with a port search, bounded body reading, and JSON / text responses that
 * always carry an `x-pinecone-request-id`.
 */
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { invalidArgument, payloadTooLarge } from './errors.js';

/** Largest raw body read at all (larger: 413, as a load balancer would answer). */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A request handler that may be async; errors it throws are the caller's to render. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * An HTTP/1.1 server for loopback clients: keep-alive well beyond clients' idle timeouts
 * (so the server never closes a connection a client is about to reuse), no per-socket
 * request cap.
 */
export function createEmulatorServer(handler: Handler): Server {
  const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    void handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.maxRequestsPerSocket = 0;
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

/**
 * Read the whole body. Over `maxBytes` the read stops and a 413 `EmulatorError` is thrown
 * (the caller answers and closes the connection, since the rest is never read).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(tooLarge(declared, maxBytes));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.pause();
        reject(tooLarge(size, maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function tooLarge(size: number, max: number) {
  return payloadTooLarge(`Request body of ${size} bytes is larger than the ${max} bytes the server accepts`);
}

/** Parse a JSON body; an empty body is `undefined`; bad JSON is a 400 in Pinecone's words. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    // Bodies are nearly always ASCII (numbers and ids); latin1 decodes those ~3x faster than utf8.
    return JSON.parse(body.toString(isAscii(body) ? 'latin1' : 'utf8'));
  } catch (err) {
    throw invalidArgument(
      `Failed to deserialize the JSON body into the target type: ${(err as Error).message}`,
    );
  }
}

/** Read and parse a JSON request body (undefined when empty). */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return parseJsonBody(await readBody(req, maxBytes));
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

/** Query-string parameters; a repeated key becomes an array. */
export function queryParams(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
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
  /** The listening TCP server (pass it to {@link listen}). */
  readonly server: NetServer;
  /** Stop listening and destroy every open connection. */
  close(): Promise<void>;
}

/**
 * A TCP front for one index's port that serves HTTP/1.1 and HTTP/2 (gRPC) on the same
 * port, as Pinecone's index hosts do: it reads the first bytes of each connection, puts
 * them back, and hands the socket to `http`, or to `http2()` when it is an HTTP/2
 * preface and a gRPC server is attached. Sockets are tracked so closing is immediate.
 */
export function createDualProtocolServer(
  http: Server,
  http2: () => ((socket: Socket) => void) | undefined,
): DualProtocolServer {
  const sockets = new Set<Socket>();
  const server = createNetServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      const accept = chunk.toString('latin1', 0, 3) === HTTP2_PREFACE_START ? http2() : undefined;
      if (accept) accept(socket);
      else http.emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
