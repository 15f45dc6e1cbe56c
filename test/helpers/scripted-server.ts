/**
 * A real HTTP server on 127.0.0.1 that answers from a script, for testing the SDK's
 * handling of exact wire sequences (429 then 200, resets, stalls). Not a mock of the
 * SDK's HTTP layer: the SDK talks to it over a real socket.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted reply. */
export interface Reply {
  status?: number;
  body?: unknown;
  /** Raw body text (wins over `body`). */
  text?: string;
  headers?: Record<string, string>;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
  /** Wait this long before answering (ms). */
  delayMs?: number;
  /** Send headers claiming more bytes than sent, then close. */
  truncate?: boolean;
}

/** What the server saw. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Handle on a running scripted server. */
export interface ScriptedServer {
  url: string;
  requests: SeenRequest[];
  /** Queue replies; when the queue is empty, `fallback` answers. */
  push(...replies: Reply[]): void;
  fallback: Reply;
  close(): Promise<void>;
}

/** Start a scripted server on an ephemeral loopback port. */
export async function startScriptedServer(
  fallback: Reply = { status: 200, body: {} },
): Promise<ScriptedServer> {
  const queue: Reply[] = [];
  const requests: SeenRequest[] = [];
  const state: { fallback: Reply } = { fallback };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const reply = queue.shift() ?? state.fallback;
      const answer = () => {
        if (reply.reset) {
          req.socket.destroy();
          return;
        }
        const text = reply.text ?? JSON.stringify(reply.body ?? {});
        if (reply.truncate) {
          res.writeHead(reply.status ?? 200, {
            'content-type': 'application/json',
            'content-length': String(text.length + 50),
          });
          res.write(text);
          setImmediate(() => req.socket.destroy());
          return;
        }
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
        res.end(text);
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    push: (...replies) => queue.push(...replies),
    get fallback() {
      return state.fallback;
    },
    set fallback(r: Reply) {
      state.fallback = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
