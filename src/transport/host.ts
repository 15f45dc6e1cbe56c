/**
 * Reading a user-supplied host, shared by both transports: a bare host means `https://`,
 * an explicit `http://` (the local emulator) is kept, anything else is refused.
 */
import { PineconeError } from '../errors.js';

/** Parse `my-index.svc.pinecone.io`, `https://...` or `http://127.0.0.1:5081` into a URL. */
export function parseHost(host: string): URL {
  const trimmed = String(host).trim().replace(/\/+$/, '');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new PineconeError(`Not a valid host: ${JSON.stringify(host)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PineconeError(`Host ${JSON.stringify(host)} must be bare or use http:// or https://`);
  }
  return url;
}
