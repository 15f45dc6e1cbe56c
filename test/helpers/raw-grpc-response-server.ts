/**
 * An HTTP/2 server on 127.0.0.1 that answers gRPC calls with scripted headers, DATA bytes,
 * trailers, stream resets or dropped sessions, for fuzzing the SDK's gRPC client with
 * answers no well-behaved server would send. Replies are scripted per case
 * (`case-scripts.ts`; the case id travels in the request message).
 */
import http2 from 'node:http2';
import { type CaseScripts, caseScripts, listenScripted } from './case-scripts.js';

/** One scripted answer to a call. */
export interface RawGrpcReply {
  /** Response headers (`:status` included); absent: no headers at all. */
  headers?: Record<string, string> | undefined;
  /** The headers end the stream (a trailers-only answer). */
  headersOnly?: boolean | undefined;
  /** DATA bytes (length prefixes included, as generated). */
  data?: Buffer | undefined;
  /** Trailers; absent: the stream ends after the data without them. */
  trailers?: Record<string, string> | undefined;
  /** Reset the stream with this HTTP/2 error code after whatever came before. */
  rst?: number | undefined;
  /** Drop the whole connection after whatever came before. */
  dropSession?: boolean | undefined;
  /** Leave the stream open after whatever came before (the client's deadline ends it). */
  stall?: boolean | undefined;
}

/** Handle on a running server. */
export interface RawGrpcResponseServer extends CaseScripts<RawGrpcReply> {
  /** `http://127.0.0.1:PORT`: a plaintext gRPC host. */
  url: string;
  close(): Promise<void>;
}

/** Start the server on an ephemeral loopback port. */
export async function startRawGrpcResponseServer(): Promise<RawGrpcResponseServer> {
  const scripts = caseScripts<RawGrpcReply>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => undefined);
  });

  const answer = (stream: http2.ServerHttp2Stream, reply: RawGrpcReply) => {
    // Node refuses some header values outright; the stream is then reset, also an answer.
    try {
      if (reply.headers) {
        stream.respond(reply.headers, {
          endStream: reply.headersOnly === true,
          waitForTrailers: !reply.headersOnly && reply.trailers !== undefined,
        });
        if (reply.trailers) {
          const trailers = reply.trailers;
          stream.once('wantTrailers', () => {
            try {
              stream.sendTrailers(trailers);
            } catch {
              stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
            }
          });
        }
      }
      if (reply.headersOnly && reply.headers) return;
      const ends = !reply.rst && !reply.dropSession && !reply.stall && reply.headers !== undefined;
      if (reply.data && reply.headers) stream.write(reply.data);
      if (ends) stream.end();
      else if (reply.rst !== undefined) stream.close(reply.rst);
      else if (reply.dropSession) {
        // On the next turn: Node 20's HTTP/2 server corrupts its heap (glibc aborts the
        // process) when a session is destroyed in the same tick as a stream's respond().
        const session = stream.session;
        setImmediate(() => session?.destroy());
      }
    } catch {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
  };

  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => {
      if (stream.destroyed) return;
      const reply = scripts.next(Buffer.concat(chunks).toString('latin1'));
      if (!reply) {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
          { endStream: true },
        );
        return;
      }
      answer(stream, reply);
    });
  });
  return listenScripted(server, scripts, () => {
    for (const s of sessions) s.destroy();
  });
}
