/**
 * The control plane (`/indexes`) on the controller host, in Pinecone's REST shapes for
 * the request's API version, plus the emulator's own `/admin` endpoints (see `admin.ts`).
 * Errors use the control plane's body: `{ status, error: { code, message } }`. `/admin`
 * takes the admin key when one is set, else the API key.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { keyMatches } from './access.js';
import { handleAdmin } from './admin.js';
import type { Emulator } from './emulator.js';
import { type EmulatorError, methodNotAllowed, notFound, unauthenticated } from './errors.js';
import { apiKeyOf, apiVersionOf, type Handler, sendJson, toEmulatorError } from './http.js';
import { DEFAULT_MAX_BODY_BYTES, readJson } from './http-body.js';
import { applyConfigureIndex, parseCreateIndexRequest, renderIndexModel } from './index-models.js';
import { decodePathSegment, parseRequestTarget } from './request-target.js';

/** Options of the controller. */
export interface ControllerOptions {
  /** When set, `/indexes` requests must carry this `Api-Key` (else 401), and `/admin` too unless `adminKey` is set. */
  apiKey?: string | undefined;
  /** When set, `/admin` requests must carry this `Api-Key` instead of `apiKey`. */
  adminKey?: string | undefined;
  /** Largest raw body read (default 16 MiB). */
  maxBodyBytes?: number | undefined;
}

/** The control plane's error body (what the controller's server guard answers with). */
export function controlPlaneErrorBody(err: EmulatorError): unknown {
  return err.controlPlaneBody();
}

/** Render any error thrown by a handler in the control plane's shape. */
export function sendControlError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e = toEmulatorError(err);
  sendJson(res, e.httpStatus, e.controlPlaneBody());
}

/** The controller host's request handler. */
export function createControllerHandler(emulator: Emulator, options: ControllerOptions = {}): Handler {
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const adminKey = options.adminKey ?? options.apiKey;
  return async (req, res) => {
    try {
      const { pathname: path } = parseRequestTarget(req.url);
      if (path === '/admin' || path.startsWith('/admin/')) {
        if (adminKey !== undefined && !keyMatches(apiKeyOf(req), adminKey))
          throw unauthenticated('Invalid API Key');
        await handleAdmin(emulator, req, res, path, maxBytes);
        return;
      }
      if (options.apiKey !== undefined && !keyMatches(apiKeyOf(req), options.apiKey))
        throw unauthenticated('Invalid API Key');
      await handleIndexes(emulator, req, res, path, maxBytes);
    } catch (err) {
      sendControlError(res, err);
    }
  };
}

async function handleIndexes(
  emulator: Emulator,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  maxBytes: number,
): Promise<void> {
  const method = req.method ?? 'GET';
  const version = apiVersionOf(req);
  if (path === '/indexes') {
    if (method === 'GET') {
      sendJson(res, 200, { indexes: emulator.list().map((i) => renderIndexModel(i, version)) });
      return;
    }
    if (method === 'POST') {
      const def = parseCreateIndexRequest(await readJson(req, maxBytes));
      const index = await emulator.createIndex(def);
      sendJson(res, 201, renderIndexModel(index, version));
      return;
    }
    throw methodNotAllowed(method, path);
  }
  const m = /^\/indexes\/([^/]+)$/.exec(path);
  if (!m) throw notFound(`${method} ${path} is not an endpoint of the emulator's control plane`);
  const name = decodePathSegment(m[1]!, 'index name');
  switch (method) {
    case 'GET':
      sendJson(res, 200, renderIndexModel(emulator.require(name), version));
      return;
    case 'PATCH': {
      const index = emulator.require(name);
      applyConfigureIndex(index, await readJson(req, maxBytes));
      sendJson(res, 200, renderIndexModel(index, version));
      return;
    }
    case 'DELETE':
      await emulator.deleteIndex(name);
      res.writeHead(202, { 'content-length': 0 });
      res.end();
      return;
    default:
      throw methodNotAllowed(method, path);
  }
}
