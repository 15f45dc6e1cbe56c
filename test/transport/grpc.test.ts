/**
 * The gRPC transport: host parsing, the spec's gRPC retry classification, and single
 * attempts over a real HTTP/2 socket (metadata, error mapping, pushback, deadline, abort,
 * undecodable replies).
 */
import { execFile } from 'node:child_process';
import { inspect } from 'node:util';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  BadRequestError,
  ConnectionError,
  GRPC_CODE_NAMES,
  NotFoundError,
  RateLimitError,
  ServerError,
  ServiceUnavailableError,
  TimeoutError,
  ValidationError,
} from '../../src/errors.js';
import {
  FetchRequestSchema,
  UpsertRequestSchema,
  UpsertResponseSchema,
  VectorService,
} from '../../src/gen/db_data_pb.js';
import { limiterHostKey } from '../../src/resilience/registry.js';
import {
  classifyGrpcFailure,
  DEFAULT_RETRYABLE_GRPC_CODES,
  GrpcTransport,
  grpcMethod,
  grpcTarget,
  parsePushback,
  RETRYABLE_GRPC_CODES,
} from '../../src/transport/grpc.js';
import { normalizeHost } from '../../src/transport/rest.js';
import { API_VERSION } from '../../src/version.js';
import { type ScriptedGrpcServer, startScriptedGrpcServer } from '../helpers/scripted-grpc-server.js';

const KEY = 'pcsk_SECRET_grpc_key_42';
const upsert = grpcMethod(VectorService.method.upsert);
const fetchMethod = grpcMethod(VectorService.method.fetch);
const emptyFetch = toBinary(FetchRequestSchema, create(FetchRequestSchema, { ids: ['a'] }));

let server: ScriptedGrpcServer;
let transport: GrpcTransport;

beforeAll(async () => {
  server = await startScriptedGrpcServer();
  transport = new GrpcTransport({ host: server.url, apiKey: KEY });
});
afterAll(async () => {
  transport.close();
  await server.close();
});
beforeEach(() => {
  server.calls.length = 0;
  server.fallback = {};
});

describe('grpcTarget', () => {
  it('uses TLS on 443 for a bare or https host and plaintext for http://', () => {
    expect(grpcTarget('idx-abc.svc.pinecone.io')).toEqual({
      address: 'idx-abc.svc.pinecone.io:443',
      hostname: 'idx-abc.svc.pinecone.io',
      secure: true,
      label: 'idx-abc.svc.pinecone.io',
    });
    expect(grpcTarget('https://idx.example:8443/')).toMatchObject({
      address: 'idx.example:8443',
      secure: true,
    });
    expect(grpcTarget('http://127.0.0.1:5082')).toEqual({
      address: '127.0.0.1:5082',
      hostname: '127.0.0.1',
      secure: false,
      label: '127.0.0.1:5082',
    });
  });

  it('labels a host as REST does, so both share one limiter key', () => {
    for (const host of [
      'idx-abc.svc.pinecone.io',
      'https://idx-abc.svc.pinecone.io',
      'http://127.0.0.1:5081',
    ]) {
      expect(limiterHostKey(grpcTarget(host).label)).toBe(limiterHostKey(normalizeHost(host).label));
    }
  });

  it('rejects other schemes and unparseable hosts', () => {
    expect(() => grpcTarget('ftp://x')).toThrow(/http/);
    expect(() => grpcTarget('http://exa mple.com')).toThrow(/valid host/);
  });
});

describe('the gRPC retry policy', () => {
  const errorFor = (grpcCode: string, retryAfterMs?: number) =>
    Object.assign(new Error(grpcCode), { grpcCode, retryAfterMs });

  it('retries the spec floor and REST twins by default; throttles on UNAVAILABLE and RESOURCE_EXHAUSTED', () => {
    const floor = ['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'ABORTED'];
    const retried = [...floor, 'INTERNAL', 'DEADLINE_EXCEEDED'];
    // Every gRPC failure code (all but OK).
    for (const code of GRPC_CODE_NAMES.slice(1)) {
      const c = classifyGrpcFailure(errorFor(code));
      expect(c.retryable, code).toBe(retried.includes(code));
      expect(c.label).toBe(code);
      expect(c.throttle, code).toBe(code === 'UNAVAILABLE' || code === 'RESOURCE_EXHAUSTED');
      expect(c.rateLimited, code).toBe(code === 'RESOURCE_EXHAUSTED');
      // The spec's own list, when chosen, retries exactly the floor.
      expect(classifyGrpcFailure(errorFor(code), RETRYABLE_GRPC_CODES).retryable, code).toBe(
        floor.includes(code),
      );
    }
    expect([...DEFAULT_RETRYABLE_GRPC_CODES].sort((a, b) => a - b)).toEqual([4, 8, 10, 13, 14]);
  });

  it('honours pushback; a negative pushback means do not retry', () => {
    expect(classifyGrpcFailure(errorFor('RESOURCE_EXHAUSTED', 1500))).toMatchObject({
      retryable: true,
      retryAfterMs: 1500,
    });
    expect(classifyGrpcFailure(errorFor('RESOURCE_EXHAUSTED', -1))).toMatchObject({ retryable: false });
    expect(classifyGrpcFailure(errorFor('INVALID_ARGUMENT', 10))).toMatchObject({
      retryable: false,
      retryAfterMs: undefined,
    });
  });

  it('retries an attempt past its deadline and an undecodable reply', () => {
    expect(classifyGrpcFailure(new TimeoutError('t', { host: 'h', attempts: 1, timeout: 1 }))).toMatchObject({
      retryable: true,
      label: 'DEADLINE_EXCEEDED',
    });
    expect(
      classifyGrpcFailure(new ConnectionError('c', { host: 'h', attempts: 1, code: 'BAD_BODY' })),
    ).toMatchObject({ retryable: true, label: 'BAD_BODY' });
    expect(classifyGrpcFailure(new ValidationError('v'))).toMatchObject({ retryable: false });
  });

  it('reads grpc-retry-pushback-ms as gRPC defines it', () => {
    expect(parsePushback(undefined)).toBeUndefined();
    expect(parsePushback('250')).toBe(250);
    expect(parsePushback('-5')).toBe(-1);
    expect(parsePushback('soon')).toBe(-1);
  });
});

describe('GrpcTransport over loopback', () => {
  it('calls /VectorService/<Method> with the API key and version as metadata', async () => {
    server.push({
      response: toBinary(UpsertResponseSchema, create(UpsertResponseSchema, { upsertedCount: 2 })),
    });
    const request = create(UpsertRequestSchema, {
      vectors: [{ id: 'a', values: [0.5, 1] }],
      namespace: 'ns',
    });
    const res = await transport.unary(upsert, toBinary(UpsertRequestSchema, request), {
      attempt: 1,
      timeout: 5,
    });
    expect(res.upsertedCount).toBe(2);
    const call = server.calls[0]!;
    expect(call.path).toBe('/VectorService/Upsert');
    expect(call.headers['api-key']).toBe(KEY);
    expect(call.headers['x-pinecone-api-version']).toBe(API_VERSION);
    expect(call.headers['user-agent']).toMatch(/^pinecone-resilient\//);
    expect(call.headers['content-type']).toBe('application/grpc');
    expect(call.headers['grpc-timeout']).toBeDefined();
    const seen = fromBinary(UpsertRequestSchema, call.message);
    expect(seen.namespace).toBe('ns');
    expect(seen.vectors[0]).toMatchObject({ id: 'a', values: [0.5, 1] });
  });

  it('maps status codes onto the typed error tree with the code name, attempt and request id', async () => {
    const cases = [
      { code: 8, cls: RateLimitError, status: 429, name: 'RESOURCE_EXHAUSTED' },
      { code: 14, cls: ServiceUnavailableError, status: 503, name: 'UNAVAILABLE' },
      { code: 3, cls: BadRequestError, status: 400, name: 'INVALID_ARGUMENT' },
      { code: 5, cls: NotFoundError, status: 404, name: 'NOT_FOUND' },
      { code: 13, cls: ServerError, status: 500, name: 'INTERNAL' },
    ];
    for (const c of cases) {
      server.push({ code: c.code, message: 'nope', trailers: { 'x-pinecone-request-id': 'req-1' } });
      const err = await transport.unary(fetchMethod, emptyFetch, { attempt: 3, timeout: 5 }).catch((e) => e);
      expect(err).toBeInstanceOf(c.cls);
      expect(err).toMatchObject({
        status: c.status,
        grpcCode: c.name,
        code: c.name,
        attempts: 3,
        serverMessage: 'nope',
        requestId: 'req-1',
        host: new URL(server.url).host,
      });
      expect(err.message).toContain(`${c.name} (gRPC)`);
    }
  });

  it('keeps the server pushback and never shows the API key', async () => {
    server.push({
      code: 8,
      message: `key ${KEY} is over quota`,
      trailers: { 'grpc-retry-pushback-ms': '1200' },
    });
    const err = await transport.unary(fetchMethod, emptyFetch, { attempt: 1, timeout: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.retryAfterMs).toBe(1200);
    expect(`${err.message} ${JSON.stringify(err.body)} ${inspect(err)}`).not.toContain(KEY);
    expect(inspect(transport)).not.toContain(KEY);
  });

  it('turns a reply that does not decode into a retryable ConnectionError', async () => {
    server.push({ response: Buffer.from([0x0f, 0xff]) });
    const err = await transport.unary(fetchMethod, emptyFetch, { attempt: 1, timeout: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.code).toBe('BAD_BODY');
  });

  it('fails an attempt past its deadline with TimeoutError', async () => {
    server.push({ hold: true });
    const err = await transport.unary(fetchMethod, emptyFetch, { attempt: 2, timeout: 0.2 }).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ attempts: 2, timeout: 0.2 });
  });

  it('cancels the call when the signal aborts', async () => {
    server.push({ hold: true });
    const controller = new AbortController();
    const pending = transport.unary(fetchMethod, emptyFetch, {
      attempt: 1,
      timeout: 30,
      signal: controller.signal,
    });
    await server.waitForCalls(1);
    controller.abort(new Error('stop'));
    // What the caller sees: the attempt ends as cancelled at once (not at its 30 s deadline,
    // not as a timeout or a server error), and the server sees the stream reset.
    const err = await pending.catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).not.toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ grpcCode: 'CANCELLED', attempts: 1 });
    await server.calls[0]!.closed;
  });
});

describe('entry points', () => {
  it('importing the root entry point does not load @grpc/grpc-js; the gRPC entry does', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const grpcLoaded = () => Object.keys(require.cache).some((k) => k.includes('@grpc/grpc-js'));
      const root = await import('./src/index.ts');
      const pc = new root.Pinecone({ apiKey: 'k' });
      pc.index({ host: 'http://127.0.0.1:1', grpc: true });
      const afterRoot = grpcLoaded();
      await import('./src/grpc.ts');
      console.log(JSON.stringify({ afterRoot, afterGrpc: grpcLoaded() }));
    `;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: process.cwd(), timeout: 20_000 },
        (error, stdout, stderr) => (error ? reject(new Error(stderr || String(error))) : resolve(stdout)),
      );
    });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ afterRoot: false, afterGrpc: true });
  });
});
