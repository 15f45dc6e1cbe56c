/**
 * The REST wire adapter: each data-plane operation as Pinecone's HTTP endpoint (method,
 * path, JSON body) and its JSON answer in the SDK's shapes. Encoding happens once per
 * request; the core sends the same bytes on every attempt. Nothing here validates,
 * retries or schedules (see `core.ts`).
 */
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
  SearchHit,
  SearchRecordsResponse,
  StartImportResponse,
  UpdateResponse,
  Vector,
} from './types.js';
import type { DataWire, DeleteSelector, Send, UpsertEncoder } from './wire.js';

type Json = Record<string, unknown>;

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
        const send = this.json<{ upsertedCount?: number }>(
          'POST',
          '/vectors/upsert',
          upsertBody(records, namespace),
        );
        return {
          send: async (a) => {
            const res = await send(a);
            return typeof res.upsertedCount === 'number' ? res.upsertedCount : vectors.length;
          },
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
    return this.decoded('POST', '/query', body, (res: Partial<QueryResponse>) => ({
      ...res,
      matches: res.matches ?? [],
      namespace: res.namespace ?? '',
    }));
  }

  fetch(ids: string[], namespace: string | undefined): Send<FetchResponse> {
    const path = `/vectors/fetch${queryString({ ids, namespace })}`;
    return this.decoded('GET', path, undefined, toFetchResponse);
  }

  fetchByMetadata(o: FetchByMetadataOptions, namespace: string | undefined): Send<FetchByMetadataResponse> {
    const body = { namespace, filter: o.filter, limit: o.limit, paginationToken: o.paginationToken };
    return this.decoded('POST', '/vectors/fetch_by_metadata', body, (res: Json) => {
      const out: FetchByMetadataResponse = toFetchResponse(res);
      const next = (res.pagination as { next?: string } | undefined)?.next;
      if (next) out.pagination = { next };
      return out;
    });
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
    return this.decoded('POST', '/vectors/update', body, (res: Json) =>
      typeof res.matchedRecords === 'number' ? { matchedRecords: res.matchedRecords } : {},
    );
  }

  describeIndexStats(filter: MetadataFilter | undefined): Send<IndexStats> {
    const body = filter === undefined ? {} : { filter };
    return this.decoded('POST', '/describe_index_stats', body, (res: Partial<IndexStats>) => ({
      ...res,
      namespaces: res.namespaces ?? {},
      indexFullness: res.indexFullness ?? 0,
      totalVectorCount: res.totalVectorCount ?? 0,
    }));
  }

  listPaginated(o: ListOptions, namespace: string | undefined): Send<ListResponse> {
    const path = `/vectors/list${queryString({
      prefix: o.prefix,
      limit: o.limit,
      paginationToken: o.paginationToken,
      namespace,
    })}`;
    return this.decoded('GET', path, undefined, (res: Partial<ListResponse>) => ({
      ...res,
      vectors: res.vectors ?? [],
      namespace: res.namespace ?? '',
    }));
  }

  createNamespace(o: CreateNamespaceOptions): Send<NamespaceDescription> {
    return this.decoded('POST', '/namespaces', { name: o.name, schema: o.schema }, toNamespace);
  }

  listNamespaces(o: ListNamespacesOptions): Send<ListNamespacesResponse> {
    const path = `/namespaces${queryString({ prefix: o.prefix, limit: o.limit, paginationToken: o.paginationToken })}`;
    return this.decoded('GET', path, undefined, (res: Json) => {
      const out: ListNamespacesResponse = {
        namespaces: ((res.namespaces as Json[] | undefined) ?? []).map(toNamespace),
      };
      const next = (res.pagination as { next?: string } | undefined)?.next;
      if (next) out.pagination = { next };
      const total = res.total_count ?? res.totalCount;
      if (typeof total === 'number') out.totalCount = total;
      return out;
    });
  }

  describeNamespace(name: string): Send<NamespaceDescription> {
    return this.decoded('GET', `/namespaces/${encodeURIComponent(name)}`, undefined, toNamespace);
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
    return this.decoded('POST', '/bulk/imports', body, (res: Json) => ({ id: String(res.id ?? '') }));
  }

  listImports(limit: number | undefined, paginationToken: string | undefined): Send<ListImportsResponse> {
    const path = `/bulk/imports${queryString({ limit, paginationToken })}`;
    return this.decoded('GET', path, undefined, (res: Json) => {
      const out: ListImportsResponse = { data: ((res.data as Json[] | undefined) ?? []).map(toImport) };
      const next = (res.pagination as { next?: string } | undefined)?.next;
      if (next) out.pagination = { next };
      return out;
    });
  }

  describeImport(id: string): Send<ImportModel> {
    return this.decoded('GET', `/bulk/imports/${encodeURIComponent(id)}`, undefined, toImport);
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
    return this.decoded('POST', path, body, toSearchResponse);
  }

  /** A request whose body is already bytes, answered with JSON. */
  private json<T>(method: HttpMethod, path: string, body: RestRequest['body']): Send<T> {
    return (a) => this.transport.send<T>({ method, path, body, ...a });
  }

  /** A request with a JSON body (encoded now, once), its answer decoded by `decode`. */
  private decoded<R, T>(method: HttpMethod, path: string, body: unknown, decode: (res: R) => T): Send<T> {
    const send = this.json<R>(method, path, body === undefined ? undefined : JSON.stringify(body));
    return async (a) => decode(await send(a));
  }
}

/** A `fetch`-shaped answer: the wire's `vectors`, also as the official `records`. */
function toFetchResponse(res: Json): FetchResponse {
  const records = (res.vectors as Record<string, Vector> | undefined) ?? {};
  const out: FetchResponse = { records, vectors: records, namespace: String(res.namespace ?? '') };
  if (res.usage) out.usage = res.usage as FetchResponse['usage'] & object;
  return out;
}

/** A namespace description: the REST wire is snake_case, `record_count` a string or a number. */
export function toNamespace(res: Json): NamespaceDescription {
  const out: NamespaceDescription = {
    name: String(res.name ?? ''),
    recordCount: String(res.record_count ?? res.recordCount ?? '0'),
  };
  if (res.schema) out.schema = res.schema as NamespaceDescription['schema'] & object;
  const indexed = (res.indexed_fields ?? res.indexedFields) as { fields?: string[] } | undefined;
  if (indexed) out.indexedFields = { fields: indexed.fields ?? [] };
  return out;
}

/** An import: times become `Date`s, as the official client gives them. */
function toImport(res: Json): ImportModel {
  const out: ImportModel = {
    id: String(res.id ?? ''),
    uri: String(res.uri ?? ''),
    status: String(res.status ?? ''),
    createdAt: new Date(String(res.createdAt ?? res.created_at ?? 0)),
    percentComplete: Number(res.percentComplete ?? res.percent_complete ?? 0),
    recordsImported: Number(res.recordsImported ?? res.records_imported ?? 0),
  };
  const finished = res.finishedAt ?? res.finished_at;
  if (finished) out.finishedAt = new Date(String(finished));
  if (typeof res.error === 'string') out.error = res.error;
  return out;
}

/** A search answer: the wire's snake_case usage in the official camelCase. */
function toSearchResponse(res: Json): SearchRecordsResponse {
  const result = (res.result as { hits?: SearchHit[] } | undefined) ?? {};
  const usage = (res.usage as Json | undefined) ?? {};
  const out: SearchRecordsResponse = {
    result: { hits: result.hits ?? [] },
    usage: { readUnits: Number(usage.read_units ?? usage.readUnits ?? 0) },
  };
  const embed = usage.embed_total_tokens ?? usage.embedTotalTokens;
  if (typeof embed === 'number') out.usage.embedTotalTokens = embed;
  const rerank = usage.rerank_units ?? usage.rerankUnits;
  if (typeof rerank === 'number') out.usage.rerankUnits = rerank;
  return out;
}
