/**
 * A raw HTTP/1.1 exchange over one TCP socket, for requests no HTTP client will send
 * (`GET //x:99999/`, bad percent-encoding, a Content-Length the body never reaches) and
 * for watching what the server does with the connection afterwards.
 */
import { connect, type Socket } from 'node:net';

/** What came back: the parsed response (if any), and how the connection ended. */
export interface RawReply {
  /** The status code, or undefined when no complete status line arrived. */
  status: number | undefined;
  /** Response headers, names lower-cased. */
  headers: Record<string, string>;
  /** The response body as text (as much as arrived). */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  json: any;
  /** The server closed the connection (FIN or reset) before `waitMs` ran out. */
  closed: boolean;
  /** A socket error seen (ECONNRESET, EPIPE), if any. */
  error: string | undefined;
  /** Nothing complete arrived and the connection stayed open for `waitMs`. */
  timedOut: boolean;
}

/** The host and port of a base URL such as `http://127.0.0.1:5081`. */
export function hostPort(base: string): { host: string; port: number } {
  const url = new URL(base);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) };
}

/** Options of {@link rawExchange}. */
export interface RawExchangeOptions {
  /** Bytes to send after the head (sent in one write). */
  body?: Buffer | string;
  /** Half-close the socket after writing (default false: keep it open, as keep-alive clients do). */
  end?: boolean;
  /** How long to wait for a complete response or the close (default 5000 ms). */
  waitMs?: number;
  /** Resolve as soon as a complete response arrived (default true); false waits for the close. */
  untilResponse?: boolean;
  /** The request is a HEAD: its response is complete after the headers. */
  headOnly?: boolean;
}

/**
 * Send `head` (request line and headers, `\r\n`-separated, ending in a blank line) and an
 * optional body, then collect what comes back until a complete response arrived (by its
 * Content-Length), the server closed the connection, or `waitMs` passed.
 */
export function rawExchange(base: string, head: string, options: RawExchangeOptions = {}): Promise<RawReply> {
  const { host, port } = hostPort(base);
  const waitMs = options.waitMs ?? 5000;
  const untilResponse = options.untilResponse ?? true;
  return new Promise<RawReply>((resolve) => {
    const socket: Socket = connect(port, host);
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let settled = false;
    const finish = (closed: boolean, timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseReply(Buffer.concat(chunks), closed, error, timedOut));
    };
    const timer = setTimeout(() => finish(false, true), waitMs);
    socket.on('connect', () => {
      socket.write(head);
      if (options.body !== undefined) socket.write(options.body);
      if (options.end) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (untilResponse && isComplete(Buffer.concat(chunks), options.headOnly ?? false)) finish(false, false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on('close', () => finish(true, false));
  });
}

function isComplete(data: Buffer, headOnly: boolean): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  if (headOnly) return true;
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(data.toString('latin1', 0, end + 2));
  return match !== null && data.length >= end + 4 + Number(match[1]);
}

function parseReply(data: Buffer, closed: boolean, error: string | undefined, timedOut: boolean): RawReply {
  const end = data.indexOf('\r\n\r\n');
  const reply: RawReply = {
    status: undefined,
    headers: {},
    text: '',
    json: undefined,
    closed,
    error,
    timedOut: timedOut && end < 0,
  };
  if (end < 0) return reply;
  const [statusLine, ...lines] = data.toString('latin1', 0, end).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  reply.status = status ? Number(status[1]) : undefined;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) reply.headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  // Only this response's body: a pipelined next response may follow in the same bytes.
  const length = reply.headers['content-length'];
  const bodyEnd = length === undefined ? data.length : end + 4 + Number(length);
  reply.text = data.subarray(end + 4, bodyEnd).toString('utf8');
  try {
    reply.json = JSON.parse(reply.text);
  } catch {
    // Not JSON: leave it undefined.
  }
  return reply;
}

/** A request head: `METHOD target HTTP/1.1`, a Host for `base`, then the given headers. */
export function head(
  method: string,
  target: string,
  base: string,
  headers: Record<string, string> = {},
): string {
  const { host, port } = hostPort(base);
  const all: Record<string, string> = {
    host: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    ...headers,
  };
  return `${method} ${target} HTTP/1.1\r\n${Object.entries(all)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}
