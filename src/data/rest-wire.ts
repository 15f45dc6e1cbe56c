/**
 * The REST wire adapter: each data-plane operation as Pinecone's HTTP endpoint (method,
 * path, JSON body) and its JSON answer in the SDK's shapes. Encoding happens once per
 * request; the core sends the same bytes on every attempt. Nothing here validates,
 * retries or schedules (see `core.ts`).
 */
import { ConnectionError } from '../errors.js';
import type { RetryPolicy } from '../resilience/retry.js';
import type { HttpMethod, RestRequest, RestTransport } from '../transport/rest.js';
import { queryString } from '../transport/rest.js';
import { DEFAULT_MAX_BATCH_BYTES } from './bulk.js';
import { encodedSize, jsonValues, RecordEncoder, upsertBody } from './encode.js';
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
import {
  AnswerShapeError,
  readFetch,
  readFetchByMetadata,
  readImport,
  readImports,
  readIndexStats,
  readList,
  readNamespace,
  readNamespaces,
  readQuery,
  readSearch,
  readStartImport,
  readUpdate,
  readUpsertedCount,
} from './rest-decode.js';
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
  Vector,
} from './types.js';
import type { DataWire, DeleteSelector, Send, UpsertEncoder } from './wire.js';

/** One index's data plane over REST. */
export class RestWire implements DataWire {
  readonly host: string;

  constructor(
    private readonly transport: RestTransport,
    readonly policy: RetryPolicy,
  ) {
    this.host = transport.host;
  }

  upsert(namespace: string | undefined): UpsertEncoder {
    // Each record is encoded once: its bytes size the batch, then are the body's bytes.
    // The map lets go of a record's bytes once they are in a body (an array's records
    // outlive the call; their encodings must not); the batch's release recycles them.
    const encoder = new RecordEncoder();
    const encoded = new Map<Vector, Uint8Array>();
    const take = (v: Vector) => {
      const bytes = encoded.get(v);
      encoded.delete(v);
      return bytes ?? encoder.encode(v);
    };
    return {
      maxBatchBytes: DEFAULT_MAX_BATCH_BYTES,
      sizeOf: (v) => {
        const bytes = encoder.encode(v);
        encoded.set(v, bytes);
        return encodedSize(bytes);
      },
      batch: (vectors) => {
        const records = vectors.map(take);
        const path = '/vectors/upsert';
        const send = this.json<unknown>('POST', path, upsertBody(records, namespace));
        return {
          // A count other than the batch's confirms nothing the accounting could use.
          send: this.checked('POST', path, send, (res) => {
            const count = readUpsertedCount(res) ?? vectors.length;
            if (count !== vectors.length) {
              throw new AnswerShapeError(
                'upsertedCount',
                `${vectors.length} (the records sent), got ${count}`,
              );
            }
            return count;
          }),
          release: () => encoder.release(records),
        };
      },
    };
  }

  query(o: QueryOptions, namespace: string | undefined): Send<QueryResponse> {
    const body = {
      topK: o.topK,
      vector: o.vector === undefined ? undefined : jsonValues(o.vector),
      sparseVector: o.sparseVector,
      id: o.id,
      namespace,
      filter: o.filter,
      includeValues: o.includeValues,
      includeMetadata: o.includeMetadata,
    };
    return this.decoded('POST', '/query', body, readQuery);
  }

  fetch(ids: string[], namespace: string | undefined): Send<FetchResponse> {
    const path = `/vectors/fetch${queryString({ ids, namespace })}`;
    return this.decoded('GET', path, undefined, readFetch);
  }

  fetchByMetadata(o: FetchByMetadataOptions, namespace: string | undefined): Send<FetchByMetadataResponse> {
    const body = { namespace, filter: o.filter, limit: o.limit, paginationToken: o.paginationToken };
    return this.decoded('POST', '/vectors/fetch_by_metadata', body, readFetchByMetadata);
  }

  delete(selector: DeleteSelector, namespace: string | undefined): Send<void> {
    return this.decoded('POST', '/vectors/delete', { ...selector, namespace }, () => undefined);
  }

  update(o: UpdateOptions, namespace: string | undefined): Send<UpdateResponse> {
    const body = {
      id: o.id,
      values: o.values === undefined ? undefined : jsonValues(o.values),
      sparseValues: o.sparseValues,
      setMetadata: o.setMetadata ?? o.metadata,
      filter: o.filter,
      dryRun: o.dryRun,
      namespace,
    };
    return this.decoded('POST', '/vectors/update', body, readUpdate);
  }

  describeIndexStats(filter: MetadataFilter | undefined): Send<IndexStats> {
    const body = filter === undefined ? {} : { filter };
    return this.decoded('POST', '/describe_index_stats', body, readIndexStats);
  }

  listPaginated(o: ListOptions, namespace: string | undefined): Send<ListResponse> {
    const path = `/vectors/list${queryString({
      prefix: o.prefix,
      limit: o.limit,
      paginationToken: o.paginationToken,
      namespace,
    })}`;
    return this.decoded('GET', path, undefined, readList);
  }

  createNamespace(o: CreateNamespaceOptions): Send<NamespaceDescription> {
    return this.decoded('POST', '/namespaces', { name: o.name, schema: o.schema }, (res) =>
      readNamespace(res),
    );
  }

  listNamespaces(o: ListNamespacesOptions): Send<ListNamespacesResponse> {
    const path = `/namespaces${queryString({ prefix: o.prefix, limit: o.limit, paginationToken: o.paginationToken })}`;
    return this.decoded('GET', path, undefined, readNamespaces);
  }

  describeNamespace(name: string): Send<NamespaceDescription> {
    return this.decoded('GET', `/namespaces/${encodeURIComponent(name)}`, undefined, (res) =>
      readNamespace(res),
    );
  }

  deleteNamespace(name: string): Send<void> {
    return this.decoded('DELETE', `/namespaces/${encodeURIComponent(name)}`, undefined, () => undefined);
  }

  startImport(o: StartImportOptions): Send<StartImportResponse> {
    const body = {
      uri: o.uri,
      errorMode: { onError: o.errorMode?.toLowerCase() === 'abort' ? 'abort' : 'continue' },
      integrationId: o.integration,
    };
    return this.decoded('POST', '/bulk/imports', body, readStartImport);
  }

  listImports(limit: number | undefined, paginationToken: string | undefined): Send<ListImportsResponse> {
    const path = `/bulk/imports${queryString({ limit, paginationToken })}`;
    return this.decoded('GET', path, undefined, readImports);
  }

  describeImport(id: string): Send<ImportModel> {
    return this.decoded('GET', `/bulk/imports/${encodeURIComponent(id)}`, undefined, (res) =>
      readImport(res),
    );
  }

  cancelImport(id: string): Send<object> {
    return this.decoded('DELETE', `/bulk/imports/${encodeURIComponent(id)}`, undefined, () => ({}));
  }

  upsertRecords(records: readonly IntegratedRecord[], namespace: string): Send<void> {
    const body = records.map((r) => JSON.stringify(r)).join('\n');
    const path = `/records/namespaces/${encodeURIComponent(namespace)}/upsert`;
    return (a) =>
      this.transport
        .send({ method: 'POST', path, body, contentType: 'application/x-ndjson', ...a })
        .then(() => undefined);
  }

  searchRecords(o: SearchRecordsOptions, namespace: string): Send<SearchRecordsResponse> {
    const q = o.query;
    const body = {
      query: {
        top_k: q.topK,
        filter: q.filter,
        inputs: q.inputs,
        vector: q.vector && {
          values: q.vector.values,
          sparse_values: q.vector.sparseValues,
          sparse_indices: q.vector.sparseIndices,
        },
        id: q.id,
        match_terms: q.matchTerms,
      },
      fields: o.fields,
      rerank: o.rerank && {
        model: o.rerank.model,
        rank_fields: o.rerank.rankFields,
        top_n: o.rerank.topN,
        parameters: o.rerank.parameters,
        query: o.rerank.query,
      },
    };
    const path = `/records/namespaces/${encodeURIComponent(namespace)}/search`;
    return this.decoded('POST', path, body, readSearch);
  }

  /** A request whose body is already bytes, answered with JSON. */
  private json<T>(method: HttpMethod, path: string, body: RestRequest['body']): Send<T> {
    return (a) => this.transport.send<T>({ method, path, body, ...a });
  }

  /** A request with a JSON body (encoded now, once), its answer read by `decode`. */
  private decoded<T>(method: HttpMethod, path: string, body: unknown, decode: (res: unknown) => T): Send<T> {
    const send = this.json<unknown>(method, path, body === undefined ? undefined : JSON.stringify(body));
    return this.checked(method, path, send, decode);
  }

  /**
   * `send`'s answer read by `decode`. An answer of the wrong shape is a `ConnectionError`
   * `BAD_BODY`, like one that is not JSON: retried, and nothing counts as written by it.
   */
  private checked<T>(
    method: HttpMethod,
    path: string,
    send: Send<unknown>,
    decode: (res: unknown) => T,
  ): Send<T> {
    return async (a) => {
      const res = await send(a);
      try {
        return decode(res);
      } catch (error) {
        if (!(error instanceof AnswerShapeError)) throw error;
        throw new ConnectionError(
          `${method} ${path.split('?')[0]} on ${this.host} answered 2xx with a body of the wrong shape (${error.message}); nothing counts as written by this reply`,
          { host: this.host, attempts: a.attempt, code: 'BAD_BODY', cause: error },
        );
      }
    };
  }
}
