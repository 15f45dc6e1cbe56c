/**
 * The REST client against a real HTTP server on loopback that plays exact wire sequences.
 */
import { execFile } from 'node:child_process';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import {
  AbortError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  NotFoundError,
  RateLimitError,
  ServiceUnavailableError,
  TimeoutError,
  UnauthorizedError,
} from '../../src/errors.js';
import { seededRandom } from '../../src/resilience/clock.js';
import { VERSION } from '../../src/version.js';
import { InstantClock, recordingLogger } from '../helpers/clocks.js';
import { type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';

const KEY = 'pcsk_SECRET_test_key_123';
let server: ScriptedServer;
let clock: InstantClock;
let pc: Pinecone;
let log: ReturnType<typeof recordingLogger>;

beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  server.fallback = { status: 200, body: {} };
  clock = new InstantClock();
  log = recordingLogger();
  pc = new Pinecone({
    apiKey: KEY,
    controllerHost: server.url,
    clock,
    random: seededRandom(3),
    logger: log.logger,
    timeout: 2,
  });
});

describe('REST client over loopback', () => {
  it('sends Pinecone headers and camelCase JSON', async () => {
    server.push({ status: 200, body: { upsertedCount: 2 } });
    const index = pc.index({ host: server.url, namespace: 'ns1' });
    const res = await index.upsert({
      vectors: [
        { id: 'a', values: Float32Array.of(0.5, 1) },
        { id: 'b', values: [1, 2], metadata: { g: 'x' } },
      ],
    });
    expect(res).toEqual({ upsertedCount: 2 });
    const [req] = server.requests;
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe('/vectors/upsert');
    expect(req!.headers['api-key']).toBe(KEY);
    expect(req!.headers['x-pinecone-api-version']).toMatch(/^\d{4}-\d{2}$/);
    expect(req!.headers['user-agent']).toContain(`pinecone-resilient/${VERSION}`);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req!.body)).toEqual({
      vectors: [
        { id: 'a', values: [0.5, 1] },
        { id: 'b', values: [1, 2], metadata: { g: 'x' } },
      ],
      namespace: 'ns1',
    });
  });

  it('a real 429 then 200 succeeds, logging the retry', async () => {
    server.push(
      { status: 429, body: { code: 8, message: 'Too many requests', details: [] } },
      { status: 200, body: { upsertedCount: 1 } },
    );
    const index = pc.index({ host: server.url });
    await expect(index.upsert({ vectors: [{ id: 'a', values: [1] }] })).resolves.toEqual({
      upsertedCount: 1,
    });
    expect(server.requests).toHaveLength(2);
    const host = new URL(server.url).host;
    // A fresh host is in slow start (one request in flight), and a throttle before it has
    // answered anything cuts nothing (it pauses the host for the retry's delay): slow start
    // goes on, and the success grows the window.
    expect(log.records.map((r) => r.message)).toEqual([
      expect.stringMatching(new RegExp(`^Rate limited by host=${host.replace('.', '\\.')}\\. Adaptive`)),
      expect.stringMatching(
        new RegExp(
          `^Throttled response: status=429 host=${host.replace('.', '\\.')} attempt=1/4 delay=0\\.\\d{3}s$`,
        ),
      ),
      'AIMD limiter increased: now=2 ceiling=4',
    ]);
  });

  it('exhausted 429s throw RateLimitError with attempts, server message and request id', async () => {
    server.fallback = {
      status: 429,
      body: { error: { code: 'QUOTA_EXCEEDED', message: 'slow down' }, status: 429 },
      headers: { 'x-pinecone-request-id': 'req-77' },
    };
    const error = await pc
      .index({ host: server.url })
      .fetch({ ids: ['a'] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.attempts).toBe(4);
    expect(error.status).toBe(429);
    expect(error.code).toBe('QUOTA_EXCEEDED');
    expect(error.serverMessage).toBe('slow down');
    expect(error.requestId).toBe('req-77');
    expect(error.host).toBe(new URL(server.url).host);
    expect(error.message).toContain('after 4 attempts');
    expect(server.requests).toHaveLength(4);
  });

  it('honours Retry-After from the wire, capped at maxWait', async () => {
    const capped = new Pinecone({ apiKey: KEY, clock, retryConfig: { maxWait: 5 } });
    server.push(
      { status: 503, headers: { 'retry-after': '2' } },
      { status: 429, headers: { 'retry-after': '90' } },
      { status: 200, body: { matches: [] } },
    );
    await capped.index({ host: server.url }).query({ vector: [1], topK: 1 });
    expect(clock.sleeps).toEqual([2000, 5000]);
    await capped.close();
  });

  it('reads all three error body shapes and plain text', async () => {
    const index = pc.index({ host: server.url });
    server.push({
      status: 400,
      body: {
        code: 3,
        message: 'Vector dimension 3 does not match the dimension of the index 8',
        details: [],
      },
    });
    const a = await index.query({ vector: [1, 2, 3], topK: 1 }).catch((e) => e);
    expect(a).toBeInstanceOf(BadRequestError);
    expect(a.code).toBe(3);
    expect(a.message).toContain('does not match');
    server.push({
      status: 404,
      body: { status: 404, error: { code: 'NOT_FOUND', message: 'Resource x not found' } },
    });
    const b = await pc.describeIndex('x').catch((e) => e);
    expect(b).toBeInstanceOf(NotFoundError);
    server.push({ status: 401, text: 'Unauthorized' });
    const c = await index.fetch({ ids: ['a'] }).catch((e) => e);
    expect(c).toBeInstanceOf(UnauthorizedError);
    expect(c.serverMessage).toBe('Unauthorized');
    expect(c.attempts).toBe(1);
  });

  it('retries a connection reset', async () => {
    server.push({ reset: true }, { status: 200, body: { vectors: {}, namespace: '' } });
    await expect(pc.index({ host: server.url }).fetch({ ids: ['a'] })).resolves.toMatchObject({
      vectors: {},
    });
    expect(server.requests).toHaveLength(2);
  });

  it('persistent resets end in ConnectionError with attempts', async () => {
    server.fallback = { reset: true };
    const error = await pc
      .index({ host: server.url })
      .fetch({ ids: ['a'] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.attempts).toBe(4);
  });

  it('retries truncated and malformed 2xx bodies: nothing counts as written', async () => {
    server.push(
      { status: 200, body: { upsertedCount: 1 }, truncate: true },
      { status: 200, text: '<html>oops' },
      { status: 200, body: { upsertedCount: 1 } },
    );
    await expect(
      pc.index({ host: server.url }).upsert({ vectors: [{ id: 'a', values: [1] }] }),
    ).resolves.toEqual({ upsertedCount: 1 });
    expect(server.requests).toHaveLength(3);
  });

  it('a per-attempt timeout is retried, then TimeoutError', async () => {
    const fast = new Pinecone({ apiKey: KEY, clock, timeout: 0.05, retryConfig: { maxRetries: 1 } });
    server.push(
      { delayMs: 300, status: 200, body: {} },
      { status: 200, body: { namespaces: {}, totalVectorCount: 3 } },
    );
    await expect(fast.index({ host: server.url }).describeIndexStats()).resolves.toMatchObject({
      totalVectorCount: 3,
    });
    server.fallback = { delayMs: 300, status: 200, body: {} };
    const error = await fast
      .index({ host: server.url })
      .describeIndexStats()
      .catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.attempts).toBe(2);
    expect(error.timeout).toBe(0.05);
    await fast.close();
  });

  it('a per-call timeout overrides the client default', async () => {
    const noRetry = new Pinecone({ apiKey: KEY, clock, retryConfig: { maxRetries: 0 } });
    server.push({ delayMs: 300, status: 200, body: {} });
    const error = await noRetry
      .index({ host: server.url })
      .fetch({ ids: ['a'], timeout: 0.05 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    await noRetry.close();
  });

  it('abort cancels an in-flight request at once', async () => {
    server.push({ delayMs: 2000, status: 200, body: {} });
    const controller = new AbortController();
    const promise = pc.index({ host: server.url }).fetch({ ids: ['a'], signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 20);
    const error = await promise.catch((e) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.name).toBe('AbortError');
    expect((error.cause as Error).message).toBe('user cancelled');
    expect(server.requests).toHaveLength(1);
  });

  it('503 maps to ServiceUnavailableError', async () => {
    const noRetry = new Pinecone({ apiKey: KEY, retryConfig: { maxRetries: 0 } });
    server.push({ status: 503, text: 'upstream connect error' });
    const error = await noRetry
      .index({ host: server.url })
      .fetch({ ids: ['a'] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toContain('upstream connect error');
    await noRetry.close();
  });

  it('never shows the API key, even when the server echoes it', async () => {
    server.fallback = { status: 500, body: { code: 13, message: `bad key ${KEY} here` } };
    const error = await pc
      .index({ host: server.url })
      .fetch({ ids: ['a'] })
      .catch((e) => e);
    const everything = [
      error.message,
      error.stack,
      inspect(error, { depth: 10 }),
      JSON.stringify(error.body),
      inspect(pc, { depth: 10 }),
      inspect(pc.index({ host: server.url }), { depth: 10 }),
      JSON.stringify(log.records),
    ].join('\n');
    expect(everything).not.toContain(KEY);
    expect(everything).toContain('[REDACTED]');
  });

  it('resolves an index host by name once, and caches it', async () => {
    const ctl = new Pinecone({ apiKey: KEY, controllerHost: server.url, clock });
    server.push({
      status: 200,
      body: {
        name: 'demo',
        dimension: 2,
        metric: 'cosine',
        host: server.url,
        status: { ready: true, state: 'Ready' },
      },
    });
    const index = ctl.index({ name: 'demo' });
    await index.fetch({ ids: ['a'] });
    await index.fetch({ ids: ['b'] });
    await ctl.index({ name: 'demo' }).fetch({ ids: ['c'] });
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /indexes/demo',
      'GET /vectors/fetch?ids=a',
      'GET /vectors/fetch?ids=b',
      'GET /vectors/fetch?ids=c',
    ]);
    await ctl.close();
  });

  it('a create retried after a lost reply that meets its own index succeeds', async () => {
    const model = {
      name: 'made',
      dimension: 8,
      metric: 'cosine',
      host: 'made.example',
      status: { ready: true, state: 'Ready' },
    };
    server.push(
      { status: 500, text: 'upstream reset' },
      {
        status: 409,
        body: { status: 409, error: { code: 'ALREADY_EXISTS', message: 'Resource made already exists' } },
      },
      { status: 200, body: model },
    );
    await expect(pc.createIndex({ name: 'made', dimension: 8, metric: 'cosine' })).resolves.toMatchObject({
      name: 'made',
      dimension: 8,
    });
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /indexes',
      'POST /indexes',
      'GET /indexes/made',
    ]);
  });

  it('a 409 on the first attempt, or for a different index, stays a ConflictError', async () => {
    server.push({ status: 409, body: { status: 409, error: { code: 'ALREADY_EXISTS', message: 'exists' } } });
    await expect(pc.createIndex({ name: 'made', dimension: 8 })).rejects.toBeInstanceOf(ConflictError);
    const other = {
      name: 'made',
      dimension: 16,
      metric: 'cosine',
      host: 'h',
      status: { ready: true, state: 'Ready' },
    };
    server.push(
      { status: 503 },
      { status: 409, body: { status: 409, error: { code: 'ALREADY_EXISTS', message: 'exists' } } },
      { status: 200, body: other },
    );
    await expect(pc.createIndex({ name: 'made', dimension: 8 })).rejects.toBeInstanceOf(ConflictError);
  });

  it('requires an API key, naming both sources', () => {
    const saved = process.env.PINECONE_API_KEY;
    delete process.env.PINECONE_API_KEY;
    try {
      expect(() => new Pinecone()).toThrow(/apiKey option or set the PINECONE_API_KEY/);
    } finally {
      if (saved !== undefined) process.env.PINECONE_API_KEY = saved;
    }
  });

  it('a process that never calls close() still exits', async () => {
    const script = `
      import { Pinecone } from ${JSON.stringify(new URL('../../src/client.ts', import.meta.url).pathname)};
      const pc = new Pinecone({ apiKey: 'k' });
      await pc.index({ host: ${JSON.stringify(server.url)} }).fetch({ ids: ['a'] });
      console.log('done');
    `;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { timeout: 20_000 },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      );
    });
    expect(out.trim()).toBe('done');
  });
});
