/**
 * The request target of an HTTP/1.1 request, read strictly: the path as sent (no URL
 * resolution, so `//x:99999/` is a path, not a host) and the query string decoded with
 * `decodeURIComponent`, so a malformed escape (`%ZZ`, `%C0%AF`) is a 400 rather than a
 * thrown `URIError` or a silently substituted U+FFFD. Shared by every HTTP plane.
 */
import { invalidArgument } from './errors.js';

/** A parsed request target. */
export interface RequestTarget {
  /** The path as sent (still percent-encoded), without a trailing slash (except `/`). */
  pathname: string;
  /** The query parameters, strictly decoded, in order. */
  searchParams: URLSearchParams;
}

/**
 * Parse a request target. Origin-form (`/path?query`) is the norm; absolute-form
 * (`http://host/path`, what proxies send) is reduced to its path; anything else (`*`,
 * garbage) is a 400.
 */
export function parseRequestTarget(target: string | undefined): RequestTarget {
  let raw = target ?? '/';
  if (!raw.startsWith('/')) {
    const absolute = /^https?:\/\/[^/?#]*(.*)$/i.exec(raw);
    if (!absolute) throw invalidArgument(`Invalid request target ${preview(raw)}`);
    raw = absolute[1] || '/';
    if (!raw.startsWith('/')) raw = `/${raw}`;
  }
  const hash = raw.indexOf('#');
  if (hash >= 0) raw = raw.slice(0, hash);
  const q = raw.indexOf('?');
  let pathname = q < 0 ? raw : raw.slice(0, q);
  if (pathname.length > 1 && pathname.endsWith('/')) pathname = pathname.slice(0, -1);
  return { pathname, searchParams: parseQuery(q < 0 ? '' : raw.slice(q + 1)) };
}

/** Decode a query string strictly (`+` is a space, as in forms and URLSearchParams). */
export function parseQuery(query: string): URLSearchParams {
  const params = new URLSearchParams();
  if (query === '') return params;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    params.append(
      decodeComponent(key, 'query parameter name'),
      decodeComponent(value, `query parameter ${key}`),
    );
  }
  return params;
}

/** Decode one percent-encoded path segment (a name in the path); a bad escape is a 400. */
export function decodePathSegment(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidArgument(`Invalid percent-encoding in the ${what} ${preview(segment)}`);
  }
}

function decodeComponent(text: string, what: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    throw invalidArgument(`Invalid percent-encoding in the ${what}: ${preview(text)}`);
  }
}

function preview(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
