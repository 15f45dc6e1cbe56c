/**
 * The gRPC wire adapter: each data-plane operation as a `VectorService` call, its request
 * built with the generated protobuf-es schemas (encoded once; retries resend the bytes;
 * an upsert's dense values are written straight into its bytes by `grpc-upsert.ts`)
 * and its answer converted to the SDK's shapes (`grpc-convert.ts`).
 *
 * Pinecone's gRPC service does not carry bulk imports or integrated-inference records;
 * those go over REST to the same host (a Pinecone index host serves both), through the
 * REST adapter, with this index's retry budget.
 *
 * This module loads @grpc/grpc-js: `GrpcIndex` imports it dynamically on its first call,
 * so the root entry point stays free of the gRPC library.
 */
import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import { ConnectionError } from '../errors.js';
import { VectorService } from '../gen/db_data_pb.js';
import type { RetryPolicy } from '../resilience/retry.js';
import { type GrpcMethod, GrpcTransport, type GrpcTransportOptions, grpcMethod } from '../transport/grpc.js';
import {
  classifyGrpcFailure,
  GRPC_BACKOFF_FACTOR,
  GRPC_MAX_WAIT,
  isRestApiError,
} from '../transport/grpc-policy.js';
import { DEFAULT_MAX_BATCH_BYTES } from './bulk.js';
import type { ClientContext } from './context.js';
import {
  deleteRequest,
  estimateVectorProtoBytes,
  fromPbFetch,
  fromPbFetchByMetadata,
  fromPbList,
  fromPbListNamespaces,
  fromPbNamespace,
  fromPbQuery,
  fromPbStats,
  listRequest,
  queryRequest,
  toPbFilter,
  updateRequest,
} from './grpc-convert.js';
import { UpsertRequestEncoder } from './grpc-upsert.js';
import type {
  CreateNamespaceOptions,
  FetchByMetadataOptions,
  ListNamespacesOptions,
  ListOptions,
  QueryOptions,
  SearchRecordsOptions,
  StartImportOptions,
  UpdateOptions,
} from './options.js';
import { RestWire } from './rest-wire.js';
import type {
  FetchByMetadataResponse,
  FetchResponse,
  ImportModel,
  IndexStats,
  IntegratedRecord,
  ListImportsResponse,
  ListNamespacesResponse,
  ListResponse,
  MetadataFilter,
  NamespaceDescription,
  QueryResponse,
  SearchRecordsResponse,
  StartImportResponse,
  UpdateResponse,
} from './types.js';
import { validateUpsertRequest } from './validate.js';
import type { DataWire, DeleteSelector, Send, UpsertEncoder } from './wire.js';

const M = {
  upsert: grpcMethod(VectorService.method.upsert),
  query: grpcMethod(VectorService.method.query),
  fetch: grpcMethod(VectorService.method.fetch),
  fetchByMetadata: grpcMethod(VectorService.method.fetchByMetadata),
  delete: grpcMethod(VectorService.method.delete),
  update: grpcMethod(VectorService.method.update),
  describeIndexStats: grpcMethod(VectorService.method.describeIndexStats),
  list: grpcMethod(VectorService.method.list),
  createNamespace: grpcMethod(VectorService.method.createNamespace),
  listNamespaces: grpcMethod(VectorService.method.listNamespaces),
  describeNamespace: grpcMethod(VectorService.method.describeNamespace),
  deleteNamespace: grpcMethod(VectorService.method.deleteNamespace),
};

/** What a gRPC wire needs: its owner's context, the channel's settings, the retry settings. */
export interface GrpcWireOptions {
  ctx: ClientContext;
  transport: GrpcTransportOptions;
  /** Channel identity in the owner's pool: address, TLS and the call metadata it carries. */
  channelKey: string;
  /** Label of the host (`host[:port]`): the limiter key and the logs' `host=`. */
  host: string;
  maxRetries: number;
  /** Status codes retried. */
  retryableCodes: ReadonlySet<number>;
}

/** One index's data plane over gRPC. */
export class GrpcWire implements DataWire {
  readonly host: string;
  readonly policy: RetryPolicy;
  readonly #options: GrpcWireOptions;
  readonly #upserts = new UpsertRequestEncoder();
  #rest: RestWire | undefined;

  constructor(options: GrpcWireOptions) {
    this.#options = options;
    this.host = options.host;
    const codes = options.retryableCodes;
    this.policy = {
      maxRetries: options.maxRetries,
      backoffFactor: GRPC_BACKOFF_FACTOR,
      maxWait: GRPC_MAX_WAIT,
      // REST statuses come from the calls that go over REST (imports, records).
      classify: (error) =>
        isRestApiError(error) ? this.restWire().policy.classify(error) : classifyGrpcFailure(error, codes),
    };
  }

  upsert(namespace: string | undefined): UpsertEncoder {
    return {
      maxBatchBytes: DEFAULT_MAX_BATCH_BYTES,
      sizeOf: estimateVectorProtoBytes,
      batch: (vectors) => {
        const bytes = this.#upserts.encode(vectors, namespace);
        validateUpsertRequest(vectors.length, bytes.length);
        const send = this.#bytes(M.upsert, bytes);
        return {
          send: async (a) => {
            const { upsertedCount } = await send(a);
            // A count other than the batch's confirms nothing the accounting could use (an
            // empty message reads as 0): unusable, like a reply that does not decode.
            if (upsertedCount !== vectors.length) {
              throw new ConnectionError(
                `gRPC ${M.upsert.path} on ${this.host} answered OK with upsertedCount ${upsertedCount} for ${vectors.length} records; nothing counts as written by this reply`,
                { host: this.host, attempts: a.attempt, code: 'BAD_BODY' },
              );
            }
            return upsertedCount;
          },
          release: () => this.#upserts.release(bytes),
        };
      },
    };
  }

  query(o: QueryOptions, namespace: string | undefined): Send<QueryResponse> {
    return this.#call(M.query, queryRequest(o, namespace), fromPbQuery);
  }

  fetch(ids: string[], namespace: string | undefined): Send<FetchResponse> {
    return this.#call(M.fetch, { ids, namespace: namespace ?? '' }, fromPbFetch);
  }

  fetchByMetadata(o: FetchByMetadataOptions, namespace: string | undefined): Send<FetchByMetadataResponse> {
    const init = {
      namespace: namespace ?? '',
      filter: toPbFilter(o.filter),
      limit: o.limit,
      paginationToken: o.paginationToken,
    };
    return this.#call(M.fetchByMetadata, init, fromPbFetchByMetadata);
  }

  delete(selector: DeleteSelector, namespace: string | undefined): Send<void> {
    return this.#call(M.delete, deleteRequest(selector, namespace), () => undefined);
  }

  update(o: UpdateOptions, namespace: string | undefined): Send<UpdateResponse> {
    return this.#call(M.update, updateRequest(o, namespace), (res) =>
      res.matchedRecords === undefined ? {} : { matchedRecords: res.matchedRecords },
    );
  }

  describeIndexStats(filter: MetadataFilter | undefined): Send<IndexStats> {
    return this.#call(M.describeIndexStats, { filter: toPbFilter(filter) }, fromPbStats);
  }

  listPaginated(o: ListOptions, namespace: string | undefined): Send<ListResponse> {
    return this.#call(M.list, listRequest(o, namespace), fromPbList);
  }

  createNamespace(o: CreateNamespaceOptions): Send<NamespaceDescription> {
    return this.#call(M.createNamespace, { name: o.name, schema: o.schema }, fromPbNamespace);
  }

  listNamespaces(o: ListNamespacesOptions): Send<ListNamespacesResponse> {
    const init = { prefix: o.prefix, limit: o.limit, paginationToken: o.paginationToken || undefined };
    return this.#call(M.listNamespaces, init, fromPbListNamespaces);
  }

  describeNamespace(name: string): Send<NamespaceDescription> {
    return this.#call(M.describeNamespace, { namespace: name }, fromPbNamespace);
  }

  deleteNamespace(name: string): Send<void> {
    return this.#call(M.deleteNamespace, { namespace: name }, () => undefined);
  }

  startImport(o: StartImportOptions): Send<StartImportResponse> {
    return this.restWire().startImport(o);
  }

  listImports(limit: number | undefined, paginationToken: string | undefined): Send<ListImportsResponse> {
    return this.restWire().listImports(limit, paginationToken);
  }

  describeImport(id: string): Send<ImportModel> {
    return this.restWire().describeImport(id);
  }

  cancelImport(id: string): Send<object> {
    return this.restWire().cancelImport(id);
  }

  upsertRecords(records: readonly IntegratedRecord[], namespace: string): Send<void> {
    return this.restWire().upsertRecords(records, namespace);
  }

  searchRecords(o: SearchRecordsOptions, namespace: string): Send<SearchRecordsResponse> {
    return this.restWire().searchRecords(o, namespace);
  }

  /** The REST side of the same host (imports and records), made on first use. */
  private restWire(): RestWire {
    if (!this.#rest) {
      const transport = this.#options.ctx.rest(this.#options.transport.host);
      const policy: RetryPolicy = { ...this.policy, classify: (error) => transport.classify(error) };
      this.#rest = new RestWire(transport, policy);
    }
    return this.#rest;
  }

  /** The channel of this host (looked up per request: the pool throws once it is closed). */
  #transport(): GrpcTransport {
    const { ctx, channelKey, transport } = this.#options;
    return ctx.channels.get(channelKey, () => new GrpcTransport(transport));
  }

  /** A call whose request is built now and encoded once, its answer decoded by `decode`. */
  #call<I extends DescMessage, O extends DescMessage, T>(
    method: GrpcMethod<I, O>,
    init: MessageInitShape<I>,
    decode: (res: MessageShape<O>) => T,
  ): Send<T> {
    const send = this.#bytes(method, toBinary(method.input, create(method.input, init)));
    return async (a) => decode(await send(a));
  }

  /** One attempt of an encoded request on this host's channel. */
  #bytes<I extends DescMessage, O extends DescMessage>(
    method: GrpcMethod<I, O>,
    bytes: Uint8Array,
  ): Send<MessageShape<O>> {
    return (a) => this.#transport().unary(method, bytes, a);
  }
}
