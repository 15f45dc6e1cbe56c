/**
 * The data-plane calls the response fuzzers make, each with: how to call it so the case
 * id travels in the request (`case-N` in the namespace, a path segment or a token, where
 * the scripted servers look for it), a generator of the well-formed JSON body Pinecone
 * would answer with, and a check that a result has the documented shape (`types.ts`).
 * "A valid result" in the fuzzers means one that passes this check.
 */
import fc from 'fast-check';
import type { IndexDataPlane } from '../../src/data/data-plane.js';

/** What a call needs: the index, the case id, and the per-attempt timeout (seconds). */
export type OpCall = (index: IndexDataPlane, caseId: number, timeout: number) => Promise<unknown>;

/** One data-plane call under fuzz. */
export interface Op {
  name: string;
  call: OpCall;
  /** A well-formed REST answer (JSON), as Pinecone sends it. */
  restBody: fc.Arbitrary<unknown>;
  /** Why `result` breaks the documented shape; undefined when it keeps it. */
  check(result: unknown): string | undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const opt = (v: unknown, test: (x: unknown) => boolean) => v === undefined || test(v);
const isNumArray = (v: unknown) => Array.isArray(v) && v.every(isNum);
const isPagination = (v: unknown) => opt(v, (p) => isObj(p) && isStr(p.next));
const isUsage = (v: unknown) => opt(v, (u) => isObj(u) && opt(u.readUnits, isNum));
const isSparse = (v: unknown) => opt(v, (s) => isObj(s) && isNumArray(s.indices) && isNumArray(s.values));
const isMetadata = (v: unknown) => opt(v, isObj);

/** The first element of `items` failing `test`, as a message. */
function each(items: unknown, what: string, test: (x: unknown) => boolean): string | undefined {
  if (!Array.isArray(items)) return `${what} is not an array`;
  const bad = items.findIndex((x) => !test(x));
  return bad < 0 ? undefined : `${what}[${bad}] is malformed: ${short(items[bad])}`;
}

function short(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

const isVector = (v: unknown) =>
  isObj(v) &&
  isStr(v.id) &&
  (isNumArray(v.values) || v.values instanceof Float32Array) &&
  isSparse(v.sparseValues) &&
  isMetadata(v.metadata);
const isMatch = (m: unknown) =>
  isObj(m) &&
  isStr(m.id) &&
  isNum(m.score) &&
  opt(m.values, isNumArray) &&
  isSparse(m.sparseValues) &&
  isMetadata(m.metadata);
const isNamespace = (n: unknown) =>
  isObj(n) &&
  isStr(n.name) &&
  isStr(n.recordCount) &&
  opt(n.schema, isObj) &&
  opt(n.indexedFields, (f) => isObj(f) && Array.isArray(f.fields) && f.fields.every(isStr));
const isImport = (i: unknown) =>
  isObj(i) &&
  isStr(i.id) &&
  isStr(i.uri) &&
  isStr(i.status) &&
  i.createdAt instanceof Date &&
  opt(i.finishedAt, (d) => d instanceof Date) &&
  isNum(i.percentComplete) &&
  isNum(i.recordsImported) &&
  opt(i.error, isStr);

function checkFetch(r: unknown): string | undefined {
  if (!isObj(r)) return 'not an object';
  if (!isObj(r.vectors)) return 'vectors is not an object';
  if (r.records !== r.vectors) return 'records is not vectors';
  const bad = Object.entries(r.vectors).find(([, v]) => !isVector(v));
  if (bad) return `vectors.${bad[0]} is malformed: ${short(bad[1])}`;
  if (!isStr(r.namespace)) return 'namespace is not a string';
  if (!isUsage(r.usage)) return 'usage is malformed';
  return isPagination(r.pagination) ? undefined : 'pagination is malformed';
}

// Well-formed bodies.
const id = fc.string({ minLength: 1, maxLength: 12 });
const floats = fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 4 });
const metadata = fc.dictionary(
  fc.string({ maxLength: 6 }),
  fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()),
  { maxKeys: 3 },
);
const usage = fc.option(fc.record({ readUnits: fc.nat(100) }), { nil: undefined });
const pagination = fc.option(fc.record({ next: id }), { nil: undefined });
const vectorBody = fc.record({ id, values: floats, metadata: fc.option(metadata, { nil: undefined }) });
const vectorsById = fc
  .array(vectorBody, { maxLength: 4 })
  .map((vs) => Object.fromEntries(vs.map((v) => [v.id, v])));
const namespaceBody = fc.record({
  name: id,
  record_count: fc.oneof(fc.nat().map(String), fc.nat()),
});
const importBody = fc.record({
  id,
  uri: fc.constant('s3://bucket/path'),
  status: fc.constantFrom('Pending', 'InProgress', 'Completed', 'Failed', 'Cancelled'),
  createdAt: fc.constant('2026-01-02T03:04:05Z'),
  percentComplete: fc.integer({ min: 0, max: 100 }),
  recordsImported: fc.nat(),
});

const ns = (caseId: number) => `case-${caseId}`;

/** The calls under fuzz. */
export const OPS: readonly Op[] = [
  {
    name: 'query',
    call: (index, c, timeout) => index.query({ vector: [0.1, 0.2], topK: 3, namespace: ns(c), timeout }),
    restBody: fc.record({
      matches: fc.array(
        fc.record({ id, score: fc.double({ noNaN: true, noDefaultInfinity: true }), values: floats }),
        { maxLength: 4 },
      ),
      namespace: id,
      usage,
    }),
    check: (r) => {
      if (!isObj(r)) return 'not an object';
      return (
        each(r.matches, 'matches', isMatch) ??
        (isStr(r.namespace) ? undefined : 'namespace is not a string') ??
        (isUsage(r.usage) ? undefined : 'usage is malformed')
      );
    },
  },
  {
    name: 'fetch',
    call: (index, c, timeout) => index.fetch({ ids: ['a', 'b'], namespace: ns(c), timeout }),
    restBody: fc.record({ vectors: vectorsById, namespace: id, usage }),
    check: checkFetch,
  },
  {
    name: 'fetchByMetadata',
    call: (index, c, timeout) =>
      index.fetchByMetadata({ filter: { genre: { $eq: 'x' } }, namespace: ns(c), timeout }),
    restBody: fc.record({ vectors: vectorsById, namespace: id, usage, pagination }),
    check: checkFetch,
  },
  {
    name: 'describeIndexStats',
    call: (index, c, timeout) => index.describeIndexStats({ filter: { tag: { $eq: ns(c) } }, timeout }),
    restBody: fc.record({
      namespaces: fc.dictionary(id, fc.record({ vectorCount: fc.nat() }), { maxKeys: 3 }),
      dimension: fc.integer({ min: 1, max: 2048 }),
      indexFullness: fc.double({ min: 0, max: 1, noNaN: true }),
      totalVectorCount: fc.nat(),
    }),
    check: (r) => {
      if (!isObj(r)) return 'not an object';
      if (!isObj(r.namespaces)) return 'namespaces is not an object';
      const bad = Object.entries(r.namespaces).find(([, s]) => !(isObj(s) && isNum(s.vectorCount)));
      if (bad) return `namespaces.${bad[0]} is malformed: ${short(bad[1])}`;
      if (!isNum(r.indexFullness) || !isNum(r.totalVectorCount)) return 'counts are not numbers';
      return opt(r.dimension, isNum) ? undefined : 'dimension is not a number';
    },
  },
  {
    name: 'listPaginated',
    call: (index, c, timeout) => index.listPaginated({ prefix: 'p', namespace: ns(c), timeout }),
    restBody: fc.record({
      vectors: fc.array(fc.record({ id }), { maxLength: 4 }),
      namespace: id,
      pagination,
    }),
    check: (r) => {
      if (!isObj(r)) return 'not an object';
      return (
        each(r.vectors, 'vectors', (v) => isObj(v) && isStr(v.id)) ??
        (isStr(r.namespace) ? undefined : 'namespace is not a string') ??
        (isPagination(r.pagination) ? undefined : 'pagination is malformed')
      );
    },
  },
  {
    name: 'upsert',
    call: (index, c, timeout) =>
      index.upsert({
        vectors: [
          { id: 'a', values: [0.1, 0.2] },
          { id: 'b', values: [0.3, 0.4] },
        ],
        namespace: ns(c),
        timeout,
      }),
    restBody: fc.record({ upsertedCount: fc.constant(2) }),
    // A confirmation of the two records sent, exactly: the bulk accounting relies on it.
    check: (r) => (isObj(r) && r.upsertedCount === 2 ? undefined : `not the count sent (2): ${short(r)}`),
  },
  {
    name: 'update',
    call: (index, c, timeout) => index.update({ id: 'a', values: [0.5, 0.5], namespace: ns(c), timeout }),
    restBody: fc.oneof(fc.constant({}), fc.record({ matchedRecords: fc.nat() })),
    check: (r) => (isObj(r) && opt(r.matchedRecords, isNum) ? undefined : `malformed: ${short(r)}`),
  },
  {
    name: 'deleteMany',
    call: (index, c, timeout) => index.deleteMany({ ids: ['a'], namespace: ns(c), timeout }),
    restBody: fc.constant({}),
    check: (r) => (r === undefined ? undefined : `not void: ${short(r)}`),
  },
  {
    name: 'listNamespaces',
    call: (index, c, timeout) => index.listNamespaces({ prefix: ns(c), timeout }),
    restBody: fc.record({
      namespaces: fc.array(namespaceBody, { maxLength: 3 }),
      pagination,
      total_count: fc.nat(),
    }),
    check: (r) => {
      if (!isObj(r)) return 'not an object';
      return (
        each(r.namespaces, 'namespaces', isNamespace) ??
        (isPagination(r.pagination) ? undefined : 'pagination is malformed') ??
        (opt(r.totalCount, isNum) ? undefined : 'totalCount is not a number')
      );
    },
  },
  {
    name: 'describeNamespace',
    call: (index, c, timeout) => index.describeNamespace(ns(c), { timeout }),
    restBody: namespaceBody,
    check: (r) => (isNamespace(r) ? undefined : `malformed: ${short(r)}`),
  },
  {
    name: 'listImports',
    call: (index, c, timeout) => index.listImports({ paginationToken: ns(c), timeout }),
    restBody: fc.record({ data: fc.array(importBody, { maxLength: 3 }), pagination }),
    check: (r) => {
      if (!isObj(r)) return 'not an object';
      return (
        each(r.data, 'data', isImport) ?? (isPagination(r.pagination) ? undefined : 'pagination is malformed')
      );
    },
  },
  {
    name: 'describeImport',
    call: (index, c, timeout) => index.describeImport(ns(c), { timeout }),
    restBody: importBody,
    check: (r) => (isImport(r) ? undefined : `malformed: ${short(r)}`),
  },
  {
    name: 'searchRecords',
    call: (index, c, timeout) =>
      index.searchRecords({ namespace: ns(c), query: { topK: 2, inputs: { text: 'hi' } }, timeout }),
    restBody: fc.record({
      result: fc.record({
        hits: fc.array(
          fc.record({
            _id: id,
            _score: fc.double({ noNaN: true, noDefaultInfinity: true }),
            fields: metadata,
          }),
          { maxLength: 3 },
        ),
      }),
      usage: fc.record({ read_units: fc.nat(50) }),
    }),
    check: (r) => {
      if (!isObj(r) || !isObj(r.result)) return 'result is not an object';
      return (
        each(
          r.result.hits,
          'result.hits',
          (h) => isObj(h) && isStr(h._id) && isNum(h._score) && isObj(h.fields),
        ) ?? (isObj(r.usage) && isNum(r.usage.readUnits) ? undefined : 'usage.readUnits is not a number')
      );
    },
  },
];
