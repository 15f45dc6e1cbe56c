import { describe, expect, it } from 'vitest';
import {
  ApiError,
  apiErrorFromStatus,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  httpStatusForGrpcCode,
  NotFoundError,
  PineconeError,
  RateLimitError,
  ServerError,
  ServiceUnavailableError,
  UnauthorizedError,
} from '../src/errors.js';

describe('error tree', () => {
  it.each([
    [400, BadRequestError],
    [401, UnauthorizedError],
    [403, ForbiddenError],
    [404, NotFoundError],
    [409, ConflictError],
    [429, RateLimitError],
    [500, ServerError],
    [502, ServerError],
    [503, ServiceUnavailableError],
    [504, ServerError],
    [418, ApiError],
  ])('%i → %s', (status, cls) => {
    const e = apiErrorFromStatus({ status, host: 'h', attempts: 1 });
    expect(e).toBeInstanceOf(cls);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toBeInstanceOf(PineconeError);
    expect(e.name).toBe(cls.name);
  });
  it('a 503 is also a ServerError', () => {
    expect(apiErrorFromStatus({ status: 503, host: 'h', attempts: 1 })).toBeInstanceOf(ServerError);
  });
  it('gRPC codes map onto HTTP statuses', () => {
    expect(httpStatusForGrpcCode(8)).toBe(429);
    expect(httpStatusForGrpcCode(14)).toBe(503);
    expect(httpStatusForGrpcCode(3)).toBe(400);
    expect(httpStatusForGrpcCode(5)).toBe(404);
    expect(httpStatusForGrpcCode(16)).toBe(401);
  });
  it('a 429 message tells the user how to change the retries', () => {
    const e = apiErrorFromStatus({ status: 429, host: 'h', attempts: 4, serverMessage: 'quota' });
    expect(e.message).toBe(
      'HTTP 429 from h after 4 attempts: quota. Still throttled after 4 attempts; raise retryConfig.maxRetries (or lower maxConcurrency / batchSize) to ride it out, or catch RateLimitError and retry from your orchestrator.',
    );
  });
  it('quotes a server message that ends a sentence without a second full stop', () => {
    const e = apiErrorFromStatus({
      status: 503,
      host: 'h',
      attempts: 1,
      serverMessage: 'Busy. Retry later.',
    });
    expect(e.message).toBe('HTTP 503 from h after 1 attempt: Busy. Retry later.');
  });
});
