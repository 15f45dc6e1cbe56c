/**
 * The `Pinecone` client: options, the control plane (indexes), and index handles.
 */
import { inspect } from 'node:util';
import { RetryConfig, type RetryConfigOptions } from './config.js';
import { CoordinatedState } from './coordination/coordinated-state.js';
import type { Coordinator } from './coordination/coordinator.js';
import { CLIENT_CONTEXT, ClientContext, type ClientContextSource } from './data/context.js';
import type { ConfigureIndexOptions, CreateIndexOptions, IndexModel } from './data/control-types.js';
import { GrpcIndex } from './data/grpc-index.js';
import { Index } from './data/index.js';
import type { CallOptions } from './data/options.js';
import { resolveTimeout } from './data/requests.js';
import type { Metric } from './data/types.js';
import { validateIntRange, validateSignal } from './data/validate.js';
import { ConflictError, PineconeError, ValidationError } from './errors.js';
import type { Logger } from './log.js';
import { resolveLogger } from './log.js';
import { AimdState } from './resilience/aimd-state.js';
import { type Clock, type RandomSource, systemClock } from './resilience/clock.js';
import type { LimiterRegistry } from './resilience/limiter.js';
import { AdaptiveLimiterRegistry } from './resilience/registry.js';
import { withRetries } from './resilience/retry.js';
import { RetryEvents } from './resilience/retry-events.js';
import { type HttpMethod, normalizeHost } from './transport/rest.js';

/** Options of the {@link Pinecone} client. Times are in seconds. */
export interface PineconeOptions {
  /** API key. Default: `process.env.PINECONE_API_KEY`. */
  apiKey?: string;
  /** Control-plane host. Default: env `PINECONE_CONTROLLER_HOST`, else `https://api.pinecone.io`. */
  controllerHost?: string;
  /** How REST requests are retried (an instance or its fields). */
  retryConfig?: RetryConfig | RetryConfigOptions;
  /** Receives the SDK's structured log records. Default: silent, or stderr per `PINECONE_LOG_LEVEL`. */
  logger?: Logger;
  /** Per-attempt timeout, seconds. Default 30. */
  timeout?: number;
  /** Time source for backoff sleeps and the limiter (tests inject a manual clock). */
  clock?: Clock;
  /** Random source for jitter (tests inject a seeded one). Default `Math.random`. */
  random?: RandomSource;
  /** Headers added to every request. */
  additionalHeaders?: Record<string, string>;
  /** Appended to the User-Agent to identify your integration. */
  sourceTag?: string;
  /** Adaptive limiter registry shared by this client's indexes (default: one per client). */
  limiters?: LimiterRegistry;
  /**
   * Share the adaptive limiter's state with other processes, e.g.
   * `redisCoordinator({ url: 'redis://127.0.0.1:6379' })` (see docs/coordination.md).
   * The client gives it its logger and clock, and `close()` disposes it.
   */
  coordination?: Coordinator;
}

/** Options of {@link Pinecone.index}: a host, or an index name to look up (once). */
export interface IndexOptions {
  /** Data-plane host, e.g. `my-index-abc123.svc.pinecone.io` or `http://127.0.0.1:5081`. */
  host?: string;
  /** Index name; its host is looked up with `describeIndex` on first use and cached. */
  name?: string;
  /** Default namespace for calls on this handle. */
  namespace?: string;
  /** `true` for a gRPC index (see `pinecone-resilient/grpc`). */
  grpc?: boolean;
}

const DEFAULT_CONTROLLER = 'https://api.pinecone.io';
const METRICS: readonly Metric[] = ['cosine', 'euclidean', 'dotproduct'];

/**
 * The entry point.
 *
 * @example
 * ```ts
 * const pc = new Pinecone({ apiKey: process.env.PINECONE_API_KEY });
 * const index = pc.index({ host: 'product-search-abc123.svc.pinecone.io' });
 * await index.upsert({ vectors, batchSize: 200, maxConcurrency: 8 });
 * ```
 */
export class Pinecone implements ClientContextSource {
  /** The retry configuration in force (validated). */
  readonly retryConfig: RetryConfig;
  /** Control-plane origin. */
  readonly controllerHost: string;
  /** Default per-attempt timeout, seconds. */
  readonly timeout: number;
  readonly #clock: Clock;
  readonly #hostsByName = new Map<string, Promise<string>>();
  /** The wiring every index handle of this client shares (key, logger, limiters, pools). */
  readonly #ctx: ClientContext;
  readonly #coordination: Coordinator | undefined;
  /** The limiter registry this client made (not one given in `limiters`): closed with the client. */
  readonly #ownLimiters: AdaptiveLimiterRegistry | undefined;

  constructor(options: PineconeOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ValidationError('Pinecone options must be an object', 'options');
    }
    const apiKey = options.apiKey ?? process.env.PINECONE_API_KEY;
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw new ValidationError(
        'No API key: pass the apiKey option or set the PINECONE_API_KEY environment variable',
        'apiKey',
      );
    }
    this.retryConfig = RetryConfig.from(options.retryConfig);
    this.timeout = resolveTimeout(options.timeout, 30);
    this.controllerHost = normalizeHost(
      options.controllerHost ?? process.env.PINECONE_CONTROLLER_HOST ?? DEFAULT_CONTROLLER,
      'controllerHost',
    ).origin;
    const logger = resolveLogger(options.logger);
    this.#clock = options.clock ?? systemClock;
    const coordination = checkCoordinator(options.coordination);
    if (coordination && options.limiters !== undefined) {
      // It would be silently ignored: the given registry makes its own states.
      throw new ValidationError(
        'Pass coordination or limiters, not both (build your limiters with CoordinatedState to coordinate them)',
        'coordination',
      );
    }
    this.#coordination = coordination;
    if (options.limiters === undefined) {
      this.#ownLimiters = new AdaptiveLimiterRegistry({
        clock: this.#clock,
        logger,
        limiter: coordination && {
          // Each host's state shares its rate and limit with the fleet (see coordination/).
          createState: (notify, host) =>
            new CoordinatedState({
              local: new AimdState({ notify }),
              coordinator: coordination,
              host,
              clock: this.#clock,
            }),
        },
      });
    }
    this.#ctx = new ClientContext({
      apiKey,
      logger,
      clock: this.#clock,
      random: options.random ?? Math.random,
      events: new RetryEvents(logger),
      limiters: options.limiters ?? this.#ownLimiters!,
      timeout: this.timeout,
      retryConfig: this.retryConfig,
      additionalHeaders: options.additionalHeaders,
      sourceTag: options.sourceTag,
      resolveName: (name) => this.#resolveName(name),
    });
    coordination?.attach({ logger, clock: this.#clock });
  }

  /**
   * A handle on one index's data plane. Cheap; handles share the client's pools and limiters.
   * With `grpc: true`, a {@link GrpcIndex} (the gRPC library loads on its first call).
   */
  index(options: IndexOptions & { grpc: true }): GrpcIndex;
  index(options: IndexOptions & { grpc?: false | undefined }): Index;
  index(options: IndexOptions): Index | GrpcIndex;
  index(options: IndexOptions): Index | GrpcIndex {
    if (
      !options ||
      typeof options !== 'object' ||
      (options.host === undefined) === (options.name === undefined)
    ) {
      throw new ValidationError('index() needs exactly one of host or name', 'host');
    }
    // A bad host (or name) fails here, before anything is sent.
    if (options.host !== undefined) normalizeHost(options.host);
    else if (typeof options.name !== 'string' || options.name.trim() === '') {
      throw new ValidationError('index name must be a non-empty string', 'name');
    }
    const target = { host: options.host, name: options.name };
    if (options.grpc) return GrpcIndex.fromClient({ ctx: this.#ctx, target, namespace: options.namespace });
    return new Index({ ctx: this.#ctx, target, namespace: options.namespace });
  }

  /** Create an index (serverless on aws/us-east-1 unless `spec` says otherwise). */
  async createIndex(options: CreateIndexOptions & CallOptions): Promise<IndexModel> {
    if (!options || typeof options.name !== 'string' || options.name === '') {
      throw new ValidationError('createIndex needs a name', 'name');
    }
    const vectorType = options.vectorType ?? 'dense';
    if (vectorType === 'dense') validateIntRange(options.dimension, 'dimension', 1, 20_000);
    const metric = options.metric ?? (vectorType === 'sparse' ? 'dotproduct' : 'cosine');
    if (!METRICS.includes(metric))
      throw new ValidationError(`metric must be one of ${METRICS.join(', ')}`, 'metric');
    const body = {
      name: options.name,
      dimension: options.dimension,
      metric,
      spec: options.spec ?? { serverless: { cloud: 'aws', region: 'us-east-1' } },
      deletion_protection: options.deletionProtection,
      vector_type: options.vectorType,
      tags: options.tags,
    };
    let model: IndexModel;
    try {
      model = toIndexModel(await this.#control('POST', '/indexes', JSON.stringify(body), options));
    } catch (error) {
      // A create retried after a reply was lost (5xx, reset, timeout) can meet the index its
      // own first attempt made. When the index found is the one asked for, that is success.
      if (!(error instanceof ConflictError) || error.attempts < 2) throw error;
      model = await this.describeIndex(options.name, options);
      const same =
        model.metric === metric && (vectorType !== 'dense' || model.dimension === options.dimension);
      if (!same) throw error;
    }
    while (options.waitUntilReady && !model.status.ready) {
      await this.#clock.sleep(1000, options.signal);
      model = await this.describeIndex(options.name, options);
    }
    return model;
  }

  /** Describe one index by name. */
  async describeIndex(name: string, options: CallOptions = {}): Promise<IndexModel> {
    return toIndexModel(
      await this.#control('GET', `/indexes/${encodeURIComponent(name)}`, undefined, options),
    );
  }

  /** Every index of the project. */
  async listIndexes(options: CallOptions = {}): Promise<{ indexes: IndexModel[] }> {
    const res = (await this.#control('GET', '/indexes', undefined, options)) as { indexes?: unknown[] };
    return { indexes: (res.indexes ?? []).map(toIndexModel) };
  }

  /** Delete an index by name. */
  async deleteIndex(name: string, options: CallOptions = {}): Promise<void> {
    await this.#control('DELETE', `/indexes/${encodeURIComponent(name)}`, undefined, options);
    this.#hostsByName.delete(name);
  }

  /** Change an index's deletion protection, tags or pod settings. */
  async configureIndex(name: string, changes: ConfigureIndexOptions & CallOptions): Promise<IndexModel> {
    const body = { deletion_protection: changes.deletionProtection, tags: changes.tags, spec: changes.spec };
    return toIndexModel(
      await this.#control('PATCH', `/indexes/${encodeURIComponent(name)}`, JSON.stringify(body), changes),
    );
  }

  /** Release connection pools and channels (and the coordinator's connection). Calls after this fail. */
  async close(): Promise<void> {
    this.#ownLimiters?.close();
    await this.#coordination?.dispose();
    await this.#ctx.close();
  }

  /** @internal The wiring this client's index handles share (`new GrpcIndex({ client })` uses it). */
  [CLIENT_CONTEXT](): ClientContext {
    return this.#ctx;
  }

  [inspect.custom](): string {
    return `Pinecone { controllerHost: '${this.controllerHost}', retryConfig: ${inspect(this.retryConfig)} }`;
  }

  #resolveName(name: string): Promise<string> {
    let host = this.#hostsByName.get(name);
    if (!host) {
      host = this.describeIndex(name).then((model) => {
        if (!model.host)
          throw new PineconeError(`Index ${name} has no host yet (state ${model.status.state})`);
        return model.host;
      });
      // A failed lookup is not cached: the next call tries again.
      host.catch(() => this.#hostsByName.delete(name));
      this.#hostsByName.set(name, host);
    }
    return host;
  }

  async #control(
    method: HttpMethod,
    path: string,
    body: string | undefined,
    opts: CallOptions,
  ): Promise<unknown> {
    validateSignal(opts.signal);
    const timeout = resolveTimeout(opts.timeout, this.timeout);
    const transport = this.#ctx.rest(this.controllerHost);
    const config = this.retryConfig;
    const { clock, random, events } = this.#ctx;
    return withRetries(
      (attempt, signal) => transport.send({ method, path, body, attempt, timeout, signal }),
      { ...config, classify: (error) => transport.classify(error) },
      { clock, random, events, host: transport.host, signal: opts.signal },
    );
  }
}

/** Read an index description in either API shape (classic, or 2026-07's schema/deployment). */
export function toIndexModel(raw: unknown): IndexModel {
  const r = (raw ?? {}) as Record<string, unknown>;
  const schemaFields = ((r.schema as { fields?: Record<string, Record<string, unknown>> } | undefined)
    ?.fields ?? {}) as Record<string, Record<string, unknown>>;
  const dense = schemaFields._values;
  const sparse = schemaFields._sparse_values;
  const status = (r.status ?? {}) as { ready?: boolean; state?: string };
  return {
    name: String(r.name ?? ''),
    dimension: (r.dimension as number | undefined) ?? (dense?.dimension as number | undefined),
    metric: ((r.metric as Metric | undefined) ??
      (dense?.metric as Metric | undefined) ??
      'dotproduct') as Metric,
    host: String(r.host ?? ''),
    spec: (r.spec as IndexModel['spec']) ?? (r.deployment as Record<string, unknown> | undefined),
    status: { ready: status.ready === true, state: status.state ?? 'Unknown' },
    deletionProtection: r.deletion_protection as IndexModel['deletionProtection'],
    vectorType: (r.vector_type as string | undefined) ?? (dense ? 'dense' : sparse ? 'sparse' : undefined),
    tags: r.tags as Record<string, string> | undefined,
  };
}

/** A coordinator, checked: what `coordination` must be. */
function checkCoordinator(coordination: Coordinator | undefined): Coordinator | undefined {
  if (coordination === undefined) return undefined;
  if (typeof coordination?.attach !== 'function' || typeof coordination.dispose !== 'function') {
    throw new ValidationError(
      'coordination must be a Coordinator, e.g. redisCoordinator({ url })',
      'coordination',
    );
  }
  return coordination;
}
