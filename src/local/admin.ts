/**
 * The emulator's own admin endpoints on the controller host (not part of Pinecone's API),
 * so a server started by the CLI can be driven from another process. The controller lets
 * a request through only with the admin key (or the API key) when the server has one;
 * bodies must be JSON (`readJson`); the server's guard has checked Host and Origin.
 *
 * | Method and path | Effect |
 * |---|---|
 * | `GET /admin/health` | `{ status: "ok", indexes, seed }` |
 * | `GET /admin/indexes` | every index with its hosts, shape and faults |
 * | `GET /admin/faults` | the default faults of new indexes |
 * | `POST /admin/faults` | set the default faults and apply them to every index |
 * | `GET /admin/indexes/{name}/faults` | the index's faults |
 * | `POST` (replace) / `PATCH` (merge) / `DELETE` (clear) `/admin/indexes/{name}/faults` | change them; answers the faults now in force |
 * | `GET /admin/indexes/{name}/stats` | the index's stats snapshot |
 * | `POST /admin/indexes/{name}/stats/reset` | restart the index's stats |
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatedIndex, Emulator } from './emulator.js';
import { invalidArgument, methodNotAllowed, notFound } from './errors.js';
import { type FaultConfig, validateFaultConfig } from './faults.js';
import { sendJson } from './http.js';
import { readJson } from './http-body.js';
import { decodePathSegment } from './request-target.js';
import { isObject } from './validate.js';

/** What `GET /admin/indexes` lists per index. */
export interface AdminIndexInfo {
  name: string;
  host: string | undefined;
  grpcHost: string | undefined;
  dimension: number;
  metric: string;
  vectorType: string;
  faults: FaultConfig;
}

/** An index's admin description. */
export function adminIndexInfo(index: EmulatedIndex): AdminIndexInfo {
  return {
    name: index.name,
    host: index.restHost,
    grpcHost: index.grpcHost,
    dimension: index.shape.dimension,
    metric: index.shape.metric,
    vectorType: index.shape.vectorType,
    faults: index.faults.config,
  };
}

/** Handle a request under `/admin`. Errors are thrown for the caller to render. */
export async function handleAdmin(
  emulator: Emulator,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  maxBytes: number,
): Promise<void> {
  const method = req.method ?? 'GET';
  if (path === '/admin/health' && method === 'GET') {
    sendJson(res, 200, { status: 'ok', indexes: emulator.list().length, seed: emulator.seed });
    return;
  }
  if (path === '/admin/indexes' && method === 'GET') {
    sendJson(res, 200, { indexes: emulator.list().map(adminIndexInfo) });
    return;
  }
  if (path === '/admin/faults') {
    if (method === 'GET') {
      sendJson(res, 200, emulator.faults);
      return;
    }
    if (method === 'POST') {
      emulator.setDefaultFaults(validateFaultConfig(await readJson(req, maxBytes)), true);
      sendJson(res, 200, emulator.faults);
      return;
    }
    throw methodNotAllowed(method, path);
  }
  const m = /^\/admin\/indexes\/([^/]+)\/(faults|stats|stats\/reset)$/.exec(path);
  if (!m) throw notFound(`${method} ${path} is not an admin endpoint`);
  const index = emulator.require(decodePathSegment(m[1]!, 'index name'));
  const what = m[2];
  if (what === 'stats') {
    if (method !== 'GET') throw methodNotAllowed(method, path);
    sendJson(res, 200, index.snapshot());
    return;
  }
  if (what === 'stats/reset') {
    if (method !== 'POST') throw methodNotAllowed(method, path);
    index.stats.reset();
    sendJson(res, 200, index.snapshot());
    return;
  }
  switch (method) {
    case 'GET':
      break;
    case 'POST':
      index.faults.configure(validateFaultConfig(await readJson(req, maxBytes)));
      break;
    case 'PATCH': {
      const patch = await readJson(req, maxBytes);
      if (!isObject(patch)) throw invalidArgument('faults must be an object');
      index.faults.configure(mergeFaults(index.faults.config, patch));
      break;
    }
    case 'DELETE':
      index.faults.configure({});
      break;
    default:
      throw methodNotAllowed(method, path);
  }
  sendJson(res, 200, index.faults.config);
}

/** Merge a partial fault config: top-level keys replace; `null` removes a key. */
export function mergeFaults(current: FaultConfig, patch: Record<string, unknown>): FaultConfig {
  // No prototype: a `__proto__` key in the patch is a key (and an unknown option), not a prototype.
  const merged: Record<string, unknown> = Object.assign(Object.create(null), current);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return validateFaultConfig(merged);
}
