/**
 * One REST attempt over undici: build the request, enforce the per-attempt timeout, read
 * and parse the body, and turn every failure into the SDK's typed errors. Retrying is
 * not done here (see `resilience/retry.ts`); {@link RestTransport.classify} tells the
 * loop what a failure means.
 */
import type { Dispatcher } from 'undici';
import {
  ApiError,
  apiErrorFromStatus,
  ConnectionError,
  type PineconeError,
  TimeoutError,
} from '../errors.js';
import { parseRetryAfter } from '../resilience/backoff.js';
import type { FailureClass } from '../resilience/retry.js';
import { API_VERSION, VERSION } from '../version.js';
import { parseHost } from './host.js';
import {
  classifyConnectionFailure,
  plainHttpAnswerError,
  plainHttpAnswerReason,
} from './plain-http-answer.js';

/** HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One attempt's request. */
export interface RestRequest {
  method: HttpMethod;
  /** Path with query string. */
  path: string;
  /**
   * JSON, already encoded: text, bytes, or pieces of bytes sent one after another (an
   * upsert body made of its records' own bytes, which are not copied into one buffer).
   */
  body?: string | Buffer | readonly Uint8Array[] | undefined;
  /** The body's type (default `application/json`; `upsertRecords` sends NDJSON). */
  contentType?: string | undefined;
  /** 1-based attempt number, recorded on errors. */
  attempt: number;
  /** Per-attempt timeout, seconds. */
  timeout: number;
  signal?: AbortSignal | undefined;
}

/** Connection settings of one origin. */
export interface RestTransportOptions {
  /** `https://host` or `http://127.0.0.1:5081`. */
  origin: string;
  apiKey: string;
  dispatcher: Dispatcher;
  retryableStatusCodes: ReadonlySet<number>;
  apiVersion?: string | undefined;
  /** Extra headers sent on every request (e.g. `X-Project-Id`). */
  additionalHeaders?: Record<string, string> | undefined;
  /** Appended to the User-Agent, e.g. the caller's integration name. */
  sourceTag?: string | undefined;
}

/**
 * Split a user-supplied host into an origin (scheme + authority [+ path]) and a log label
 * (authority). A bad host is a `ValidationError` naming `field`.
 */
export function normalizeHost(host: string, field = 'host'): { origin: string; label: string } {
  const url = parseHost(host, field);
  return {
    origin: `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`,
    label: url.host,
  };
}

/** Builds `?a=1&ids=x&ids=y` from defined values; arrays repeat the key. */
export function queryString(params: Record<string, string | number | string[] | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) search.append(key, v);
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

const REDACTED = '[REDACTED]';
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** REST requests to one origin, one attempt at a time. */
export class RestTransport {
  /** The origin requests go to. */
  readonly origin: string;
  /** `host[:port]`, as logs and errors show it. */
  readonly host: string;
  private readonly basePath: string;
  readonly #apiKey: string;
  readonly #headers: Record<string, string>;
  private readonly dispatcher: Dispatcher;
  private readonly retryable: ReadonlySet<number>;

  constructor(options: RestTransportOptions) {
    const { origin, label } = normalizeHost(options.origin);
    const url = new URL(origin);
    this.origin = `${url.protocol}//${url.host}`;
    this.basePath = url.pathname === '/' ? '' : url.pathname;
    this.host = label;
    this.#apiKey = options.apiKey;
    this.dispatcher = options.dispatcher;
    this.retryable = options.retryableStatusCodes;
    const agent = `pinecone-resilient/${VERSION} node/${process.versions.node}`;
    this.#headers = {
      ...options.additionalHeaders,
      'api-key': options.apiKey,
      'x-pinecone-api-version': options.apiVersion ?? API_VERSION,
      'user-agent': options.sourceTag ? `${agent}; source_tag=${options.sourceTag}` : agent,
      accept: 'application/json',
    };
  }

  /**
   * Send one attempt and return the parsed JSON body (`{}` for an empty 2xx body). Throws
   * {@link ApiError} subclasses for error statuses, {@link TimeoutError} when the attempt
   * ran past its timeout, {@link ConnectionError} for network failures and 2xx bodies that
   * cannot be read or parsed. The caller's abort surfaces as whatever undici throws; the
   * retry loop checks the signal itself.
   */
  async send<T>(req: RestRequest): Promise<T> {
    const controller = new AbortController();
    const timeoutMs = req.timeout * 1000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const forwardAbort = () => controller.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', forwardAbort, { once: true });
    if (req.signal?.aborted) controller.abort(req.signal.reason);
    try {
      const headers = req.body === undefined ? this.#headers : this.bodyHeaders(req.body, req.contentType);
      let response: Dispatcher.ResponseData;
      let text: string;
      try {
        response = await this.dispatcher.request({
          origin: this.origin,
          path: this.basePath + req.path,
          method: req.method,
          headers,
          // undici sends an iterable body piece by piece (its types omit iterables).
          body: req.body as string | Buffer | undefined,
          signal: controller.signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        text = await response.body.text();
      } catch (error) {
        throw this.networkError(error, req, timedOut);
      }
      const requestId = headerValue(response.headers['x-pinecone-request-id']);
      if (response.statusCode >= 200 && response.statusCode < 300) {
        if (text.trim() === '') return {} as T;
        try {
          return JSON.parse(text) as T;
        } catch (cause) {
          throw new ConnectionError(
            `HTTP ${response.statusCode} from ${this.host} with a body that is not valid JSON (truncated or malformed); nothing counts as written by this reply`,
            { host: this.host, attempts: req.attempt, code: 'BAD_BODY', cause },
          );
        }
      }
      throw this.apiError(response, text, req.attempt, requestId);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', forwardAbort);
    }
  }

  /** Headers of a request with a body; pieces need their total length said up front. */
  private bodyHeaders(body: string | Buffer | readonly Uint8Array[], contentType: string | undefined) {
    const headers: Record<string, string> = {
      ...this.#headers,
      'content-type': contentType ?? 'application/json',
    };
    if (Array.isArray(body)) {
      let length = 0;
      for (const piece of body as readonly Uint8Array[]) length += piece.length;
      headers['content-length'] = String(length);
    }
    return headers;
  }

  /** What the retry loop should do about an error {@link send} threw. */
  classify(error: unknown): FailureClass {
    if (error instanceof ApiError) {
      const retryable = this.retryable.has(error.status);
      return {
        retryable,
        throttle: error.status === 429 || error.status === 503,
        rateLimited: error.status === 429,
        label: error.status,
        retryAfterMs: retryable ? error.retryAfterMs : undefined,
      };
    }
    if (error instanceof TimeoutError)
      return { retryable: true, throttle: false, rateLimited: false, label: 'TIMEOUT' };
    if (error instanceof ConnectionError) return classifyConnectionFailure(error);
    return { retryable: false, throttle: false, rateLimited: false, label: 'ERROR' };
  }

  /** Never shows the key, even if a (misbehaving) server echoes it back. */
  private redact(text: string): string {
    return this.#apiKey && text.includes(this.#apiKey) ? text.split(this.#apiKey).join(REDACTED) : text;
  }

  private apiError(
    response: Dispatcher.ResponseData,
    rawText: string,
    attempt: number,
    requestId?: string,
  ): ApiError {
    const text = this.redact(rawText);
    let body: unknown = text;
    try {
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      // Proxies and load balancers answer with HTML or plain text; keep it as text.
    }
    const { code, message } = readErrorBody(body);
    return apiErrorFromStatus({
      status: response.statusCode,
      host: this.host,
      attempts: attempt,
      code,
      serverMessage: message,
      body,
      requestId,
      retryAfterMs: parseRetryAfter(response.headers),
      transport: 'rest',
    });
  }

  private networkError(error: unknown, req: RestRequest, timedOut: boolean): PineconeError {
    const code = errorCode(error);
    if (timedOut || (code !== undefined && TIMEOUT_CODES.has(code))) {
      return new TimeoutError(
        `No complete response from ${this.host} within the ${req.timeout}s per-attempt timeout (attempt ${req.attempt}); raise the \`timeout\` option if requests are legitimately slow`,
        { host: this.host, attempts: req.attempt, timeout: req.timeout },
      );
    }
    const detail = error instanceof Error ? this.redact(error.message) : String(error);
    const plainHttp = plainHttpAnswerReason(code);
    if (plainHttp) {
      return plainHttpAnswerError(this.host, plainHttp, {
        attempts: req.attempt,
        cause: this.redactedCause(error),
      });
    }
    return new ConnectionError(
      `Could not complete the request to ${this.host}: ${code ?? 'network error'} (${detail})`,
      {
        host: this.host,
        attempts: req.attempt,
        code,
        cause: this.redactedCause(error),
      },
    );
  }

  /**
   * A network error as a cause that cannot show the key: name, code, message and stack
   * (redacted), down its cause chain, and nothing else. undici's errors carry more, such
   * as the raw bytes a parser choked on (`HTTPParserError.data`), which hold whatever the
   * server sent, a header echoing the key included.
   */
  private redactedCause(error: unknown, depth = 0): unknown {
    if (!(error instanceof Error)) return typeof error === 'string' ? this.redact(error) : undefined;
    const copy = new Error(this.redact(error.message));
    copy.name = error.name;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') Object.assign(copy, { code });
    copy.stack = this.redact(error.stack ?? '');
    if (error.cause !== undefined && depth < 4) copy.cause = this.redactedCause(error.cause, depth + 1);
    return copy;
  }
}

/** The server's code and message from any of Pinecone's three error body shapes, or raw text. */
export function readErrorBody(body: unknown): { code?: string | number; message?: string } {
  if (typeof body === 'string') return body.trim() ? { message: body.trim().slice(0, 500) } : {};
  if (!body || typeof body !== 'object') return {};
  const b = body as { error?: unknown; code?: unknown; message?: unknown };
  if (b.error && typeof b.error === 'object') {
    const e = b.error as { code?: unknown; message?: unknown };
    return {
      code: typeof e.code === 'string' || typeof e.code === 'number' ? e.code : undefined,
      message:
        typeof e.message === 'string' ? e.message : typeof b.message === 'string' ? b.message : undefined,
    } as { code?: string | number; message?: string };
  }
  if (typeof b.error === 'string') return { message: b.error };
  const result: { code?: string | number; message?: string } = {};
  if (typeof b.code === 'string' || typeof b.code === 'number') result.code = b.code;
  if (typeof b.message === 'string') result.message = b.message;
  return result;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'ABORT_ERR') return code;
    if (typeof code === 'string' && !(e as { cause?: unknown }).cause) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
