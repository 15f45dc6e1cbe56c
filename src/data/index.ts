/**
 * The REST index handle: the data-plane core (`core.ts`) over the REST wire adapter
 * (`rest-wire.ts`), retried per the client's `RetryConfig`. Get one from
 * `pc.index({ host })` or `pc.index({ name })`.
 */
import { inspect } from 'node:util';
import type { RetryPolicy } from '../resilience/retry.js';
import type { RestTransport } from '../transport/rest.js';
import type { ClientContext, IndexTarget } from './context.js';
import { DataPlaneCore } from './core.js';
import { RestWire } from './rest-wire.js';
import { validateNamespace } from './validate.js';
import type { DataWire } from './wire.js';

// The CLI imports these from here (they lived in this file before options.ts).
export type { DescribeIndexStatsOptions, QueryOptions, UpsertOptions, UpsertProgress } from './options.js';

/** @internal Where a REST handle's index lives and whose wiring it uses. */
export interface IndexWiring {
  ctx: ClientContext;
  target: IndexTarget;
  namespace?: string | undefined;
}

/**
 * One index over REST. Get one from `pc.index({ host })` or `pc.index({ name })`.
 */
export class Index extends DataPlaneCore {
  readonly #wiring: IndexWiring;
  readonly #wire: () => Promise<DataWire>;

  /** @internal Use `pc.index(...)`. */
  constructor(wiring: IndexWiring, wire?: () => Promise<DataWire>) {
    const resolved = wire ?? restWire(wiring.ctx, wiring.target);
    super({ ctx: wiring.ctx, wire: resolved, namespace: wiring.namespace, timeout: wiring.ctx.timeout });
    this.#wiring = wiring;
    this.#wire = resolved;
  }

  /** A handle on the same index (same pool and limiter) defaulting to `namespace`. */
  namespace(namespace: string): Index {
    validateNamespace(namespace);
    return new Index({ ...this.#wiring, namespace }, this.#wire);
  }

  /** @internal Hide the wiring from `util.inspect` (it holds the API key's transport). */
  [inspect.custom](): string {
    return `Index { namespace: ${JSON.stringify(this.defaultNamespace)} }`;
  }
}

/** The REST wire of an index: its host resolved (once, by the context), one wire per transport. */
function restWire(ctx: ClientContext, target: IndexTarget): () => Promise<DataWire> {
  let last: { transport: RestTransport; wire: RestWire } | undefined;
  return async () => {
    const transport = ctx.rest(await ctx.resolveHost(target));
    if (last?.transport !== transport) {
      const { maxRetries, backoffFactor, maxWait } = ctx.retryConfig;
      const policy: RetryPolicy = {
        maxRetries,
        backoffFactor,
        maxWait,
        classify: (error) => transport.classify(error),
      };
      last = { transport, wire: new RestWire(transport, policy) };
    }
    return last.wire;
  };
}
