/**
 * A real gRPC (HTTP/2, plaintext or TLS) server on 127.0.0.1 that answers unary calls from
 * a script: exact status codes, trailers (pushback), undecodable messages, or no answer at
 * all. The SDK talks to it through grpc-js over a real socket.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** One scripted reply. */
export interface GrpcReply {
  /** gRPC status code (default 0, OK). */
  code?: number;
  message?: string;
  /** The response message's bytes for an OK reply (default: empty, all fields default). */
  response?: Uint8Array;
  /** Extra trailers / trailers-only headers, e.g. `grpc-retry-pushback-ms`. */
  trailers?: Record<string, string>;
  /** Never answer (for deadline and abort tests). */
  hold?: boolean;
}

/** What the server saw. */
export interface SeenCall {
  path: string;
  headers: http2.IncomingHttpHeaders;
  /** The request message (length prefix stripped). */
  message: Buffer;
  /** Resolves when the client cancels the call (RST_STREAM) or the stream closes. */
  closed: Promise<void>;
}

/** Handle on a running scripted server. */
export interface ScriptedGrpcServer {
  /** `http://127.0.0.1:PORT` (plaintext) or `https://127.0.0.1:PORT` (TLS): a gRPC host for the SDK. */
  url: string;
  calls: SeenCall[];
  /** TLS only: the server name (SNI) each connection's client sent, `false` for none. */
  servernames: (string | false)[];
  /** Queue replies; when the queue is empty, `fallback` answers. */
  push(...replies: GrpcReply[]): void;
  fallback: GrpcReply;
  /** Resolves once `n` calls have arrived. */
  waitForCalls(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Start a scripted gRPC server on an ephemeral loopback port; with `tls`, over TLS with that key and certificate. */
export async function startScriptedGrpcServer(
  fallback: GrpcReply = {},
  options: { tls?: { key: string; cert: string } } = {},
): Promise<ScriptedGrpcServer> {
  const queue: GrpcReply[] = [];
  const calls: SeenCall[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  const state = { fallback };
  const servernames: (string | false)[] = [];
  const server = options.tls ? http2.createSecureServer(options.tls) : http2.createServer();
  server.on('secureConnection', (socket: TLSSocket) => servernames.push(socket.servername ?? false));
  server.on('tlsClientError', () => undefined);
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => undefined);
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => {
      const data = Buffer.concat(chunks);
      calls.push({ path: String(headers[':path']), headers, message: data.subarray(5), closed });
      for (const w of waiters.splice(0)) {
        if (calls.length >= w.n) w.resolve();
        else waiters.push(w);
      }
      const reply = queue.shift() ?? state.fallback;
      if (reply.hold || stream.destroyed) return;
      const code = reply.code ?? 0;
      if (code !== 0) {
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': String(code),
            'grpc-message': encodeURIComponent(reply.message ?? ''),
            ...reply.trailers,
          },
          { endStream: true },
        );
        return;
      }
      const body = reply.response ?? new Uint8Array(0);
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', ...reply.trailers }));
      stream.end(frame);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    calls,
    servernames,
    push: (...replies) => queue.push(...replies),
    get fallback() {
      return state.fallback;
    },
    set fallback(reply: GrpcReply) {
      state.fallback = reply;
    },
    waitForCalls(n) {
      if (calls.length >= n) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ n, resolve }));
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.destroy();
      });
    },
  };
}
