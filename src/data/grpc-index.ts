/**
 * The gRPC index handle: the data-plane core (`core.ts`) over the gRPC wire adapter,
 * with the spec's gRPC retry policy (5 retries, i.e. 6 attempts, by default; decorrelated
 * jitter with the REST formula and defaults). Retrying is tuned here only.
 *
 * This file does not load the gRPC library: the wire adapter (`grpc-wire.ts`, which
 * does) is imported on the first call. So `pc.index({ host, grpc: true })` returns a real
 * `GrpcIndex` from the root entry point, with every method the type promises, while
 * REST-only users never load @grpc/grpc-js.
 */
import { inspect } from 'node:util';
import { RetryConfig } from '../config.js';
import { ValidationError } from '../errors.js';
import { type Logger, resolveLogger } from '../log.js';
import { type Clock, type RandomSource, systemClock } from '../resilience/clock.js';
import type { LimiterRegistry } from '../resilience/limiter.js';
import { AdaptiveLimiterRegistry } from '../resilience/registry.js';
import { RetryEvents } from '../resilience/retry-events.js';
import {
  DEFAULT_RETRYABLE_GRPC_CODES,
  GRPC_DEFAULT_MAX_RETRIES,
  parseGrpcCodes,
} from '../transport/grpc-policy.js';
import { parseHost } from '../transport/host.js';
import { CLIENT_CONTEXT, ClientContext, type ClientContextSource, type IndexTarget } from './context.js';
import { DataPlaneCore } from './core.js';
import { resolveTimeout } from './requests.js';
import { validateIntRange, validateNamespace } from './validate.js';
import type { DataWire } from './wire.js';

/** Options of {@link GrpcIndex}. Times are in seconds. */
export interface GrpcIndexOptions {
  /** The index host: bare or `https://` (TLS, port 443), or `http://127.0.0.1:PORT` (plaintext). */
  host: string;
  /** API key. Default: the `client`'s, else `process.env.PINECONE_API_KEY`. */
  apiKey?: string | undefined;
  /**
   * Retries after the first attempt (default 5). gRPC retrying is tuned here only, never
   * through `RetryConfig`.
   */
  maxRetries?: number | undefined;
  /**
   * The status codes retried, as numbers or names (`['UNAVAILABLE', 'INTERNAL']`).
   * Default: the spec's UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED plus INTERNAL and
   * DEADLINE_EXCEEDED (the twins of REST's 500 and 504). An empty set retries no status
   * (network failures are still retried, as over REST).
   */
  retryableCodes?: Iterable<number | string> | undefined;
  /**
   * A client to share (a `Pinecone`): its API key, logger, clock, random source, log
   * memory, adaptive limiters and gRPC channels; its `close()` closes this index's
   * channel. Without one the index has its own (and its own {@link GrpcIndex.close}).
   */
  client?: ClientContextSource | undefined;
  /** Default namespace for calls on this handle. */
  namespace?: string | undefined;
  /** Per-attempt deadline (default: the client's `timeout`, else 30). */
  timeout?: number | undefined;
  /** Receives the SDK's log records (without a client). */
  logger?: Logger | undefined;
  /** Time source for backoff sleeps and the limiter (without a client). */
  clock?: Clock | undefined;
  /** Random source for jitter (without a client). */
  random?: RandomSource | undefined;
  /** Adaptive limiter registry (default: the client's, else one of its own). */
  limiters?: LimiterRegistry | undefined;
  /** API version sent as `x-pinecone-api-version`. */
  apiVersion?: string | undefined;
  /** Metadata added to every call. */
  additionalHeaders?: Record<string, string> | undefined;
  /** Appended to the user agent to identify your integration. */
  sourceTag?: string | undefined;
}

/** @internal How `pc.index({ grpc: true })` and `namespace()` build a handle on shared wiring. */
export interface GrpcIndexWiring {
  ctx: ClientContext;
  target: IndexTarget;
  namespace?: string | undefined;
}

const WIRING: unique symbol = Symbol('GrpcIndex wiring');
const SHARED: unique symbol = Symbol('GrpcIndex shared');

/** What every handle of one index shares: settings, and the wire once resolved. */
interface Shared {
  ctx: ClientContext;
  /** Whether this index made `ctx` (and so closes it). */
  ownsContext: boolean;
  maxRetries: number;
  /** How `util.inspect` names the index: `host: '...'` or `name: '...'`. */
  label: string;
  timeout: number;
  wire: () => Promise<DataWire>;
}

/** Options as the constructor reads them: public ones, or a handle's internal wiring. */
type InternalOptions = GrpcIndexOptions & { [WIRING]?: GrpcIndexWiring; [SHARED]?: Shared };

/**
 * One index over gRPC. Construct it directly (`new GrpcIndex({ host, apiKey, maxRetries })`)
 * or get one from `pc.index({ host, grpc: true })`, which shares the client's limiters.
 *
 * @example
 * ```ts
 * import { GrpcIndex } from 'pinecone-resilient/grpc';
 * const index = new GrpcIndex({ host: 'product-search-abc123.svc.pinecone.io', apiKey, maxRetries: 7 });
 * await index.upsert({ vectors, batchSize: 100, maxConcurrency: 8 });
 * await index.close();
 * ```
 */
export class GrpcIndex extends DataPlaneCore {
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  readonly #shared: Shared;

  constructor(options: GrpcIndexOptions) {
    const shared = sharedOf(options as InternalOptions);
    super({ ctx: shared.ctx, wire: shared.wire, namespace: options.namespace, timeout: shared.timeout });
    this.maxRetries = shared.maxRetries;
    this.#shared = shared;
  }

  /** @internal A handle on a client's wiring, for `pc.index({ host | name, grpc: true })`. */
  static fromClient(wiring: GrpcIndexWiring): GrpcIndex {
    const options: InternalOptions = { host: '', namespace: wiring.namespace, [WIRING]: wiring };
    return new GrpcIndex(options);
  }

  /** A handle on the same index (same channel, limiter and retry settings) defaulting to `namespace`. */
  namespace(namespace: string): GrpcIndex {
    validateNamespace(namespace);
    const options: InternalOptions = { host: '', namespace, [SHARED]: this.#shared };
    return new GrpcIndex(options);
  }

  /**
   * Close this index's channel when it owns it (constructed without a client). An index
   * from a client shares the client's channels: `await pc.close()` closes those.
   */
  async close(): Promise<void> {
    if (this.#shared.ownsContext) await this.#shared.ctx.close();
  }

  /** @internal Hide the wiring from `util.inspect` (the transport holds the API key). */
  [inspect.custom](): string {
    return `GrpcIndex { ${this.#shared.label}, namespace: ${JSON.stringify(this.defaultNamespace)}, maxRetries: ${this.maxRetries} }`;
  }
}

/** The wiring of a new handle: a bound copy's, a client's, or its own from `options`. */
function sharedOf(options: InternalOptions): Shared {
  const given = options?.[SHARED];
  if (given) return given;
  const wiring = options?.[WIRING];
  if (wiring) {
    const { host, name } = wiring.target;
    const label = host !== undefined ? `host: '${parseHost(host).host}'` : `name: '${name}'`;
    return sharedWire(wiring.ctx, false, wiring.target, label, {
      maxRetries: GRPC_DEFAULT_MAX_RETRIES,
      codes: DEFAULT_RETRYABLE_GRPC_CODES,
      timeout: wiring.ctx.timeout,
    });
  }
  if (!options || typeof options !== 'object') {
    throw new ValidationError('GrpcIndex options must be an object', 'options');
  }
  // Parse the host now so a bad one fails at construction, not on the first call.
  const url = parseHost(options.host);
  const maxRetries = options.maxRetries ?? GRPC_DEFAULT_MAX_RETRIES;
  validateIntRange(maxRetries, 'maxRetries', 0, 100);
  validateNamespace(options.namespace);
  const codes = readCodes(options.retryableCodes);
  const source = options.client;
  if (source && options.apiKey !== undefined) {
    throw new ValidationError('Give GrpcIndex either a client or an apiKey, not both', 'apiKey');
  }
  if (source !== undefined && typeof source?.[CLIENT_CONTEXT] !== 'function') {
    throw new ValidationError('client must be a Pinecone client', 'client');
  }
  const ctx = source ? source[CLIENT_CONTEXT]() : ownContext(options);
  const timeout = resolveTimeout(options.timeout, ctx.timeout);
  const label = `host: '${url.host}'`;
  return sharedWire(ctx, !source, { host: options.host }, label, { maxRetries, codes, timeout }, options);
}

/** The shared part of a handle: settings, and its wire resolved once (host, then the gRPC code). */
function sharedWire(
  ctx: ClientContext,
  ownsContext: boolean,
  target: IndexTarget,
  label: string,
  retry: { maxRetries: number; codes: ReadonlySet<number>; timeout: number },
  options: Partial<GrpcIndexOptions> = {},
): Shared {
  let loading: Promise<DataWire> | undefined;
  const wire = () => {
    if (!loading) {
      const made = (async () => {
        const [{ GrpcWire }, host] = await Promise.all([import('./grpc-wire.js'), ctx.resolveHost(target)]);
        const url = parseHost(host);
        const transport = {
          host,
          apiKey: ctx.apiKey(),
          apiVersion: options.apiVersion,
          additionalHeaders: options.additionalHeaders ?? ctx.additionalHeaders,
          sourceTag: options.sourceTag ?? ctx.sourceTag,
        };
        const channelKey = JSON.stringify([
          url.protocol,
          url.host,
          transport.apiVersion,
          transport.sourceTag,
          transport.additionalHeaders,
        ]);
        return new GrpcWire({
          ctx,
          transport,
          channelKey,
          host: url.host,
          maxRetries: retry.maxRetries,
          retryableCodes: retry.codes,
        });
      })();
      // A failed load (a name lookup that failed, say) is not kept: the next call tries again.
      made.catch(() => {
        if (loading === made) loading = undefined;
      });
      loading = made;
    }
    return loading;
  };
  return { ctx, ownsContext, maxRetries: retry.maxRetries, label, timeout: retry.timeout, wire };
}

/** The `retryableCodes` option, checked. */
function readCodes(codes: GrpcIndexOptions['retryableCodes']): ReadonlySet<number> {
  if (codes === undefined) return DEFAULT_RETRYABLE_GRPC_CODES;
  if (typeof codes !== 'object' || codes === null || typeof codes[Symbol.iterator] !== 'function') {
    throw new ValidationError('retryableCodes must be an iterable of gRPC codes', 'retryableCodes');
  }
  const parsed = parseGrpcCodes(codes);
  if (typeof parsed === 'string') throw new ValidationError(`retryableCodes ${parsed}`, 'retryableCodes');
  return parsed;
}

/** The wiring of a `GrpcIndex` built without a client: its own key, logger, limiters and channels. */
function ownContext(options: GrpcIndexOptions): ClientContext {
  const apiKey = options.apiKey ?? process.env.PINECONE_API_KEY;
  if (typeof apiKey !== 'string' || apiKey.trim() === '') {
    throw new ValidationError(
      'No API key: pass apiKey (or client), or set the PINECONE_API_KEY environment variable',
      'apiKey',
    );
  }
  const logger = resolveLogger(options.logger);
  const clock = options.clock ?? systemClock;
  return new ClientContext({
    apiKey,
    logger,
    clock,
    random: options.random ?? Math.random,
    events: new RetryEvents(logger),
    limiters: options.limiters ?? new AdaptiveLimiterRegistry({ clock, logger }),
    timeout: resolveTimeout(options.timeout, 30),
    retryConfig: new RetryConfig(),
    additionalHeaders: options.additionalHeaders,
    sourceTag: options.sourceTag,
  });
}
