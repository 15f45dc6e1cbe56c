/**
 * Who may talk to the emulator's HTTP ports at all, beyond the API key: not a web page.
 * A page can reach a loopback port in two ways, and each has its check here:
 * - cross-site requests carry an `Origin` naming the page's site: refused unless it names
 *   this machine (`localhost`, a loopback address, the bound host, an allowed name);
 * - DNS rebinding makes a page's own name resolve to 127.0.0.1, so the `Host` header names
 *   that site: on a loopback bind, refused unless it is an IP address, `localhost`
 *   (`*.localhost`), the bound host or an allowed name.
 * Also the comparison of keys (constant-time, so a key cannot be guessed byte by byte).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { forbidden } from './errors.js';

/** Is this bind address a loopback one (only this machine can connect)? */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    /^127\./.test(h) ||
    h === '::1' ||
    /^::ffff:127\./.test(h)
  );
}

/** The host name of a `Host` header value (`name:port`, `[v6]:port`), lower-cased. */
export function hostName(hostHeader: string): string {
  const value = hostHeader.trim().toLowerCase();
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    return close < 0 ? value : value.slice(1, close);
  }
  const colon = value.indexOf(':');
  return (colon < 0 ? value : value.slice(0, colon)).replace(/\.$/, '');
}

/** A bare host name (no port) as compared here: lower case, no brackets, no trailing dot. */
function normalizeName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

/** The Host and Origin checks of one server. */
export class HostPolicy {
  private readonly names: Set<string>;
  /** Whether `Host` is checked: only on a loopback bind, where any other name is a rebinding. */
  readonly checksHost: boolean;

  constructor(bindHost: string, allowedHosts: readonly string[] = []) {
    this.checksHost = isLoopbackAddress(bindHost);
    this.names = new Set([bindHost, 'localhost', '127.0.0.1', '::1', ...allowedHosts].map(normalizeName));
  }

  /** A name of this machine: loopback names, the bound host, an allowed name. */
  private isOwnName(name: string): boolean {
    return this.names.has(name) || isLoopbackAddress(name);
  }

  /** Throw a 403 for a request from a web page this server does not belong to. */
  check(req: IncomingMessage): void {
    const host = req.headers.host;
    if (this.checksHost && host !== undefined) {
      const name = hostName(host);
      if (!this.isOwnName(name) && isIP(name) === 0) {
        throw forbidden(
          `Host ${JSON.stringify(name)} is not a name of this server; add it to allowedHosts (--allowed-host) to accept it`,
        );
      }
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.isOwnOrigin(origin)) {
      throw forbidden(
        `Requests from web pages of another site (Origin ${JSON.stringify(origin)}) are refused`,
      );
    }
  }

  private isOwnOrigin(origin: string): boolean {
    try {
      const url = new URL(origin);
      return (url.protocol === 'http:' || url.protocol === 'https:') && this.isOwnName(hostName(url.host));
    } catch {
      return false; // `null` (sandboxed pages, file:) and garbage
    }
  }
}

/** Does the given key equal the expected one? Constant-time in the key's content. */
export function keyMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
