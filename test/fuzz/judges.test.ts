/**
 * The response fuzzers' judges, on hand-made outcomes: they accept what a correct client
 * does and name each wrong outcome (a hang, an untyped error, the key shown, a result
 * from an error status, a retry of what must not be retried, a retry missing, the wrong
 * error class), so a fuzz run that finds nothing has been judged by something that can fail.
 */
import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ConnectionError,
  PineconeError,
  RateLimitError,
  ServerError,
  ServiceUnavailableError,
  TimeoutError,
} from '../../src/errors.js';
import { judgeGrpcCase } from './grpc-fuzz-run.js';
import type { GeneratedGrpcReply, GrpcMeaning } from './grpc-replies.js';
import { OPS } from './ops.js';
import { judgeCommon, type Outcome } from './outcome.js';
import { judgeRestCase } from './rest-fuzz-run.js';
import { FUZZ_KEY, type GeneratedReply, type ReplyMeaning } from './rest-replies.js';

const query = OPS.find((op) => op.name === 'query')!;
const host = '127.0.0.1';
const VALID = { matches: [{ id: 'a', score: 0.5 }], namespace: 'n' };

const result = (value: unknown): Outcome => ({ kind: 'result', value, ms: 1 });
const failed = (error: unknown): Outcome => ({ kind: 'error', error, ms: 1 });

function restCase(...meanings: ReplyMeaning[]) {
  const replies = meanings.map(
    (meaning): GeneratedReply => ({
      reply: { bytes: Buffer.alloc(0), after: 'close' },
      meaning,
      stalls: false,
      label: JSON.stringify(meaning),
    }),
  );
  return { op: query, replies };
}

function grpcCase(...meanings: GrpcMeaning[]) {
  const replies = meanings.map(
    (meaning): GeneratedGrpcReply => ({ reply: {}, meaning, label: JSON.stringify(meaning) }),
  );
  return { op: query, replies };
}

const ok200 = { kind: 'status', status: 200, wellFormed: true } as const;
const bad200 = { kind: 'status', status: 200, wellFormed: false } as const;
const http = (status: number) => ({ kind: 'status', status, wellFormed: false }) as const;
const badBody = (attempts: number) => new ConnectionError('bad body', { host, attempts, code: 'BAD_BODY' });

describe('the rules every outcome keeps', () => {
  it('accept a result and a typed error', () => {
    expect(judgeCommon(result(VALID), FUZZ_KEY)).toBeUndefined();
    expect(judgeCommon(failed(badBody(1)), FUZZ_KEY)).toBeUndefined();
  });

  it('name a hang, an untyped error, a bare PineconeError and the key shown', () => {
    expect(judgeCommon({ kind: 'hung', ms: 12_000 }, FUZZ_KEY)).toBe('no answer within 12000 ms');
    expect(judgeCommon(failed(new TypeError('x is undefined')), FUZZ_KEY)).toMatch(/^an untyped error/);
    expect(judgeCommon(failed(new PineconeError('?')), FUZZ_KEY)).toMatch(/^a bare PineconeError/);
    const leaky = new ConnectionError(`refused by ${FUZZ_KEY}`, { host, attempts: 1 });
    expect(judgeCommon(failed(leaky), FUZZ_KEY)).toMatch(/^the API key shows/);
    const deep = new ConnectionError('fine', { host, attempts: 1, cause: { header: FUZZ_KEY } });
    expect(judgeCommon(failed(deep), FUZZ_KEY)).toMatch(/^the API key shows/);
  });
});

describe('the REST judge', () => {
  it('accepts what a correct client does', () => {
    expect(judgeRestCase(restCase(ok200), result(VALID), 1)).toBeUndefined();
    const throttled = new RateLimitError({ status: 429, host, attempts: 2 });
    expect(judgeRestCase(restCase(http(429)), failed(throttled), 2)).toBeUndefined();
    expect(judgeRestCase(restCase(bad200), failed(badBody(2)), 2)).toBeUndefined();
    const timeout = new TimeoutError('slow', { host, attempts: 2, timeout: 1 });
    expect(judgeRestCase(restCase({ kind: 'broken' }), failed(timeout), 2)).toBeUndefined();
    expect(judgeRestCase(restCase(http(502), ok200), result(VALID), 2)).toBeUndefined();
  });

  it('names a result from an error status, a broken response or of the wrong shape', () => {
    expect(judgeRestCase(restCase(http(500)), result(VALID), 1)).toBe('a result from HTTP 500');
    expect(judgeRestCase(restCase({ kind: 'broken' }), result(VALID), 1)).toBe(
      'a result from a broken response',
    );
    expect(judgeRestCase(restCase(ok200), result({ matches: 'x', namespace: 'n' }), 1)).toMatch(
      /^an invalid result: matches is not an array/,
    );
  });

  it('names a retry of what must not be retried, and a retry missing', () => {
    const bad = new BadRequestError({ status: 400, host, attempts: 2 });
    expect(judgeRestCase(restCase(http(400)), failed(bad), 2)).toBe(
      'retried after HTTP 400, which is not retryable',
    );
    expect(judgeRestCase(restCase(ok200, ok200), result(VALID), 2)).toBe('retried after a well-formed 200');
    const once = new ServerError({ status: 500, host, attempts: 1 });
    expect(judgeRestCase(restCase(http(500)), failed(once), 1)).toBe('HTTP 500 was not retried');
    expect(judgeRestCase(restCase(bad200), failed(badBody(1)), 1)).toBe(
      'a 200 with an unusable body was not retried',
    );
  });

  it('names the wrong error for a status, a body or a broken response', () => {
    const wrong = new ServerError({ status: 500, host, attempts: 2 });
    expect(judgeRestCase(restCase(http(503)), failed(wrong), 2)).toMatch(
      /^HTTP 503 ended in .*, not ServiceUnavailableError/s,
    );
    expect(judgeRestCase(restCase(ok200), failed(badBody(1)), 1)).toMatch(/^a well-formed 200 ended in/);
    const throttled = new RateLimitError({ status: 429, host, attempts: 2 });
    expect(judgeRestCase(restCase({ kind: 'broken' }), failed(throttled), 2)).toMatch(
      /^a broken response ended in/,
    );
  });
});

describe('the gRPC judge', () => {
  const exhausted = (attempts: number) =>
    new RateLimitError({ status: 429, host, attempts, grpcCode: 'RESOURCE_EXHAUSTED' });

  it('accepts what a correct client does', () => {
    expect(judgeGrpcCase(grpcCase({ kind: 'ok', wellFormed: true }), result(VALID), 1)).toBeUndefined();
    const status8 = { kind: 'status', code: 8, pushback: undefined } as const;
    expect(judgeGrpcCase(grpcCase(status8), failed(exhausted(2)), 2)).toBeUndefined();
    // A negative pushback says "do not retry".
    const refused = new ServiceUnavailableError({ status: 503, host, attempts: 1, grpcCode: 'UNAVAILABLE' });
    expect(
      judgeGrpcCase(grpcCase({ kind: 'status', code: 14, pushback: '-1' }), failed(refused), 1),
    ).toBeUndefined();
  });

  it('names a result from a status, a retry against the pushback, a missing retry, the wrong error', () => {
    const status8 = { kind: 'status', code: 8, pushback: undefined } as const;
    expect(judgeGrpcCase(grpcCase(status8), result(VALID), 1)).toMatch(/^a result from /);
    const refused = new ServiceUnavailableError({ status: 503, host, attempts: 2, grpcCode: 'UNAVAILABLE' });
    expect(judgeGrpcCase(grpcCase({ kind: 'status', code: 14, pushback: '-1' }), failed(refused), 2)).toMatch(
      /which is not to be retried$/,
    );
    expect(judgeGrpcCase(grpcCase(status8), failed(exhausted(1)), 1)).toBe(
      'status RESOURCE_EXHAUSTED was not retried',
    );
    const bad = new BadRequestError({ status: 400, host, attempts: 2, grpcCode: 'INVALID_ARGUMENT' });
    expect(judgeGrpcCase(grpcCase(status8), failed(bad), 2)).toMatch(/^status RESOURCE_EXHAUSTED ended in/);
    expect(judgeGrpcCase(grpcCase({ kind: 'stall' }), failed(badBody(2)), 2)).toMatch(/^a stall ended in/);
  });

  it('when not strict, still keeps the common rules', () => {
    const status8 = { kind: 'status', code: 8, pushback: undefined } as const;
    expect(judgeGrpcCase(grpcCase(status8), result(VALID), 1, false)).toBeUndefined();
    expect(judgeGrpcCase(grpcCase(status8), failed(new Error('boom')), 1, false)).toMatch(
      /^an untyped error/,
    );
  });
});
