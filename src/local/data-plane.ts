/**
 * The REST data plane: one HTTP server per index (its own port, so the host names the
 * index), speaking Pinecone's wire format. Per request: authenticate, ask the index's
 * fault injector what to do (BEFORE the store is touched), then either act out the fault
 * or run the operation, and record the outcome in the index's stats.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sharedAbortController } from '../resilience/abort.js';
import { systemClock } from '../resilience/clock.js';
import { type HostPolicy, keyMatches } from './access.js';
import type { EmulatedIndex, IndexTransport } from './emulator.js';
import { ClientAbortError, EmulatorError, GrpcCode } from './errors.js';
import { type FaultDecision, runsOperation } from './faults.js';
import {
  apiKeyOf,
  apiVersionOf,
  baseUrl,
  createDualProtocolServer,
  createEmulatorServer,
  type DualProtocolServer,
  listenForIndex,
  queryParams,
  sendJson,
  sendText,
} from './http.js';
import { DEFAULT_MAX_BODY_BYTES, JSON_TYPE, NDJSON_TYPE, parseJsonBody, readJsonBody } from './http-body.js';
import { DEFAULT_LIMITS, type ServerLimits } from './http-limits.js';
import type { DataOperation } from './operation-names.js';
import { runOperation } from './operations.js';
import { decodePathSegment, parseRequestTarget } from './request-target.js';
import type { Outcome } from './stats.js';
import { untilClosed } from './until-closed.js';

/** Options of the REST data plane. */
export interface RestDataPlaneOptions {
  /** Address to bind, e.g. `127.0.0.1`. */
  host: string;
  /** First port to try for an index; 0 = any free port per index. */
  portStart: number;
  /** When set, requests must carry this `Api-Key` (else 401 `Unauthorized`). */
  apiKey?: string | undefined;
  /** Largest raw body read (default 16 MiB). */
  maxBodyBytes?: number | undefined;
  /** Timeouts and connection cap of each index's port (default `DEFAULT_LIMITS`). */
  limits?: ServerLimits | undefined;
  /** Host and Origin checks (see `access.ts`). */
  hosts?: HostPolicy | undefined;
}

interface RouteMatch {
  operation: DataOperation;
  params?: Record<string, string>;
}

const ROUTES: Record<string, Partial<Record<string, DataOperation>>> = {
  '/vectors/upsert': { POST: 'upsert' },
  '/query': { POST: 'query' },
  '/vectors/fetch': { GET: 'fetch' },
  '/vectors/delete': { POST: 'delete' },
  '/vectors/update': { POST: 'update' },
  '/describe_index_stats': { GET: 'describe_index_stats', POST: 'describe_index_stats' },
  '/vectors/list': { GET: 'list' },
  '/vectors/fetch_by_metadata': { POST: 'fetch_by_metadata' },
  '/namespaces': { GET: 'list_namespaces', POST: 'create_namespace' },
  '/bulk/imports': { GET: 'list_imports', POST: 'start_import' },
};

/** Routes with one path parameter: pattern, parameter name, operation per method. */
const PARAM_ROUTES: [RegExp, string, Partial<Record<string, DataOperation>>][] = [
  [/^\/namespaces\/([^/]+)$/, 'namespace', { GET: 'describe_namespace', DELETE: 'delete_namespace' }],
  [/^\/bulk\/imports\/([^/]+)$/, 'id', { GET: 'describe_import', DELETE: 'cancel_import' }],
  [/^\/records\/namespaces\/([^/]+)\/upsert$/, 'namespace', { POST: 'upsert_records' }],
  [/^\/records\/namespaces\/([^/]+)\/search$/, 'namespace', { POST: 'search_records' }],
];

/** Map a method and path to an operation; `405` when the path exists but not the method. */
export function matchDataRoute(method: string, pathname: string): RouteMatch | 405 | undefined {
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  // Own keys only: a path or method named like an Object.prototype member is no route.
  const methods = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  if (methods) {
    const operation = Object.hasOwn(methods, method) ? methods[method] : undefined;
    return operation ? { operation } : 405;
  }
  for (const [pattern, name, byMethod] of PARAM_ROUTES) {
    const m = pattern.exec(path);
    if (!m) continue;
    const operation = Object.hasOwn(byMethod, method) ? byMethod[method] : undefined;
    if (!operation) return 405;
    return {
      operation,
      params: { [name]: decodePathSegment(m[1]!, name === 'id' ? 'import id' : 'namespace name') },
    };
  }
  return undefined;
}

/** Body of a truncated response: a plausible JSON object, of which only half is sent. */
const TRUNCATED_BODY = JSON.stringify({
  emulator: 'this response is truncated on purpose',
  padding: 'x'.repeat(200),
});
const MALFORMED_BODY = 'not json: the emulator injected a malformed response body';

/** Serves the REST data plane of every index, one server (and port) each. */
export class RestDataPlane implements IndexTransport {
  private readonly servers = new Map<EmulatedIndex, { front: DualProtocolServer; port: number }>();
  /** Ports not to hand to an index (the controller's). */
  readonly reservedPorts = new Set<number>();
  /** Aborts pending latency sleeps on close; one listener per request in its latency wait. */
  private readonly closing = sharedAbortController();
  private readonly maxBodyBytes: number;
  private readonly limits: ServerLimits;

  constructor(private readonly options: RestDataPlaneOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.limits = options.limits ?? DEFAULT_LIMITS;
  }

  async attach(index: EmulatedIndex): Promise<void> {
    const http = createEmulatorServer((req, res) => this.handle(index, req, res), {
      limits: this.limits,
      hosts: this.options.hosts,
    });
    // One port per index for REST and gRPC alike, as a Pinecone index host serves both.
    const front = createDualProtocolServer(http, () => index.acceptHttp2, this.limits);
    const taken = [...this.reservedPorts, ...[...this.servers.values()].map((s) => s.port)];
    const port = await listenForIndex(front.server, this.options.host, this.options.portStart, taken);
    this.servers.set(index, { front, port });
    index.restHost = baseUrl(this.options.host, port);
  }

  async detach(index: EmulatedIndex): Promise<void> {
    const entry = this.servers.get(index);
    if (!entry) return;
    this.servers.delete(index);
    index.restHost = undefined;
    await entry.front.close();
  }

  async close(): Promise<void> {
    this.closing.abort();
    const all = [...this.servers.entries()];
    this.servers.clear();
    await Promise.all(
      all.map(([index, { front }]) => {
        index.restHost = undefined;
        return front.close();
      }),
    );
  }

  private async handle(index: EmulatedIndex, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseRequestTarget(req.url);
    const method = req.method ?? 'GET';
    const match = matchDataRoute(method, url.pathname);
    if (match === undefined || match === 405) {
      const status = match ?? 404;
      const code = status === 404 ? GrpcCode.NOT_FOUND : GrpcCode.UNIMPLEMENTED;
      sendJson(res, status, {
        code,
        message: `${method} ${url.pathname} is not an endpoint of this index`,
        details: [],
      });
      return;
    }
    const op = match.operation;
    const key = this.options.apiKey;
    if (key !== undefined && !keyMatches(apiKeyOf(req), key)) {
      // Pinecone's data plane answers a missing or wrong key with plain text.
      sendText(res, 401, 'Unauthorized');
      index.stats.record(op, 401);
      return;
    }
    const decision = index.faults.decide(op);
    if (decision.action === 'throttle') {
      this.sendError(res, decision.error);
      index.stats.record(op, 429);
      return;
    }
    index.faults.enter();
    index.stats.observeInFlight(index.faults.inFlight);
    try {
      // The body first (bounded by the request timeout), then the latency: a delay never
      // leaves a body half-read, and reading it never counts as the server's latency.
      const raw =
        method === 'POST'
          ? await readJsonBody(req, this.maxBodyBytes, op === 'upsert_records' ? NDJSON_TYPE : JSON_TYPE)
          : undefined;
      if (decision.delayMs > 0) await systemClock.sleep(decision.delayMs, this.closing.signal);
      // A client that went away meanwhile gave up on the request: it must not be carried out.
      if (req.socket.destroyed || !req.socket.writable) throw new ClientAbortError('The client went away');
      if (!runsOperation(decision)) {
        index.stats.record(op, await this.actOut(decision, req, res));
        return;
      }
      // Records for integrated embedding arrive as NDJSON, one record per line.
      const body =
        raw && op === 'upsert_records' ? raw.toString('utf8') : raw ? parseJsonBody(raw) : undefined;
      const result = runOperation(
        op,
        index.store,
        { body, query: queryParams(url), params: match.params ?? {} },
        { apiVersion: apiVersionOf(req) },
      );
      const status = op === 'create_namespace' || op === 'upsert_records' ? 201 : 200;
      const written = op === 'upsert' ? (result.upsertedCount as number) : 0;
      if (decision.action === 'reset-after-write') {
        // Done, and never told: the client must treat the write as unknown and retry.
        resetConnection(req);
        index.stats.record(op, 'reset-after-write');
      } else if (decision.action === 'slow-body') {
        const delivered = await this.sendSlowly(res, status, result, decision.durationMs);
        index.stats.record(op, delivered ? status : 'slow-body', delivered ? written : 0);
      } else {
        sendJson(res, status, result);
        index.stats.record(op, status, written);
      }
    } catch (err) {
      index.stats.record(op, this.fail(err, req, res));
    } finally {
      index.faults.leave();
    }
  }

  /** Act out an injected fault; returns the outcome to record. */
  private async actOut(
    decision: Exclude<FaultDecision, { action: 'proceed' | 'throttle' | 'reset-after-write' | 'slow-body' }>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<Outcome> {
    if (decision.action === 'reset') {
      resetConnection(req);
      return 'reset';
    }
    // The body has been read already: closing a socket with unread input makes the kernel
    // send an RST, and the client would see a reset instead of the intended response.
    switch (decision.action) {
      case 'hang':
        // Headers never come: hold the request until the client gives up or we close.
        await untilClosed(req.socket, this.closing.signal);
        return 'hang';
      case 'error':
        if (decision.proxyText !== undefined) sendText(res, decision.status, decision.proxyText);
        else this.sendError(res, decision.error);
        return decision.status;
      case 'malformed':
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(MALFORMED_BODY),
        });
        res.end(MALFORMED_BODY);
        return 'malformed';
      default: {
        // Truncated: promise the whole body, send half, then close the connection.
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(TRUNCATED_BODY),
        });
        await new Promise<void>((resolve) => {
          res.write(TRUNCATED_BODY.slice(0, TRUNCATED_BODY.length >> 1), () => resolve());
        });
        req.socket.end();
        return 'truncated';
      }
    }
  }

  /**
   * Answer `status` with `body` as JSON, the body spread over `durationMs` in ten parts.
   * Resolves whether all of it went out (false: the client hung up, or we closed).
   */
  private async sendSlowly(
    res: ServerResponse,
    status: number,
    body: unknown,
    durationMs: number,
  ): Promise<boolean> {
    const bytes = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length });
    const parts = 10;
    for (let i = 0; i < parts; i++) {
      if (res.destroyed || this.closing.signal.aborted) return false;
      const chunk = bytes.subarray(
        Math.floor((i * bytes.length) / parts),
        Math.floor(((i + 1) * bytes.length) / parts),
      );
      if (i === parts - 1) res.end(chunk);
      else {
        res.write(chunk);
        try {
          await systemClock.sleep(durationMs / parts, this.closing.signal);
        } catch {
          return false;
        }
      }
    }
    return !res.destroyed;
  }

  /** Render an error; returns the outcome to record. */
  private fail(err: unknown, req: IncomingMessage, res: ServerResponse): Outcome {
    // The client went away mid-request: nobody to answer, and no fault of the server's.
    if (err instanceof ClientAbortError) return 'aborted';
    if (res.headersSent || this.closing.signal.aborted) {
      req.socket.destroy();
      return 'reset';
    }
    if (err instanceof EmulatorError) {
      // A 408 from the request timeout has been answered on the socket already.
      if (req.socket.writable) this.sendError(res, err);
      return err.httpStatus;
    }
    sendJson(res, 500, {
      code: GrpcCode.INTERNAL,
      message: `Internal error: ${(err as Error).message}`,
      details: [],
    });
    return 500;
  }

  private sendError(res: ServerResponse, err: EmulatorError, headers: Record<string, string> = {}): void {
    if (err.retryAfterSeconds !== undefined)
      headers['retry-after'] = String(Math.ceil(err.retryAfterSeconds));
    sendJson(res, err.httpStatus, err.dataPlaneBody(), headers);
  }
}

/** Drop the connection without a response: an RST where the platform allows it. */
export function resetConnection(req: IncomingMessage): void {
  const socket = req.socket as IncomingMessage['socket'] & { resetAndDestroy?: () => void };
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}
