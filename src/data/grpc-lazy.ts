/**
 * What the root entry point knows about gRPC indexes without loading gRPC: the handle
 * `pc.index({ host, grpc: true })` returns. It has every method of `GrpcIndex` and loads
 * `pinecone-resilient/grpc` (and with it @grpc/grpc-js) on its first call, so REST users
 * never pay for the gRPC library.
 */

import { inspect } from 'node:util';
import type { Pinecone } from '../client.js';
import type { GrpcIndex } from './grpc-index.js';
import type {
  DeleteOptions,
  DescribeIndexStatsOptions,
  FetchOptions,
  ListOptions,
  QueryOptions,
  UpdateOptions,
  UpsertOptions,
} from './index.js';
import { checkDelete, checkQuery, checkUpdate, checkUpsert } from './requests.js';
import type {
  FetchResponse,
  IndexStats,
  ListResponse,
  QueryResponse,
  UpdateResponse,
  UpsertResponse,
} from './types.js';
import { validateIds } from './validate.js';

/** The spec's gRPC default: 5 retries after the first attempt (6 attempts in all). */
export const GRPC_DEFAULT_MAX_RETRIES = 5;

/** Marks gRPC index handles (the class and the lazy handle): `instanceof GrpcIndex` checks it. */
export const GRPC_INDEX_BRAND: unique symbol = Symbol.for('pinecone-resilient.GrpcIndex') as never;

/** Where the lazy handle's index lives: a host, or a name the client resolves once. */
export interface LazyGrpcTarget {
  host?: string | undefined;
  name?: string | undefined;
  namespace?: string | undefined;
}

/**
 * A `GrpcIndex` made on first use, sharing the client's key, logger, clock, limiters and
 * channels (the client's `close()` closes them). Typed as `GrpcIndex` by `pc.index`, and
 * `instanceof GrpcIndex` holds for it.
 */
export class LazyGrpcIndex {
  /** Retries after the first attempt: the gRPC default (tune it with `new GrpcIndex`). */
  readonly maxRetries = GRPC_DEFAULT_MAX_RETRIES;
  readonly [GRPC_INDEX_BRAND] = true;
  readonly #client: Pinecone;
  readonly #target: LazyGrpcTarget;
  #index: Promise<GrpcIndex> | undefined;

  constructor(client: Pinecone, target: LazyGrpcTarget) {
    this.#client = client;
    this.#target = { ...target };
  }

  /** The handle's default namespace. */
  get namespace(): string | undefined {
    return this.#target.namespace;
  }

  /** See `GrpcIndex.upsert`. */
  async upsert(options: UpsertOptions): Promise<UpsertResponse> {
    return (await this.#load(() => checkUpsert(options))).upsert(options);
  }

  /** See `GrpcIndex.query`. */
  async query(options: QueryOptions): Promise<QueryResponse> {
    return (await this.#load(() => checkQuery(options))).query(options);
  }

  /** See `GrpcIndex.fetch`. */
  async fetch(options: FetchOptions): Promise<FetchResponse> {
    return (await this.#load(() => validateIds(options?.ids))).fetch(options);
  }

  /** See `GrpcIndex.delete`. */
  async delete(options: DeleteOptions): Promise<void> {
    return (await this.#load(() => checkDelete(options))).delete(options);
  }

  /** See `GrpcIndex.update`. */
  async update(options: UpdateOptions): Promise<UpdateResponse> {
    return (await this.#load(() => checkUpdate(options))).update(options);
  }

  /** See `GrpcIndex.describeIndexStats`. */
  async describeIndexStats(options?: DescribeIndexStatsOptions): Promise<IndexStats> {
    return (await this.#load()).describeIndexStats(options);
  }

  /** See `GrpcIndex.listPaginated`. */
  async listPaginated(options?: ListOptions): Promise<ListResponse> {
    return (await this.#load()).listPaginated(options);
  }

  /** See `GrpcIndex.list`: an async iterator, returned at once; loading happens on the first `next()`. */
  async *list(options?: Omit<ListOptions, 'paginationToken'>): AsyncGenerator<string, void, undefined> {
    yield* (await this.#load()).list(options);
  }

  /** Nothing to release: the client's `close()` closes the shared channels. */
  async close(): Promise<void> {}

  /** @internal */
  [inspect.custom](): string {
    const where =
      this.#target.host !== undefined ? `host: '${this.#target.host}'` : `name: '${this.#target.name}'`;
    return `GrpcIndex { ${where}, namespace: ${JSON.stringify(this.#target.namespace)}, maxRetries: ${this.maxRetries} }`;
  }

  /**
   * The index, loaded on first use. Before the first load (which may look the host up by
   * name, a request) the call's input is checked, so bad input never reaches the wire.
   */
  #load(check?: () => void): Promise<GrpcIndex> {
    if (!this.#index) {
      check?.();
      const loading = (async () => {
        const [{ GrpcIndex: Cls }, host] = await Promise.all([
          import('../grpc.js'),
          this.#client.internals.resolveHost(this.#target),
        ]);
        return new Cls({ host, client: this.#client, namespace: this.#target.namespace });
      })();
      // A failed load (a name lookup that failed, say) is not kept: the next call tries again.
      loading.catch(() => {
        if (this.#index === loading) this.#index = undefined;
      });
      this.#index = loading;
    }
    return this.#index;
  }
}
