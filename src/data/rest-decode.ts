/**
 * Pinecone's JSON answers read into the SDK's result shapes, for the REST wire. Lenient on
 * absence, strict on contradiction: a field the answer leaves out (or sends as `null`)
 * takes its default (`matches: []`, `namespace: ''`), but a field present with the wrong
 * type (`"matches": ""`, a match without a numeric score, a body that is `null`, a number
 * or an array) makes the answer unusable and throws an {@link AnswerShapeError}, which the
 * wire reports as a `ConnectionError` `BAD_BODY`, retried like a truncated body. So a
 * result always has its documented shape, and a proxy's or a broken server's answer
 * never reaches the caller as data (found by the response fuzzer, issue 12 §5).
 *
 * Unknown fields are kept as they came (forward compatibility); known ones are checked.
 */
import type {
  FetchByMetadataResponse,
  FetchResponse,
  ImportModel,
  IndexStats,
  ListImportsResponse,
  ListNamespacesResponse,
  ListResponse,
  NamespaceDescription,
  QueryResponse,
  ScoredVector,
  SearchHit,
  SearchRecordsResponse,
  SparseValues,
  Usage,
  Vector,
} from './types.js';

/** A 2xx answer that is JSON but not the answer's shape: `path` names the field. */
export class AnswerShapeError extends Error {
  override name = 'AnswerShapeError';
  constructor(
    readonly path: string,
    expected: string,
  ) {
    super(`${path} is not ${expected}`);
  }
}

type Json = Record<string, unknown>;

const absent = (v: unknown): v is undefined | null => v === undefined || v === null;

function object(v: unknown, path: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AnswerShapeError(path, 'an object');
  return v as Json;
}

function string(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new AnswerShapeError(path, 'a string');
  return v;
}

function number(v: unknown, path: string): number {
  if (typeof v !== 'number') throw new AnswerShapeError(path, 'a number');
  return v;
}

/** A count: a number, or a decimal string (64-bit integers may come as strings). */
function count(v: unknown, path: string): number {
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return number(v, path);
}

/** A field's value read by `read`, or `fallback` when the answer leaves it out. */
function opt<T, F>(v: unknown, path: string, read: (v: unknown, path: string) => T, fallback: F): T | F {
  return absent(v) ? fallback : read(v, path);
}

function list<T>(v: unknown, path: string, read: (v: unknown, path: string) => T): T[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) throw new AnswerShapeError(path, 'an array');
  return v.map((item, i) => read(item, `${path}[${i}]`));
}

function numbers(v: unknown, path: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) {
    throw new AnswerShapeError(path, 'an array of numbers');
  }
  return v as number[];
}

function sparse(v: unknown, path: string): SparseValues {
  const s = object(v, path);
  return {
    ...s,
    indices: numbers(s.indices, `${path}.indices`),
    values: numbers(s.values, `${path}.values`),
  };
}

/** Optional fields of a record or match: set only when the answer has them. */
function recordFields(r: Json, path: string): Pick<Vector, 'sparseValues' | 'metadata'> {
  const out: Pick<Vector, 'sparseValues' | 'metadata'> = {};
  if (!absent(r.sparseValues)) out.sparseValues = sparse(r.sparseValues, `${path}.sparseValues`);
  if (!absent(r.metadata)) out.metadata = object(r.metadata, `${path}.metadata`) as Vector['metadata'];
  return out;
}

function usage(v: unknown, path: string): Usage {
  const u = object(v, path);
  return absent(u.readUnits) ? { ...u } : { ...u, readUnits: number(u.readUnits, `${path}.readUnits`) };
}

/** `pagination.next`, when there is a next page. */
function next(res: Json): { next: string } | undefined {
  if (absent(res.pagination)) return undefined;
  const token = opt(object(res.pagination, 'pagination').next, 'pagination.next', string, '');
  return token ? { next: token } : undefined;
}

/** The body of any answer: an object. */
export function answer(res: unknown): Json {
  return object(res, 'the answer');
}

/** `upsertedCount`, when the answer says it. */
export function readUpsertedCount(res: unknown): number | undefined {
  return opt(answer(res).upsertedCount, 'upsertedCount', number, undefined);
}

/** A `query` answer. */
export function readQuery(res: unknown): QueryResponse {
  const r = answer(res);
  const out: QueryResponse = {
    ...r,
    matches: list(r.matches, 'matches', (m, path): ScoredVector => {
      const match = object(m, path);
      const scored: ScoredVector = {
        ...match,
        id: string(match.id, `${path}.id`),
        score: number(match.score, `${path}.score`),
        ...recordFields(match, path),
      };
      if (!absent(match.values)) scored.values = numbers(match.values, `${path}.values`);
      return scored;
    }),
    namespace: opt(r.namespace, 'namespace', string, ''),
  };
  if (!absent(r.usage)) out.usage = usage(r.usage, 'usage');
  else delete out.usage;
  return out;
}

/** A `fetch` answer: `vectors`, also as the official `records`. */
export function readFetch(res: unknown): FetchResponse {
  const r = answer(res);
  const records: Record<string, Vector> = {};
  if (!absent(r.vectors)) {
    for (const [key, value] of Object.entries(object(r.vectors, 'vectors'))) {
      const path = `vectors[${JSON.stringify(key)}]`;
      const v = object(value, path);
      records[key] = {
        ...v,
        id: opt(v.id, `${path}.id`, string, key),
        values: opt(v.values, `${path}.values`, numbers, []),
        ...recordFields(v, path),
      };
    }
  }
  const out: FetchResponse = {
    records,
    vectors: records,
    namespace: opt(r.namespace, 'namespace', string, ''),
  };
  if (!absent(r.usage)) out.usage = usage(r.usage, 'usage');
  return out;
}

/** A `fetchByMetadata` answer: a `fetch` answer and the next page's token. */
export function readFetchByMetadata(res: unknown): FetchByMetadataResponse {
  const out: FetchByMetadataResponse = readFetch(res);
  const page = next(answer(res));
  if (page) out.pagination = page;
  return out;
}

/** An `update` answer. */
export function readUpdate(res: unknown): { matchedRecords?: number } {
  const matched = opt(answer(res).matchedRecords, 'matchedRecords', number, undefined);
  return matched === undefined ? {} : { matchedRecords: matched };
}

/** A `describeIndexStats` answer. */
export function readIndexStats(res: unknown): IndexStats {
  const r = answer(res);
  const namespaces: IndexStats['namespaces'] = {};
  if (!absent(r.namespaces)) {
    for (const [name, value] of Object.entries(object(r.namespaces, 'namespaces'))) {
      const path = `namespaces[${JSON.stringify(name)}]`;
      const summary = object(value, path);
      namespaces[name] = {
        ...summary,
        vectorCount: opt(summary.vectorCount, `${path}.vectorCount`, count, 0),
      };
    }
  }
  const out: IndexStats = {
    ...r,
    namespaces,
    indexFullness: opt(r.indexFullness, 'indexFullness', number, 0),
    totalVectorCount: opt(r.totalVectorCount, 'totalVectorCount', count, 0),
  };
  for (const key of ['dimension'] as const) {
    if (absent(r[key])) delete out[key];
    else out[key] = number(r[key], key);
  }
  for (const key of ['metric', 'vectorType'] as const) {
    if (absent(r[key])) delete out[key];
    else out[key] = string(r[key], key);
  }
  return out;
}

/** A `listPaginated` answer. */
export function readList(res: unknown): ListResponse {
  const r = answer(res);
  const out: ListResponse = {
    ...r,
    vectors: list(r.vectors, 'vectors', (v, path) => {
      const item = object(v, path);
      return { ...item, id: string(item.id, `${path}.id`) };
    }),
    namespace: opt(r.namespace, 'namespace', string, ''),
  };
  const page = next(r);
  if (page) out.pagination = page;
  else delete out.pagination;
  if (!absent(r.usage)) out.usage = usage(r.usage, 'usage');
  else delete out.usage;
  return out;
}

/** A namespace description: the REST wire is snake_case, `record_count` a string or a number. */
export function readNamespace(res: unknown, path = 'the answer'): NamespaceDescription {
  const r = object(res, path);
  const recordCount = r.record_count ?? r.recordCount;
  const out: NamespaceDescription = {
    name: opt(r.name, `${path}.name`, string, ''),
    recordCount: absent(recordCount) ? '0' : String(count(recordCount, `${path}.record_count`)),
  };
  if (!absent(r.schema))
    out.schema = object(r.schema, `${path}.schema`) as NamespaceDescription['schema'] & object;
  const indexed = r.indexed_fields ?? r.indexedFields;
  if (!absent(indexed)) {
    const fields = object(indexed, `${path}.indexed_fields`).fields;
    out.indexedFields = { fields: list(fields, `${path}.indexed_fields.fields`, string) };
  }
  return out;
}

/** A `listNamespaces` answer. */
export function readNamespaces(res: unknown): ListNamespacesResponse {
  const r = answer(res);
  const out: ListNamespacesResponse = { namespaces: list(r.namespaces, 'namespaces', readNamespace) };
  const page = next(r);
  if (page) out.pagination = page;
  const total = r.total_count ?? r.totalCount;
  if (!absent(total)) out.totalCount = count(total, 'total_count');
  return out;
}

function date(v: unknown, path: string): Date {
  const d = new Date(string(v, path));
  if (Number.isNaN(d.getTime())) throw new AnswerShapeError(path, 'a date');
  return d;
}

/** An import: times become `Date`s, as the official client gives them. */
export function readImport(res: unknown, path = 'the answer'): ImportModel {
  const r = object(res, path);
  const out: ImportModel = {
    id: opt(r.id, `${path}.id`, string, ''),
    uri: opt(r.uri, `${path}.uri`, string, ''),
    status: opt(r.status, `${path}.status`, string, ''),
    createdAt: opt(r.createdAt ?? r.created_at, `${path}.createdAt`, date, new Date(0)),
    percentComplete: opt(r.percentComplete ?? r.percent_complete, `${path}.percentComplete`, number, 0),
    recordsImported: opt(r.recordsImported ?? r.records_imported, `${path}.recordsImported`, count, 0),
  };
  const finished = r.finishedAt ?? r.finished_at;
  if (!absent(finished)) out.finishedAt = date(finished, `${path}.finishedAt`);
  if (!absent(r.error)) out.error = string(r.error, `${path}.error`);
  return out;
}

/** A `listImports` answer. */
export function readImports(res: unknown): ListImportsResponse {
  const r = answer(res);
  const out: ListImportsResponse = { data: list(r.data, 'data', readImport) };
  const page = next(r);
  if (page) out.pagination = page;
  return out;
}

/** A `startImport` answer. */
export function readStartImport(res: unknown): { id: string } {
  return { id: opt(answer(res).id, 'id', string, '') };
}

/** A `searchRecords` answer: the wire's snake_case usage in the official camelCase. */
export function readSearch(res: unknown): SearchRecordsResponse {
  const r = answer(res);
  const result = absent(r.result) ? {} : object(r.result, 'result');
  const u = absent(r.usage) ? {} : object(r.usage, 'usage');
  const out: SearchRecordsResponse = {
    result: {
      hits: list(result.hits, 'result.hits', (h, path): SearchHit => {
        const hit = object(h, path);
        return {
          ...hit,
          _id: string(hit._id, `${path}._id`),
          _score: number(hit._score, `${path}._score`),
          fields: opt(hit.fields, `${path}.fields`, object, {}),
        };
      }),
    },
    usage: { readUnits: opt(u.read_units ?? u.readUnits, 'usage.read_units', number, 0) },
  };
  const embed = u.embed_total_tokens ?? u.embedTotalTokens;
  if (!absent(embed)) out.usage.embedTotalTokens = number(embed, 'usage.embed_total_tokens');
  const rerank = u.rerank_units ?? u.rerankUnits;
  if (!absent(rerank)) out.usage.rerankUnits = number(rerank, 'usage.rerank_units');
  return out;
}
