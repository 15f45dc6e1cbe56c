/**
 * A raw unary gRPC exchange over `node:http2`, for calls no gRPC client will make: any
 * path, any content type, any bytes as the message (or a broken length prefix).
 */
import http2 from 'node:http2';

/** What came back. */
export interface RawGrpcReply {
  /** The HTTP status of the response headers, if any arrived. */
  httpStatus: number | undefined;
  /** `grpc-status` (from a trailers-only response or the trailers), if any. */
  grpcStatus: number | undefined;
  /** `grpc-message`, percent-decoded. */
  grpcMessage: string | undefined;
  /** Bytes of the response body (a length-prefixed message when OK). */
  body: Buffer;
  /** The stream was reset (RST_STREAM) or the session went away before a status. */
  reset: boolean;
  /** No status and no reset within the wait. */
  timedOut: boolean;
}

/** A length-prefixed gRPC frame of `message` (flag 0 = uncompressed). */
export function frame(message: Uint8Array, flag = 0): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = flag;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Send one request on a session and wait for its status (or reset). */
export function grpcExchange(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer,
  waitMs = 5000,
): Promise<RawGrpcReply> {
  return new Promise<RawGrpcReply>((resolve) => {
    const reply: RawGrpcReply = {
      httpStatus: undefined,
      grpcStatus: undefined,
      grpcMessage: undefined,
      body: Buffer.alloc(0),
      reset: false,
      timedOut: false,
    };
    const chunks: Buffer[] = [];
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reply.body = Buffer.concat(chunks);
      resolve(reply);
    };
    const timer = setTimeout(() => {
      reply.timedOut = true;
      stream.close(http2.constants.NGHTTP2_CANCEL);
      done();
    }, waitMs);
    const readStatus = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] === undefined) return;
      reply.grpcStatus = Number(h['grpc-status']);
      const message = h['grpc-message'];
      reply.grpcMessage = typeof message === 'string' ? safeDecode(message) : undefined;
    };
    const stream = session.request({ ':method': 'POST', te: 'trailers', ...headers });
    stream.on('response', (h) => {
      reply.httpStatus = Number(h[':status']);
      readStatus(h);
    });
    stream.on('trailers', readStatus);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => {
      reply.reset = true;
    });
    stream.on('close', () => {
      if (reply.grpcStatus === undefined && reply.httpStatus === undefined) reply.reset = true;
      done();
    });
    stream.end(body);
  });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The gRPC headers of a unary call to `path` with `api-key` (when given). */
export function grpcHeaders(path: string, apiKey?: string): http2.OutgoingHttpHeaders {
  const headers: http2.OutgoingHttpHeaders = { ':path': path, 'content-type': 'application/grpc' };
  if (apiKey !== undefined) headers['api-key'] = apiKey;
  return headers;
}
