/**
 * The last bad inputs (issue 12 §6), on both transports: a `signal` that is not an
 * AbortSignal, an index host that is not one, and filter operators Pinecone does not
 * have. Each is a `ValidationError` naming the field, and nothing reaches the server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import type { IndexDataPlane } from '../../src/data/data-plane.js';
import { ValidationError } from '../../src/errors.js';
import { GrpcIndex } from '../../src/grpc.js';
import { InstantClock } from '../helpers/clocks.js';
import { type ScriptedGrpcServer, startScriptedGrpcServer } from '../helpers/scripted-grpc-server.js';
import { type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';

const KEY = 'pcsk_bad_input';
let rest: ScriptedServer;
let grpc: ScriptedGrpcServer;
let pc: Pinecone;

beforeAll(async () => {
  [rest, grpc] = await Promise.all([startScriptedServer(), startScriptedGrpcServer()]);
  pc = new Pinecone({ apiKey: KEY, controllerHost: rest.url, clock: new InstantClock() });
});
afterAll(async () => {
  await pc.close();
  await Promise.all([rest.close(), grpc.close()]);
});
beforeEach(() => {
  rest.requests.length = 0;
  grpc.calls.length = 0;
});

/** The error a call throws (or rejects with), synchronously or not. */
async function failure(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

function expectValidation(error: unknown, field: string | RegExp, message?: RegExp): void {
  expect(error).toBeInstanceOf(ValidationError);
  const e = error as ValidationError;
  if (typeof field === 'string') expect(e.field).toBe(field);
  else expect(e.field).toMatch(field);
  if (message) expect(e.message).toMatch(message);
}

const handles = (): [string, IndexDataPlane][] => [
  ['REST', pc.index({ host: rest.url })],
  ['gRPC', pc.index({ host: grpc.url, grpc: true })],
];

describe('signal that is not an AbortSignal', () => {
  it('is a ValidationError naming signal, on every kind of call, before anything is sent', async () => {
    for (const [, index] of handles()) {
      for (const signal of [{}, 'stop', 5, null, { aborted: false }]) {
        const s = signal as unknown as AbortSignal;
        expectValidation(
          await failure(() => index.fetch({ ids: ['a'], signal: s })),
          'signal',
          /AbortSignal/,
        );
        expectValidation(
          await failure(() => index.upsert({ vectors: [{ id: 'a', values: [1] }], signal: s })),
          'signal',
        );
        expectValidation(await failure(() => index.query({ topK: 1, vector: [1], signal: s })), 'signal');
        expectValidation(await failure(() => index.describeNamespace('ns', { signal: s })), 'signal');
      }
    }
    expectValidation(await failure(() => pc.describeIndex('x', { signal: {} as AbortSignal })), 'signal');
    expect(rest.requests).toHaveLength(0);
    expect(grpc.calls).toHaveLength(0);
    // A real signal still works.
    rest.push({ status: 200, body: { vectors: {} } });
    await pc.index({ host: rest.url }).fetch({ ids: ['a'], signal: new AbortController().signal });
    expect(rest.requests).toHaveLength(1);
  });
});

describe('index host that is not a host', () => {
  it('is a ValidationError naming host, from pc.index and new GrpcIndex alike', async () => {
    for (const host of ['ftp://example.com', '', '   ', 'not a host', 'http://']) {
      for (const grpc of [false, true]) {
        expectValidation(await failure(() => pc.index({ host, grpc })), 'host');
      }
      expectValidation(await failure(() => new GrpcIndex({ host, apiKey: KEY })), 'host');
    }
    expectValidation(await failure(() => pc.index({ host: 'ftp://example.com' })), 'host', /ftp:/);
    expectValidation(
      await failure(() => new Pinecone({ apiKey: KEY, controllerHost: 'gopher://x' })),
      'controllerHost',
    );
    expect(rest.requests).toHaveLength(0);
  });
});

describe('filter operators outside Pinecone\u2019s set', () => {
  it('are rejected before the wire with the operator named, wherever a filter goes', async () => {
    const bad = [
      [{ genre: { $regex: '^dr' } }, /\$regex/, 'filter.genre.$regex'],
      [{ genre: { $eqq: 'drama' } }, /\$eqq/, 'filter.genre.$eqq'],
      [{ $and: [{ year: { $gt: 1 } }, { genre: { $like: 'd%' } }] }, /\$like/, 'filter.$and[1].genre.$like'],
      [{ $not: { genre: 'drama' } }, /\$not/, 'filter.$not'],
      [{ genre: { $in: 'drama' } }, /array/, 'filter.genre.$in'],
    ] as const;
    for (const [, index] of handles()) {
      for (const [filter, message, field] of bad) {
        expectValidation(await failure(() => index.query({ topK: 1, vector: [1], filter })), field, message);
        expectValidation(await failure(() => index.delete({ filter })), field, message);
        expectValidation(await failure(() => index.deleteMany({ filter })), field, message);
        expectValidation(await failure(() => index.describeIndexStats({ filter })), field, message);
        expectValidation(await failure(() => index.fetchByMetadata({ filter })), field, message);
        expectValidation(
          await failure(() => index.update({ filter, setMetadata: { seen: true } })),
          field,
          message,
        );
      }
    }
    expect(rest.requests).toHaveLength(0);
    expect(grpc.calls).toHaveLength(0);
    // Every operator Pinecone has passes.
    rest.fallback = { status: 200, body: { matches: [] } };
    const ok = {
      $or: [
        { a: { $eq: 1, $ne: 2, $gt: 0, $gte: 0, $lt: 9, $lte: 9 } },
        { b: { $in: ['x'], $nin: ['y'] }, c: { $exists: true } },
        { $and: [{ d: 'plain' }] },
      ],
    };
    await pc.index({ host: rest.url }).query({ topK: 1, vector: [1], filter: ok });
    expect(rest.requests).toHaveLength(1);
  });
});
