/**
 * The control plane's index shapes in both API generations:
 * - classic (2025-10 and earlier): create `{ name, dimension, metric, spec, vector_type }`,
 *   IndexModel with top-level `dimension`, `metric`, `spec`, `vector_type`;
 * - 2026-07: create `{ name, deployment, schema: { fields } }`, IndexModel with
 *   `deployment` and `schema` (a dense index is the reserved field `_values`, a sparse one
 *   `_sparse_values`).
 * Create accepts either shape whatever the version; responses follow the request's
 * `X-Pinecone-Api-Version`.
 */
import type { Metric } from '../data/types.js';
import type { EmulatedIndex, LocalIndexDefinition } from './emulator.js';
import { invalidArgument } from './errors.js';
import { isObject, type JsonObject } from './validate.js';

/** The first API version with the schema/deployment control plane. */
export const SCHEMA_API_VERSION = '2026-07';

/** Does this API version use the 2026-07 control-plane shapes? */
export function usesSchemaShape(apiVersion: string | undefined): boolean {
  return apiVersion !== undefined && apiVersion >= SCHEMA_API_VERSION;
}

const DENSE_FIELD = '_values';
const SPARSE_FIELD = '_sparse_values';

function str(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidArgument(`${field} must be a string`);
  return value;
}

function deletionProtection(value: unknown): 'enabled' | 'disabled' | undefined {
  const v = str(value, 'deletion_protection');
  if (v === undefined) return undefined;
  if (v !== 'enabled' && v !== 'disabled') {
    throw invalidArgument(`deletion_protection must be "enabled" or "disabled", got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Pinecone's limits on index tags. */
const MAX_TAGS = 20;
const MAX_TAG_KEY_LENGTH = 80;
const MAX_TAG_VALUE_LENGTH = 120;
const TAG_KEY = /^[A-Za-z0-9_-]+$/;
const TAG_VALUE = /^[\x20-\x7e]*$/;

function tooManyTags(count: number): Error {
  return invalidArgument(`An index takes at most ${MAX_TAGS} tags, got ${count}`);
}

/**
 * Tags as Pinecone takes them: at most 20; keys of 1-80 letters, digits, `_` or `-`;
 * values of at most 120 printable ASCII characters (an empty value removes the tag).
 */
function tags(value: unknown): Record<string, string> | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (!isObject(value)) throw invalidArgument('tags must be an object of string values');
  const entries = Object.entries(value);
  if (entries.length > MAX_TAGS) throw tooManyTags(entries.length);
  for (const [key, v] of entries) {
    if (key.length > MAX_TAG_KEY_LENGTH || !TAG_KEY.test(key)) {
      throw invalidArgument(
        `Invalid tag key ${JSON.stringify(key.slice(0, MAX_TAG_KEY_LENGTH + 1))}: keys must be ${MAX_TAG_KEY_LENGTH} characters or less and alphanumeric, '_', or '-'`,
      );
    }
    if (typeof v !== 'string') throw invalidArgument('tags must be an object of string values');
    if (v.length > MAX_TAG_VALUE_LENGTH || !TAG_VALUE.test(v)) {
      throw invalidArgument(
        `Invalid value of tag ${key}: values must be ${MAX_TAG_VALUE_LENGTH} characters or less and consist of printable ASCII characters or spaces`,
      );
    }
  }
  return value as Record<string, string>;
}

function parseClassic(body: JsonObject): LocalIndexDefinition {
  if (body.embed != null)
    throw invalidArgument('Integrated embedding (embed) is not supported by the emulator');
  const def: LocalIndexDefinition = { name: str(body.name, 'name') ?? '' };
  if (body.dimension !== undefined && body.dimension !== null) def.dimension = body.dimension as number;
  if (body.metric != null) def.metric = str(body.metric, 'metric') as Metric;
  if (body.vector_type != null) def.vectorType = str(body.vector_type, 'vector_type') as 'dense' | 'sparse';
  if (body.spec != null) {
    if (!isObject(body.spec)) throw invalidArgument('spec must be an object');
    const serverless = body.spec.serverless;
    if (isObject(serverless)) {
      def.cloud = str(serverless.cloud, 'spec.serverless.cloud');
      def.region = str(serverless.region, 'spec.serverless.region');
    } else if (!isObject(body.spec.pod) && !isObject(body.spec.byoc)) {
      throw invalidArgument('spec must contain one of serverless, pod or byoc');
    }
  }
  return def;
}

function parseSchemaShape(body: JsonObject): LocalIndexDefinition {
  const def: LocalIndexDefinition = { name: str(body.name, 'name') ?? '' };
  if (!isObject(body.schema) || !isObject(body.schema.fields)) {
    throw invalidArgument('schema.fields must be an object');
  }
  const fields = body.schema.fields;
  const dense = fields[DENSE_FIELD];
  const sparse = fields[SPARSE_FIELD];
  const extra: Record<string, unknown> = Object.create(null); // a field may be named `__proto__`
  for (const [name, field] of Object.entries(fields)) {
    if (name === DENSE_FIELD || name === SPARSE_FIELD) continue;
    if (!isObject(field) || typeof field.type !== 'string') {
      throw invalidArgument(`schema.fields.${name} must be an object with a type`);
    }
    if (field.type === 'dense_vector' || field.type === 'sparse_vector' || field.type === 'semantic_text') {
      throw invalidArgument(
        `schema.fields.${name}: the emulator serves the vectors API only; vector fields must be the reserved ${DENSE_FIELD} or ${SPARSE_FIELD}`,
      );
    }
    extra[name] = field;
  }
  if (isObject(dense)) {
    if (dense.type !== 'dense_vector')
      throw invalidArgument(`schema.fields.${DENSE_FIELD}.type must be dense_vector`);
    def.dimension = dense.dimension as number;
    if (dense.metric != null) def.metric = str(dense.metric, `schema.fields.${DENSE_FIELD}.metric`) as Metric;
  } else if (isObject(sparse)) {
    if (sparse.type !== 'sparse_vector') {
      throw invalidArgument(`schema.fields.${SPARSE_FIELD}.type must be sparse_vector`);
    }
    def.vectorType = 'sparse';
    def.metric = 'dotproduct';
  } else {
    throw invalidArgument(
      `schema.fields must contain ${DENSE_FIELD} (dense_vector) or ${SPARSE_FIELD} (sparse_vector)`,
    );
  }
  def.schemaFields = extra;
  if (body.deployment != null) {
    const d = body.deployment;
    if (!isObject(d)) throw invalidArgument('deployment must be an object');
    if (d.deployment_type !== undefined && d.deployment_type !== 'managed' && d.deployment_type !== 'byoc') {
      throw invalidArgument('deployment.deployment_type must be managed or byoc');
    }
    def.cloud = str(d.cloud, 'deployment.cloud');
    def.region = str(d.region, 'deployment.region');
  }
  return def;
}

/** Parse a create-index request of either shape into a definition (validated later). */
export function parseCreateIndexRequest(body: unknown): LocalIndexDefinition {
  if (!isObject(body)) throw invalidArgument('The request body must be a JSON object');
  const def = body.schema !== undefined ? parseSchemaShape(body) : parseClassic(body);
  const dp = deletionProtection(body.deletion_protection);
  if (dp) def.deletionProtection = dp;
  const t = tags(body.tags);
  if (t !== undefined) def.tags = t;
  for (const key of ['cloud', 'region'] as const) if (def[key] === undefined) delete def[key];
  return def;
}

/** Apply a configure-index request (either shape): deletion protection and tags change; the rest is accepted. */
export function applyConfigureIndex(index: EmulatedIndex, body: unknown): void {
  if (!isObject(body)) throw invalidArgument('The request body must be a JSON object');
  if (body.embed != null)
    throw invalidArgument('Integrated embedding (embed) is not supported by the emulator');
  const dp = deletionProtection(body.deletion_protection);
  const t = tags(body.tags);
  if (dp) index.deletionProtection = dp;
  if (t === null) index.tags = null;
  else if (t) {
    // Pinecone merges tags; an empty value removes the tag. No prototype: `__proto__` is a key.
    const merged: Record<string, string> = Object.assign(Object.create(null), index.tags);
    for (const [k, v] of Object.entries(t)) {
      if (v === '') delete merged[k];
      else merged[k] = v;
    }
    const count = Object.keys(merged).length;
    if (count > MAX_TAGS) throw tooManyTags(count);
    index.tags = merged;
  }
}

const STATUS = { ready: true, state: 'Ready' } as const;

/** The IndexModel of an index in the shape of the given API version. */
export function renderIndexModel(index: EmulatedIndex, apiVersion: string | undefined): JsonObject {
  const { shape } = index;
  const host = index.restHost ?? '';
  if (usesSchemaShape(apiVersion)) {
    const fields: JsonObject = Object.create(null); // schema fields may be named `__proto__`
    if (shape.vectorType === 'dense') {
      fields[DENSE_FIELD] = { type: 'dense_vector', dimension: shape.dimension, metric: shape.metric };
    }
    // 2026-07 co-reports the sparse field on classic dense indexes too.
    fields[SPARSE_FIELD] = { type: 'sparse_vector' };
    for (const [name, field] of Object.entries(index.schemaFields)) fields[name] = field;
    return {
      name: index.name,
      host,
      status: { ...STATUS },
      deployment: { deployment_type: 'managed', cloud: index.cloud, region: index.region },
      schema: { fields },
      read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } },
      tags: index.tags,
      deletion_protection: index.deletionProtection,
    };
  }
  const model: JsonObject = {
    name: index.name,
    metric: shape.metric,
    host,
    deletion_protection: index.deletionProtection,
    tags: index.tags,
    spec: { serverless: { cloud: index.cloud, region: index.region } },
    status: { ...STATUS },
    vector_type: shape.vectorType,
  };
  if (shape.vectorType === 'dense') model.dimension = shape.dimension;
  return model;
}
