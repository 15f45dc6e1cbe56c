/**
 * Backoff delays: decorrelated jitter as the spec writes it, and server hints.
 */
import type { RandomSource } from './clock.js';

/**
 * One decorrelated-jitter delay, in the unit of its arguments (seconds in the SDK):
 *
 * ```
 * delay = uniform(backoffFactor, max(backoffFactor, prevDelay * 3))
 * delay = min(delay, maxWait)
 * ```
 *
 * Start with `prevDelay = backoffFactor` and feed each result back as the next `prevDelay`.
 */
export function decorrelatedJitter(
  prevDelay: number,
  backoffFactor: number,
  maxWait: number,
  random: RandomSource,
): number {
  const upper = Math.max(backoffFactor, prevDelay * 3);
  const delay = backoffFactor + random() * (upper - backoffFactor);
  return Math.min(delay, maxWait);
}

/** Header lookup that works for undici's plain objects and for `Headers`. */
export type HeaderSource =
  | Record<string, string | string[] | undefined>
  | { get(name: string): string | null };

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The server's retry hint in milliseconds, if any: `retry-after-ms` (milliseconds), else
 * `Retry-After` as delta-seconds or an HTTP date. A date in the past gives 0. Unparseable
 * values are ignored (undefined), never trusted.
 */
export function parseRetryAfter(headers: HeaderSource, nowEpochMs: number = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const value = header(headers, 'retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  // An HTTP date always has a weekday or month name; Date.parse alone accepts "-4" as a year.
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowEpochMs);
}
