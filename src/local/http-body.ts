/**
 * Reading request bodies: bounded (a body past the limit is refused from its
 * `Content-Length` or the running count and discarded unread, never buffered), declared
 * as uncompressed JSON, valid UTF-8, not nested past the limit; a client that goes away
 * mid-body is told apart from one the server timed out.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  ClientAbortError,
  invalidArgument,
  payloadTooLarge,
  requestTimeout,
  unsupportedMediaType,
} from './errors.js';
import { assertBodyDepth } from './json-depth.js';

/**
 * Largest raw body read at all (larger: 413 at once, from `Content-Length` or the running
 * count, never buffered). Pinecone's 2 MB limit counts an upsert's binary size (4 bytes
 * per float); the same request as compact JSON takes up to about 6 times as many bytes.
 */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Sockets the server timed out (so a handler waiting on their body records a 408, not an abort). */
const timedOut = new WeakSet<Socket>();

/** Note that the server's request timeout cut this connection off. */
export function markTimedOut(socket: Socket): void {
  timedOut.add(socket);
}

/**
 * Read the whole body. Past `maxBytes` (by `Content-Length` at once, else by the running
 * count) it rejects with a 413 `EmulatorError` and discards the rest as it arrives (never
 * buffered), so the client can finish sending and read the 413 on a connection that stays
 * usable; a client that keeps sending far past the limit is cut off. A client that goes
 * away mid-body rejects with a {@link ClientAbortError} (with a 408 when the server's
 * request timeout cut it off).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    discardRest(req, maxBytes, 0);
    return Promise.reject(tooLarge(declared, maxBytes));
  }
  if (req.destroyed && !req.complete) return Promise.reject(abortError(req));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('aborted', onAbort);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        stop();
        discardRest(req, maxBytes, size);
        reject(tooLarge(size, maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onAbort = () => {
      stop();
      reject(abortError(req));
    };
    const onClose = () => {
      if (!req.complete) onAbort();
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onAbort);
    req.once('aborted', onAbort);
    req.once('close', onClose);
  });
}

/** Read and discard the rest of a body; past a generous allowance, drop the connection. */
function discardRest(req: IncomingMessage, maxBytes: number, seen: number): void {
  const allowance = Math.max(64 * 1024 * 1024, 2 * maxBytes);
  let total = seen;
  req.on('data', (chunk: Buffer) => {
    total += chunk.length;
    if (total > allowance) req.socket.destroy();
  });
  req.on('error', () => undefined);
  req.resume();
}

function abortError(req: IncomingMessage): Error {
  if (timedOut.has(req.socket)) {
    return requestTimeout('The request body did not arrive in full within the server’s request timeout');
  }
  return new ClientAbortError('The client went away before sending its whole request');
}

function tooLarge(size: number, max: number) {
  return payloadTooLarge(`Request body of ${size} bytes is larger than the ${max} bytes the server accepts`);
}

/** The media types a JSON body may be declared as: `application/json`, `application/*+json`. */
export const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** The media types of a records upsert: NDJSON (what the official client sends), or JSON. */
export const NDJSON_TYPE = /^application\/(?:x-ndjson|jsonl|(?:[\w.+-]+\+)?json)\s*(?:;|$)/i;

/**
 * Check that a request's body (when it has one) is declared as uncompressed JSON: 415
 * otherwise, as Pinecone's API answers. This is also what keeps a web page's cross-site
 * form or `no-cors` fetch (which can only send `text/plain`, forms) from acting.
 */
export function assertJsonBody(req: IncomingMessage, type: RegExp = JSON_TYPE): void {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw unsupportedMediaType(
      `Content-Encoding ${JSON.stringify(encoding)} is not supported: send the body uncompressed`,
    );
  }
  const length = req.headers['content-length'];
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
  if (hasBody && !type.test(req.headers['content-type'] ?? '')) {
    throw unsupportedMediaType('Expected request with `Content-Type: application/json`');
  }
}

/** {@link assertJsonBody}, then {@link readBody}: the raw bytes of a JSON (or `type`) request body. */
export function readJsonBody(
  req: IncomingMessage,
  maxBytes: number,
  type: RegExp = JSON_TYPE,
): Promise<Buffer> {
  try {
    assertJsonBody(req, type);
  } catch (err) {
    return Promise.reject(err);
  }
  return readBody(req, maxBytes);
}

const DESERIALIZE = 'Failed to deserialize the JSON body into the target type';

/**
 * Parse a JSON body; an empty body is `undefined`. Not UTF-8, not JSON, or nested deeper
 * than the limit: a 400 (the first two in Pinecone's words).
 */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  // Bodies are nearly always ASCII (numbers and ids); latin1 decodes those ~3x faster than utf8.
  const ascii = isAscii(body);
  if (!ascii && !isUtf8(body)) throw invalidArgument(`${DESERIALIZE}: the body is not valid UTF-8`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString(ascii ? 'latin1' : 'utf8'));
  } catch (err) {
    throw invalidArgument(`${DESERIALIZE}: ${(err as Error).message}`);
  }
  assertBodyDepth(parsed);
  return parsed;
}

/** Read and parse a JSON request body (undefined when empty). */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return parseJsonBody(await readJsonBody(req, maxBytes));
}
