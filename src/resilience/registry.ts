/**
 * One adaptive limiter per index host per client, in a bounded LRU map. REST and gRPC
 * handles of one client share the registry, so both feed and obey the same limit.
 */
import type { Logger } from '../log.js';
import { AimdLimiter, type AimdLimiterTuning } from './adaptive.js';
import type { Clock } from './clock.js';
import type { LimiterRegistry } from './limiter.js';

/** The spec's cap on hosts with adaptive state per client. */
export const DEFAULT_MAX_LIMITER_HOSTS = 256;

/** Options of {@link AdaptiveLimiterRegistry}. */
export interface AdaptiveLimiterRegistryOptions {
  clock: Clock;
  logger: Logger;
  /** Hosts kept before the least recently used is forgotten (default 256). */
  maxHosts?: number | undefined;
  /** Passed to every limiter (pacing tuning, a replacement state, a transition listener). */
  limiter?: AimdLimiterTuning | undefined;
}

/**
 * The key hosts are told apart by: lower case, without scheme, path or trailing slash,
 * and without `:443` on an https (or scheme-less) host, so `https://X.svc.pinecone.io/`,
 * `x.svc.pinecone.io` and `x.svc.pinecone.io:443` (how gRPC names it) share one limiter.
 */
export function limiterHostKey(host: string): string {
  let h = host.trim().toLowerCase();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(h);
  if (scheme) h = h.slice(scheme[0].length);
  const slash = h.indexOf('/');
  if (slash >= 0) h = h.slice(0, slash);
  if ((!scheme || scheme[1] === 'https') && h.endsWith(':443')) h = h.slice(0, -4);
  return h;
}

/**
 * Hands out one {@link AimdLimiter} per host, keeping at most `maxHosts`. Past the cap the
 * least recently used host is forgotten (preferring one with nothing in flight or
 * queued); its next use starts fresh, which is harmless. `get` counts as use, so callers
 * should look the limiter up per operation (a map lookup) rather than keep it.
 */
export class AdaptiveLimiterRegistry implements LimiterRegistry {
  readonly #options: AdaptiveLimiterRegistryOptions;
  readonly #maxHosts: number;
  /** Insertion order is recency order: oldest first. */
  readonly #limiters = new Map<string, AimdLimiter>();

  constructor(options: AdaptiveLimiterRegistryOptions) {
    const maxHosts = options.maxHosts ?? DEFAULT_MAX_LIMITER_HOSTS;
    if (!Number.isInteger(maxHosts) || maxHosts < 1) {
      throw new RangeError(`maxHosts must be a positive integer, got ${maxHosts}`);
    }
    this.#options = options;
    this.#maxHosts = maxHosts;
  }

  /** The limiter of `host`, created on first use; marks it most recently used. */
  get(host: string): AimdLimiter {
    const key = limiterHostKey(host);
    const existing = this.#limiters.get(key);
    if (existing) {
      this.#limiters.delete(key);
      this.#limiters.set(key, existing);
      return existing;
    }
    if (this.#limiters.size >= this.#maxHosts) this.#evict();
    const limiter = new AimdLimiter({
      ...this.#options.limiter,
      clock: this.#options.clock,
      logger: this.#options.logger,
      host: key,
    });
    this.#limiters.set(key, limiter);
    return limiter;
  }

  /** The limiter of `host` if one is kept, without marking it used. */
  peek(host: string): AimdLimiter | undefined {
    return this.#limiters.get(limiterHostKey(host));
  }

  /** Hosts kept now. */
  get size(): number {
    return this.#limiters.size;
  }

  /** Host keys kept, least recently used first. */
  hosts(): string[] {
    return [...this.#limiters.keys()];
  }

  #evict(): void {
    let victim: string | undefined;
    for (const [key, limiter] of this.#limiters) {
      // An idle limiter is forgotten cleanly; evicting a busy one would let a fresh
      // limiter for the same host run beside the old one until it drains.
      if (limiter.idle) {
        victim = key;
        break;
      }
      victim ??= key;
    }
    if (victim === undefined) return;
    this.#limiters.get(victim)?.dispose();
    this.#limiters.delete(victim);
  }

  /** Drop every limiter (the client is closing): each state releases what it holds. */
  close(): void {
    for (const limiter of this.#limiters.values()) limiter.dispose();
    this.#limiters.clear();
  }
}
