/**
 * Pagination over sorted keys: the token is opaque to clients (base64url of the last key
 * returned), and a page resumes strictly after it, so writes between pages never repeat
 * or skip a key that existed throughout.
 */
import { invalidArgument } from './errors.js';

/** Encode the last key of a page as a pagination token. */
export function encodePageToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey }), 'utf8').toString('base64url');
}

/** Decode a pagination token; undefined for none, 400 for one that is not ours. */
export function decodePageToken(token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as { after?: unknown }).after === 'string'
    ) {
      return (parsed as { after: string }).after;
    }
  } catch {
    // Fall through to the error below.
  }
  throw invalidArgument(`Invalid pagination token ${JSON.stringify(token)}`);
}

/**
 * The first position in `sorted` whose key is >= `key` (or > `key` when `strict`), by
 * UTF-16 code unit order (the order `sortedIds()` uses).
 */
export function lowerBound(sorted: readonly string[], key: string, strict = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v < key || (strict && v === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
