/**
 * The control plane's index shapes, by the request's `X-Pinecone-Api-Version` (the
 * versions the official clients send: 6 → 2025-04, 7 → 2025-10, 8 → 2026-04,
 * 9 → 2026-07; the table is in docs/emulator.md):
 * - classic (before 2026-07): create `{ name, dimension, metric, spec, vector_type }`,
 *   IndexModel with top-level `dimension`, `metric`, `spec`, `vector_type`; from 2025-10
 *   (and without a header) `spec.serverless` carries `read_capacity`;
 * - 2026-07: create `{ name, deployment, schema: { fields }, read_capacity }`, IndexModel
 *   with `deployment`, `schema` (a dense index is the reserved field `_values`, a sparse
 *   one `_sparse_values`) and a top-level `read_capacity`.
 * Create and configure accept either shape whatever the version. What the emulator does
 * not model (pod and BYOC indexes, collections, integrated embedding) is refused with a
 * 400 or 404 naming it, never served as something else.
 */
import type { Metric } from '../data/types.js';
import type { EmulatedIndex, LocalIndexDefinition } from './emulator.js';
import { invalidArgument, notEmulated, notFound } from './errors.js';
import { ON_DEMAND, parseReadCapacity, type ReadCapacity, renderReadCapacity } from './read-capacity.js';
import { isObject, type JsonObject } from './validate.js';

/** The first API version with the schema/deployment control plane (official client 9). */
export const SCHEMA_API_VERSION = '2026-07';

/** The first API version whose serverless spec reports `read_capacity` (official client 7). */
export const READ_CAPACITY_API_VERSION = '2025-10';

/** Does this API version use the 2026-07 control-plane shapes? */
export function usesSchemaShape(apiVersion: string | undefined): boolean {
  return apiVersion !== undefined && apiVersion >= SCHEMA_API_VERSION;
}

/** Does a classic IndexModel of this version carry `spec.serverless.read_capacity`? (Without a header: yes, as 2025-10.) */
export function reportsReadCapacity(apiVersion: string | undefined): boolean {
  return apiVersion === undefined || apiVersion === '' || apiVersion >= READ_CAPACITY_API_VERSION;
}

const SERVERLESS_ONLY =
  'the emulator serves serverless indexes only (spec.serverless, or deployment_type managed)';

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

function metadataSchema(value: unknown, field: string): LocalIndexDefinition['metadataSchema'] {
  if (!isObject(value) || !isObject(value.fields)) throw invalidArgument(`${field}.fields must be an object`);
  const fields: Record<string, { filterable?: boolean }> = {};
  for (const [name, spec] of Object.entries(value.fields)) {
    if (!isObject(spec) || (spec.filterable !== undefined && typeof spec.filterable !== 'boolean')) {
      throw invalidArgument(`${field}.fields.${name} must be an object with a boolean filterable`);
    }
    fields[name] = spec.filterable === undefined ? {} : { filterable: spec.filterable };
  }
  return { fields };
}

/** `spec.pod` / `spec.byoc` (create and configure), which the emulator does not model. */
function refuseNonServerless(spec: JsonObject): void {
  if (spec.pod != null) throw notEmulated('A pod-based index (spec.pod)', SERVERLESS_ONLY);
  if (spec.byoc != null) throw notEmulated('A BYOC index (spec.byoc)', SERVERLESS_ONLY);
}

function parseClassic(body: JsonObject): LocalIndexDefinition {
  if (body.embed != null) throw notEmulated('Integrated embedding (embed)');
  const def: LocalIndexDefinition = { name: str(body.name, 'name') ?? '' };
  if (body.dimension !== undefined && body.dimension !== null) def.dimension = body.dimension as number;
  if (body.metric != null) def.metric = str(body.metric, 'metric') as Metric;
  if (body.vector_type != null) def.vectorType = str(body.vector_type, 'vector_type') as 'dense' | 'sparse';
  if (body.spec != null) {
    if (!isObject(body.spec)) throw invalidArgument('spec must be an object');
    refuseNonServerless(body.spec);
    const serverless = body.spec.serverless;
    if (!isObject(serverless)) throw invalidArgument('spec must contain one of serverless, pod or byoc');
    def.cloud = str(serverless.cloud, 'spec.serverless.cloud');
    def.region = str(serverless.region, 'spec.serverless.region');
    // The emulator has no collections, so every source collection is one that does not exist.
    const source = str(serverless.source_collection, 'spec.serverless.source_collection');
    if (source !== undefined) throw notFound(`Resource ${source} not found`);
    if (serverless.read_capacity != null) {
      def.readCapacity = parseReadCapacity(
        serverless.read_capacity,
        ON_DEMAND,
        'spec.serverless.read_capacity',
      );
    }
    if (serverless.schema != null)
      def.metadataSchema = metadataSchema(serverless.schema, 'spec.serverless.schema');
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
    if (d.deployment_type === 'byoc')
      throw notEmulated('A BYOC index (deployment_type byoc)', SERVERLESS_ONLY);
    if (d.deployment_type !== undefined && d.deployment_type !== 'managed') {
      throw invalidArgument('deployment.deployment_type must be managed or byoc');
    }
    def.cloud = str(d.cloud, 'deployment.cloud');
    def.region = str(d.region, 'deployment.region');
  }
  if (body.read_capacity != null) def.readCapacity = parseReadCapacity(body.read_capacity);
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

/**
 * Apply a configure-index request of either shape, all or nothing: deletion protection,
 * tags (merged; an empty value removes one) and read capacity (classic
 * `spec.serverless.read_capacity`, 2026-07 `read_capacity`) change. Pod scaling
 * (`spec.pod`, 2026-07 `deployment`) and integrated embedding (`embed`, 2026-07 `schema`)
 * are refused.
 */
export function applyConfigureIndex(index: EmulatedIndex, body: unknown): void {
  if (!isObject(body)) throw invalidArgument('The request body must be a JSON object');
  if (body.embed != null || body.schema != null) {
    throw notEmulated(`Integrated embedding (${body.embed != null ? 'embed' : 'schema'})`);
  }
  if (body.deployment != null) throw notEmulated('Pod scaling (deployment)', SERVERLESS_ONLY);
  const dp = deletionProtection(body.deletion_protection);
  const t = tags(body.tags);
  let readCapacity: ReadCapacity | undefined;
  if (body.spec != null) {
    if (!isObject(body.spec)) throw invalidArgument('spec must be an object');
    refuseNonServerless(body.spec);
    const serverless = body.spec.serverless;
    if (!isObject(serverless)) throw invalidArgument('spec must contain serverless');
    if (serverless.read_capacity != null) {
      readCapacity = parseReadCapacity(
        serverless.read_capacity,
        index.readCapacity,
        'spec.serverless.read_capacity',
      );
    }
  }
  if (body.read_capacity != null) readCapacity = parseReadCapacity(body.read_capacity, index.readCapacity);
  if (dp) index.deletionProtection = dp;
  if (readCapacity) index.readCapacity = readCapacity;
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
      read_capacity: renderReadCapacity(index.readCapacity),
      tags: index.tags,
      deletion_protection: index.deletionProtection,
    };
  }
  const serverless: JsonObject = { cloud: index.cloud, region: index.region };
  if (reportsReadCapacity(apiVersion)) serverless.read_capacity = renderReadCapacity(index.readCapacity);
  if (index.metadataSchema) serverless.schema = index.metadataSchema;
  const model: JsonObject = {
    name: index.name,
    metric: shape.metric,
    host,
    deletion_protection: index.deletionProtection,
    tags: index.tags,
    spec: { serverless },
    status: { ...STATUS },
    vector_type: shape.vectorType,
  };
  if (shape.vectorType === 'dense') model.dimension = shape.dimension;
  return model;
}
