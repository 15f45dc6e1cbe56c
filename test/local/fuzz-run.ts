/**
 * The fuzz suite's engine (issue 15), shared by `fuzz.test.ts` (a few hundred seeded cases
 * in CI) and `bench/emulator-fuzz.ts` (as many as asked). Each case from `fuzz-cases.ts` is
 * sent over a fresh connection and judged: answered within a bound, never a 5xx, and a
 * 4xx in the plane's error shape (gRPC: never INTERNAL, UNKNOWN or UNAVAILABLE); after
 * each case a well-formed request must still succeed. No faults are configured, so every
 * 5xx would be the emulator's own.
 */
import http2 from 'node:http2';
import { create, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { UpsertRequestSchema } from '../../src/gen/db_data_pb.js';
import { type LocalServer, type LocalServerOptions, startLocalServer } from '../../src/local.js';
import { controllerCase, dataPlaneCase, FUZZ_API_KEY, type HttpCase, httpBytes } from './fuzz-cases.js';
import { type GrpcCase, grpcCase } from './fuzz-grpc-cases.js';
import { call, vectors } from './http-helpers.js';
import { frame, grpcExchange, grpcHeaders, type RawGrpcReply } from './raw-grpc.js';
import { type RawReply, rawExchange } from './raw-http.js';

/** Options of a fuzz run. */
export interface FuzzOptions {
  numRuns: number;
  seed: number;
  /** How long one case may take to be answered (default 5000 ms). */
  boundMs?: number;
}

/** What a run saw, per plane. */
export interface PlaneReport {
  plane: string;
  cases: number;
  /** Answers by class: `2xx`, `4xx`, gRPC `OK`, `INVALID_ARGUMENT`, ... */
  answers: Record<string, number>;
  /** Milliseconds to the answer, sorted. */
  latencies: number[];
}

/** Index layout and limits of the fuzzed emulator (short timeouts keep slow cases quick). */
export const FUZZ_SERVER: LocalServerOptions = {
  apiKey: FUZZ_API_KEY,
  indexes: [
    { name: 'fuzz', dimension: 4, metric: 'cosine' },
    { name: 'ctl', dimension: 2, metric: 'dotproduct' },
  ],
  headersTimeoutMs: 300,
  requestTimeoutMs: 600,
  idleTimeoutMs: 5000,
  seed: 15,
};

/** Start an emulator to fuzz, with records in a namespace no case names (`keep`). */
export async function startFuzzTarget(): Promise<LocalServer> {
  const server = await startLocalServer(FUZZ_SERVER);
  const r = await call(
    server.indexHost('fuzz'),
    'POST',
    '/vectors/upsert',
    { namespace: 'keep', vectors: vectors(5, 4) },
    {
      'Api-Key': FUZZ_API_KEY,
    },
  );
  if (r.status !== 200) throw new Error(`seeding the fuzz target failed: ${r.status} ${r.text}`);
  return server;
}

const KEY = { 'Api-Key': FUZZ_API_KEY };

function report(plane: string): PlaneReport {
  return { plane, cases: 0, answers: {}, latencies: [] };
}

function count(r: PlaneReport, answer: string, ms: number): void {
  r.cases++;
  r.answers[answer] = (r.answers[answer] ?? 0) + 1;
  r.latencies.push(ms);
}

/** Why an HTTP answer breaks the rules, or undefined when it keeps them. */
function judgeHttp(
  c: HttpCase,
  reply: RawReply,
  shape: 'data' | 'control',
  boundMs: number,
): string | undefined {
  if (reply.status === undefined) {
    return `no answer within ${boundMs} ms (closed: ${reply.closed}, error: ${reply.error ?? 'none'})`;
  }
  if (reply.status >= 500) return `answered ${reply.status}: ${reply.text.slice(0, 300)}`;
  if (reply.status < 400 || c.method === 'HEAD') return undefined;
  const body = reply.json;
  if (shape === 'data') {
    if (reply.status === 401 && reply.text === 'Unauthorized') return undefined; // Pinecone's plain-text 401
    const ok =
      body !== null &&
      typeof body === 'object' &&
      Number.isInteger(body.code) &&
      typeof body.message === 'string' &&
      Array.isArray(body.details);
    return ok ? undefined : `a ${reply.status} not in the data plane's shape: ${reply.text.slice(0, 300)}`;
  }
  const ok =
    body !== null &&
    typeof body === 'object' &&
    body.status === reply.status &&
    typeof body.error?.code === 'string' &&
    typeof body.error?.message === 'string';
  return ok ? undefined : `a ${reply.status} not in the control plane's shape: ${reply.text.slice(0, 300)}`;
}

async function sendHttp(base: string, c: HttpCase, boundMs: number): Promise<[RawReply, number]> {
  const { head, body } = httpBytes(c);
  const started = performance.now();
  const reply = await rawExchange(base, head, { body, waitMs: boundMs, headOnly: c.method === 'HEAD' });
  return [reply, performance.now() - started];
}

function httpClass(reply: RawReply): string {
  return reply.status === undefined ? 'none' : `${Math.floor(reply.status / 100)}xx`;
}

/**
 * Fuzz one HTTP port: each case is judged, `settle` puts the server back (the controller's
 * cases may create indexes or set faults), then `serves` must still succeed.
 */
async function fuzzHttp(
  r: PlaneReport,
  base: string,
  cases: fc.Arbitrary<HttpCase>,
  shape: 'data' | 'control',
  options: FuzzOptions,
  settle: () => Promise<void>,
  serves: () => Promise<boolean>,
): Promise<PlaneReport> {
  const bound = options.boundMs ?? 5000;
  await fc.assert(
    fc.asyncProperty(cases, async (c) => {
      const [reply, ms] = await sendHttp(base, c, bound);
      count(r, httpClass(reply), ms);
      const problem = judgeHttp(c, reply, shape, bound);
      await settle();
      if (problem) throw new Error(problem);
      if (!(await serves())) throw new Error('after the case, a well-formed request failed');
    }),
    { numRuns: options.numRuns, seed: options.seed, endOnFailure: true },
  );
  return r;
}

const answers200 = async (base: string, path: string) =>
  (await call(base, 'GET', path, undefined, KEY)).status === 200;

/** Fuzz one index host's REST plane; the records no case names must be intact after. */
export async function fuzzDataPlane(server: LocalServer, options: FuzzOptions): Promise<PlaneReport> {
  const base = server.indexHost('fuzz');
  const r = await fuzzHttp(
    report('REST data plane'),
    base,
    dataPlaneCase(new URL(base).host),
    'data',
    options,
    async () => undefined,
    () => answers200(base, '/describe_index_stats'),
  );
  const stats = await call(base, 'GET', '/describe_index_stats', undefined, KEY);
  if (stats.body?.namespaces?.keep?.vectorCount !== 5) {
    throw new Error(`the records no case touched changed: ${JSON.stringify(stats.body?.namespaces?.keep)}`);
  }
  return r;
}

/** Put the controller back as it was: the fuzz target's indexes, no faults, nothing else. */
async function restoreController(server: LocalServer): Promise<void> {
  await server.setDefaultFaults({});
  const baseline = FUZZ_SERVER.indexes ?? [];
  for (const name of server.indexNames()) {
    const index = server.emulator.get(name);
    if (index) index.deletionProtection = 'disabled';
    if (!baseline.some((def) => def.name === name)) await server.deleteIndex(name);
  }
  for (const def of baseline) if (!server.emulator.get(def.name)) await server.createIndex(def);
}

/** Fuzz the controller: the control plane and `/admin`. */
export function fuzzController(server: LocalServer, options: FuzzOptions): Promise<PlaneReport> {
  const base = server.controllerHost;
  return fuzzHttp(
    report('controller and /admin'),
    base,
    controllerCase(new URL(base).host),
    'control',
    options,
    () => restoreController(server),
    async () => (await answers200(base, '/indexes')) && (await answers200(base, '/admin/health')),
  );
}

const GRPC_NAMES: Record<number, string> = {
  0: 'OK',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  8: 'RESOURCE_EXHAUSTED',
  12: 'UNIMPLEMENTED',
  16: 'UNAUTHENTICATED',
};
/** Codes that would be the emulator's own failure (no faults are configured). */
const GRPC_FAILURES = new Set([2, 13, 14]);

function judgeGrpc(c: GrpcCase, reply: RawGrpcReply, boundMs: number): string | undefined {
  if (reply.timedOut) return `no status within ${boundMs} ms`;
  const grpcRequest = c.method === 'POST' && (c.contentType ?? '').startsWith('application/grpc');
  if (!grpcRequest) {
    return reply.httpStatus === 415
      ? undefined
      : `a request that is not gRPC answered HTTP ${reply.httpStatus}`;
  }
  if (reply.grpcStatus === undefined)
    return `no grpc-status (reset: ${reply.reset}, HTTP ${reply.httpStatus})`;
  if (GRPC_FAILURES.has(reply.grpcStatus))
    return `answered grpc-status ${reply.grpcStatus}: ${reply.grpcMessage}`;
  return undefined;
}

function grpcClass(reply: RawGrpcReply): string {
  if (reply.grpcStatus !== undefined) return GRPC_NAMES[reply.grpcStatus] ?? `grpc ${reply.grpcStatus}`;
  return reply.httpStatus !== undefined ? `HTTP ${reply.httpStatus}` : 'none';
}

/** A well-formed Upsert over gRPC. */
const GOOD_UPSERT = frame(
  toBinary(
    UpsertRequestSchema,
    create(UpsertRequestSchema, {
      namespace: 'grpc-check',
      vectors: [{ id: 'check', values: [1, 0, 0, 0] }],
    }),
  ),
);

/** Fuzz the gRPC plane of an index (on its gRPC port). */
export async function fuzzGrpc(server: LocalServer, options: FuzzOptions): Promise<PlaneReport> {
  const address = server.grpcHost('fuzz');
  const bound = options.boundMs ?? 5000;
  const r = report('gRPC');
  const exchange = async (headers: http2.OutgoingHttpHeaders, body: Buffer) => {
    const session = http2.connect(address);
    session.on('error', () => undefined);
    try {
      return await grpcExchange(session, headers, body, bound);
    } finally {
      session.destroy();
    }
  };
  await fc.assert(
    fc.asyncProperty(grpcCase, async (c) => {
      const headers: http2.OutgoingHttpHeaders = { ':path': c.path, ':method': c.method };
      if (c.contentType !== undefined) headers['content-type'] = c.contentType;
      if (c.apiKey !== undefined) headers['api-key'] = c.apiKey;
      const started = performance.now();
      const reply = await exchange(headers, Buffer.from(c.bodyHex, 'hex'));
      count(r, grpcClass(reply), performance.now() - started);
      const problem = judgeGrpc(c, reply, bound);
      if (problem) throw new Error(problem);
      const ok = await exchange(grpcHeaders('/VectorService/Upsert', FUZZ_API_KEY), GOOD_UPSERT);
      if (ok.grpcStatus !== 0) throw new Error('after the case, a well-formed upsert failed');
    }),
    { numRuns: options.numRuns, seed: options.seed, endOnFailure: true },
  );
  return r;
}
