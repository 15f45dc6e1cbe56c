/**
 * A TCP server on 127.0.0.1 that answers HTTP/1.1 requests with raw bytes from a script,
 * for fuzzing the SDK's REST client with responses no well-behaved server would send
 * (garbage status lines, conflicting lengths, bad chunking, non-UTF-8 bodies, stalls).
 * Replies are scripted per case (`case-scripts.ts`).
 */
import { createServer, type Socket } from 'node:net';
import { type CaseScripts, caseScripts, listenScripted } from './case-scripts.js';

/** What the server does after writing a reply's bytes. */
export type AfterReply =
  /** Keep the connection for the next request (the reply was framed exactly). */
  | 'keep'
  /** Close the connection (a body delimited by the close, or a broken reply). */
  | 'close'
  /** Reset the connection. */
  | 'reset'
  /** Do nothing more: the client's timeout must end the exchange. */
  | 'stall';

/** One scripted reply. */
export interface RawReply {
  bytes: Buffer;
  after: AfterReply;
}

/** Handle on a running raw-response server. */
export interface RawResponseServer extends CaseScripts<RawReply> {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  close(): Promise<void>;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** A request head or body larger than this is not one of ours: drop the connection. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** Start the server on an ephemeral loopback port. */
export async function startRawResponseServer(): Promise<RawResponseServer> {
  const scripts = caseScripts<RawReply>();
  const sockets = new Set<Socket>();

  const answer = (socket: Socket, request: Buffer): AfterReply => {
    const reply = scripts.next(request.toString('latin1'));
    if (!reply) {
      socket.end('HTTP/1.1 599 No Script\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return 'close';
    }
    if (reply.bytes.length > 0) socket.write(reply.bytes);
    if (reply.after === 'close') socket.end();
    else if (reply.after === 'reset') socket.resetAndDestroy();
    return reply.after;
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered: Buffer = Buffer.alloc(0);
    let done = false;
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      // Serve every complete request in the buffer (keep-alive reuses the connection).
      for (;;) {
        const headEnd = buffered.indexOf(HEAD_END);
        if (headEnd < 0) break;
        const head = buffered.subarray(0, headEnd).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        const total = headEnd + HEAD_END.length + length;
        if (buffered.length < total) break;
        const request = buffered.subarray(0, total);
        buffered = buffered.subarray(total);
        if (answer(socket, request) !== 'keep') {
          done = true;
          return;
        }
      }
      if (buffered.length > MAX_REQUEST_BYTES) socket.destroy();
    });
  });
  return listenScripted(server, scripts, () => {
    for (const socket of sockets) socket.destroy();
  });
}
