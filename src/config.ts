/**
 * Retry configuration: the spec's `RetryConfig`, validated at construction.
 */
import { ValidationError } from './errors.js';

/** The statuses retried by default: 408, 429, 500, 502, 503, 504. */
export const DEFAULT_RETRYABLE_STATUS_CODES: ReadonlySet<number> = Object.freeze(
  new Set([408, 429, 500, 502, 503, 504]),
) as ReadonlySet<number>;

/** Fields of {@link RetryConfig}; every one optional. Units are seconds. */
export interface RetryConfigOptions {
  /** Retries after the initial attempt (total attempts = maxRetries + 1). Default 3. */
  maxRetries?: number;
  /** Jitter floor in seconds: the lower bound of every backoff delay. Default 0.25. */
  backoffFactor?: number;
  /** Cap in seconds on any delay between attempts (server hints included). Default 60. */
  maxWait?: number;
  /** HTTP statuses that are retried; all others throw at once. Default {408, 429, 500, 502, 503, 504}. */
  retryableStatusCodes?: Iterable<number>;
}

/**
 * How REST requests are retried. Invalid values throw a {@link ValidationError} naming the
 * field and the value.
 *
 * @example
 * ```ts
 * new Pinecone({ retryConfig: new RetryConfig({ maxRetries: 5, backoffFactor: 0.5 }) });
 * ```
 */
export class RetryConfig {
  /** Retries after the initial attempt. */
  readonly maxRetries: number;
  /** Jitter floor, seconds. */
  readonly backoffFactor: number;
  /** Delay cap, seconds. */
  readonly maxWait: number;
  /** Statuses retried. */
  readonly retryableStatusCodes: ReadonlySet<number>;

  constructor(options: RetryConfigOptions = {}) {
    const maxRetries = options.maxRetries ?? 3;
    const backoffFactor = options.backoffFactor ?? 0.25;
    const maxWait = options.maxWait ?? 60;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw invalid('maxRetries', maxRetries, 'must be a non-negative integer');
    }
    if (typeof backoffFactor !== 'number' || !Number.isFinite(backoffFactor) || backoffFactor <= 0) {
      throw invalid('backoffFactor', backoffFactor, 'must be a finite number of seconds greater than 0');
    }
    if (typeof maxWait !== 'number' || !Number.isFinite(maxWait) || maxWait < backoffFactor) {
      throw invalid(
        'maxWait',
        maxWait,
        `must be a finite number of seconds, at least backoffFactor (${backoffFactor})`,
      );
    }
    const codes = new Set<number>();
    const given = options.retryableStatusCodes ?? DEFAULT_RETRYABLE_STATUS_CODES;
    if (typeof (given as Iterable<number>)[Symbol.iterator] !== 'function' || typeof given === 'string') {
      throw invalid('retryableStatusCodes', given, 'must be a Set (or iterable) of HTTP status codes');
    }
    for (const code of given) {
      if (!Number.isInteger(code) || code < 400 || code > 599) {
        throw invalid('retryableStatusCodes', code, 'must contain only integer HTTP statuses in 400..599');
      }
      codes.add(code);
    }
    this.maxRetries = maxRetries;
    this.backoffFactor = backoffFactor;
    this.maxWait = maxWait;
    this.retryableStatusCodes = Object.freeze(codes) as ReadonlySet<number>;
    Object.freeze(this);
  }

  /** A `RetryConfig` from an instance, a plain object of the same fields, or nothing (defaults). */
  static from(value: RetryConfig | RetryConfigOptions | undefined): RetryConfig {
    if (value instanceof RetryConfig) return value;
    if (value !== undefined && (typeof value !== 'object' || value === null)) {
      throw invalid('', value, 'must be a RetryConfig or an object of its fields');
    }
    return new RetryConfig(value ?? {});
  }
}

function invalid(field: string, value: unknown, rule: string): ValidationError {
  const name = field ? `retryConfig.${field}` : 'retryConfig';
  return new ValidationError(`${name} ${rule}; got ${describe(value)}`, name);
}

/** A short, safe rendering of a bad value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return `a ${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value}`;
}
