/**
 * Integrated-inference records (`/records/namespaces/{namespace}/upsert` and `/search`),
 * transport-agnostic like `operations.ts`. Text is embedded by the emulator's stand-in
 * (`embedding.ts`: deterministic feature hashing, NOT a real model) into the field the
 * index maps; other fields are stored as metadata and come back as a hit's `fields`.
 * Reranking and lexical `match_terms` need models the emulator does not have: they are
 * answered with a clear 400.
 */
import type { RecordMetadata } from '../data/types.js';
import { hashEmbedding, words } from './embedding.js';
import { invalidArgument } from './errors.js';
import { compileFilter } from './filter.js';
import { canonicalNamespace, type IndexEmbed, type IndexStore } from './index-store.js';
import {
  isObject,
  type JsonObject,
  optionalInteger,
  parseDense,
  parseId,
  parseMetadata,
  parseUpsertVectors,
  requireObject,
} from './validate.js';
import type { OperationRequest } from './wire.js';

/** Pinecone's limit on records per `upsert_records` request. */
export const MAX_RECORDS_PER_UPSERT = 96;

function embedOf(store: IndexStore): IndexEmbed {
  const embed = store.shape.embed;
  if (!embed) {
    throw invalidArgument(
      'This index has no integrated embedding model: upsert vectors instead, or create the index with embed: { fieldMap: { text: "<field>" } }',
    );
  }
  return embed;
}

function namespaceParam(req: OperationRequest): string {
  return canonicalNamespace(req.params?.namespace);
}

/** NDJSON body: one JSON record per line. */
function parseLines(body: unknown): unknown[] {
  if (typeof body !== 'string') {
    throw invalidArgument('The body must be NDJSON (Content-Type application/x-ndjson): one record per line');
  }
  const out: unknown[] = [];
  for (const [i, line] of body.split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line));
    } catch (error) {
      throw invalidArgument(`Line ${i + 1} is not JSON: ${(error as Error).message}`);
    }
  }
  return out;
}

/** `POST /records/namespaces/{namespace}/upsert`: embed each record's mapped field and store it. */
export function upsertRecords(store: IndexStore, req: OperationRequest): JsonObject {
  const embed = embedOf(store);
  const raw = parseLines(req.body);
  if (raw.length === 0) throw invalidArgument('No records to upsert');
  if (raw.length > MAX_RECORDS_PER_UPSERT) {
    throw invalidArgument(`At most ${MAX_RECORDS_PER_UPSERT} records per request, got ${raw.length}`);
  }
  const field = embed.fieldMap.text;
  const vectors = raw.map((record, i) => {
    if (!isObject(record)) throw invalidArgument(`Record ${i} must be a JSON object`);
    const { _id, id: plainId, ...fields } = record;
    const id = parseId(_id ?? plainId, `records[${i}]._id`);
    const text = fields[field];
    if (typeof text !== 'string') {
      throw invalidArgument(`Record ${id} has no text in field "${field}", which this index embeds`);
    }
    return {
      id,
      values: Array.from(hashEmbedding(text, store.shape.dimension)),
      metadata: parseMetadata(fields, `records[${i}]`),
    };
  });
  store.namespaceForWrite(namespaceParam(req)).upsert(parseUpsertVectors(vectors, store.shape));
  return {};
}

/** A hit's fields: the stored metadata, or only the fields asked for. */
function pick(metadata: RecordMetadata | undefined, fields: string[] | undefined): RecordMetadata {
  if (!metadata) return {};
  if (!fields) return { ...metadata };
  const out: RecordMetadata = {};
  for (const f of fields) if (metadata[f] !== undefined) out[f] = metadata[f]!;
  return out;
}

/** `POST /records/namespaces/{namespace}/search`: by text (`inputs`), vector or record id. */
export function searchRecords(store: IndexStore, req: OperationRequest): JsonObject {
  const body = requireObject(req.body);
  const query = requireObject(body.query, 'query');
  if (body.rerank != null) {
    throw invalidArgument(
      'rerank is not supported by the emulator (it has no reranking model); search without it',
    );
  }
  if (query.match_terms != null) throw invalidArgument('match_terms is not supported by the emulator');
  const topK = optionalInteger(query.top_k, 'query.top_k', 1, 10_000);
  if (topK === undefined) throw invalidArgument('query.top_k is required');
  const fields = body.fields;
  if (fields !== undefined && (!Array.isArray(fields) || fields.some((f) => typeof f !== 'string'))) {
    throw invalidArgument('fields must be an array of field names');
  }
  const shape = store.shape;
  if (shape.vectorType !== 'dense')
    throw invalidArgument('The emulator searches records of dense indexes only');
  const ns = store.namespace(namespaceParam(req));
  let dense: ArrayLike<number> | undefined;
  let tokens: number | undefined;
  const given = [query.inputs != null, query.vector != null, query.id != null].filter(Boolean).length;
  if (given !== 1) throw invalidArgument('query needs exactly one of inputs, vector or id');
  if (query.inputs != null) {
    embedOf(store);
    const text = requireObject(query.inputs, 'query.inputs').text;
    if (typeof text !== 'string') throw invalidArgument('query.inputs.text must be a string');
    dense = hashEmbedding(text, shape.dimension);
    tokens = words(text).length;
  } else if (query.vector != null) {
    dense = parseDense(requireObject(query.vector, 'query.vector').values, shape, 'query.vector.values');
  } else {
    dense = ns?.get(parseId(query.id, 'query.id'))?.values;
  }
  const predicate = query.filter === undefined ? undefined : compileFilter(query.filter);
  const selected =
    ns && dense ? ns.search({ dense: Float32Array.from(dense) }, topK, shape.metric, predicate) : [];
  const hits = selected.map(({ slot, score }) => {
    const r = ns!.recordAt(slot);
    return { _id: r.id, _score: score, fields: pick(r.metadata, fields as string[] | undefined) };
  });
  const usage: JsonObject = { read_units: Math.max(1, Math.ceil((ns?.size ?? 0) / 1000)) };
  if (tokens !== undefined) usage.embed_total_tokens = tokens;
  return { result: { hits }, usage };
}
