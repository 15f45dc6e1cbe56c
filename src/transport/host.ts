/**
 * Reading a user-supplied host, shared by both transports: a bare host means `https://`,
 * an explicit `http://` (the local emulator) is kept, anything else is refused with a
 * {@link ValidationError} naming the field, before anything is sent.
 */
import { describe } from '../config.js';
import { ValidationError } from '../errors.js';

/**
 * Parse `my-index.svc.pinecone.io`, `https://...` or `http://127.0.0.1:5081` into a URL.
 * `field` names the option the host came from in the error (`host`, `controllerHost`).
 */
export function parseHost(host: unknown, field = 'host'): URL {
  if (typeof host !== 'string' || host.trim() === '') {
    throw new ValidationError(`${field} must be a non-empty host name or URL; got ${describe(host)}`, field);
  }
  const given = host.trim();
  // The scheme is read before trailing slashes go, so `http://` alone is no host at all.
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(given);
  const trimmed = given.replace(/\/+$/, '');
  const withScheme = hasScheme ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ValidationError(
      `${field} is not a valid host: ${describe(host)} (expected e.g. my-index-abc123.svc.pinecone.io or http://127.0.0.1:5081)`,
      field,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(
      `${field} ${describe(host)} must be bare or use http:// or https:// (not ${url.protocol}//)`,
      field,
    );
  }
  if (url.hostname === '') throw new ValidationError(`${field} ${describe(host)} has no host name`, field);
  return url;
}
