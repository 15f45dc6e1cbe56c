import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRYABLE_STATUS_CODES, RetryConfig } from '../src/config.js';
import { ValidationError } from '../src/errors.js';

describe('RetryConfig', () => {
  it('has the spec defaults', () => {
    const c = new RetryConfig();
    expect(c.maxRetries).toBe(3);
    expect(c.backoffFactor).toBe(0.25);
    expect(c.maxWait).toBe(60);
    expect([...c.retryableStatusCodes].sort()).toEqual([408, 429, 500, 502, 503, 504]);
    expect([...DEFAULT_RETRYABLE_STATUS_CODES].sort()).toEqual([408, 429, 500, 502, 503, 504]);
  });

  it('takes the spec example', () => {
    const c = new RetryConfig({
      maxRetries: 5,
      backoffFactor: 0.5,
      maxWait: 60,
      retryableStatusCodes: new Set([429, 500, 503]),
    });
    expect(c.maxRetries).toBe(5);
    expect(c.retryableStatusCodes.has(502)).toBe(false);
    expect(new RetryConfig({ retryableStatusCodes: new Set() }).retryableStatusCodes.size).toBe(0);
    expect(new RetryConfig({ maxRetries: 0 }).maxRetries).toBe(0);
  });

  it.each([
    [{ maxRetries: -1 }, 'retryConfig.maxRetries', '-1'],
    [{ maxRetries: 1.5 }, 'retryConfig.maxRetries', '1.5'],
    [{ maxRetries: Number.NaN }, 'retryConfig.maxRetries', 'NaN'],
    [{ backoffFactor: 0 }, 'retryConfig.backoffFactor', '0'],
    [{ backoffFactor: -0.1 }, 'retryConfig.backoffFactor', '-0.1'],
    [{ backoffFactor: Number.NaN }, 'retryConfig.backoffFactor', 'NaN'],
    [{ maxWait: 0.1 }, 'retryConfig.maxWait', '0.1'],
    [{ maxWait: Number.NaN }, 'retryConfig.maxWait', 'NaN'],
    [{ retryableStatusCodes: new Set([200]) }, 'retryConfig.retryableStatusCodes', '200'],
    [{ retryableStatusCodes: new Set([600]) }, 'retryConfig.retryableStatusCodes', '600'],
    [{ retryableStatusCodes: new Set([42.5]) }, 'retryConfig.retryableStatusCodes', '42.5'],
  ])('rejects %o naming the field and value', (options, field, value) => {
    let error: unknown;
    try {
      new RetryConfig(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect((error as ValidationError).message).toContain(field);
    expect((error as ValidationError).message).toContain(value);
  });

  it('RetryConfig.from accepts a plain object or an instance', () => {
    const c = new RetryConfig({ maxRetries: 1 });
    expect(RetryConfig.from(c)).toBe(c);
    expect(RetryConfig.from({ maxRetries: 2 }).maxRetries).toBe(2);
    expect(RetryConfig.from(undefined).maxRetries).toBe(3);
  });
});
