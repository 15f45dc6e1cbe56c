/**
 * The REST wire of the calls added for the official client's data plane: for each call,
 * this SDK and `@pinecone-database/pinecone` 9 make the same call against one scripted
 * server, and the requests (method, path and query, content type, body) must be the same.
 * Plus the one behaviour the official client lacks: a namespace create retried after a
 * lost reply that meets its own namespace is a success.
 */
import { Pinecone as Official } from '@pinecone-database/pinecone';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import type { IndexDataPlane } from '../../src/data/data-plane.js';
import { InstantClock } from '../helpers/clocks.js';
import { type ScriptedServer, type SeenRequest, startScriptedServer } from '../helpers/scripted-server.js';

let server: ScriptedServer;
let ours: Pinecone;
let theirs: Official;

/** One answer every call's parser accepts. */
const ANY_OK = {
  vectors: {},
  namespace: 'ns',
  result: { hits: [] },
  usage: { read_units: 1 },
  data: [],
  namespaces: [],
  id: '7',
  name: 'ns',
  record_count: '0',
  createdAt: '2026-01-01T00:00:00Z',
};

function seen(r: SeenRequest) {
  const type = String(r.headers['content-type'] ?? '').split(';')[0];
  let body: unknown = r.body;
  if (type === 'application/json' && r.body) body = JSON.parse(r.body);
  if (type === 'application/x-ndjson') body = r.body.split('\n').map((line) => JSON.parse(line));
  // Query parameters compare as a set: their order means nothing to the server.
  const url = new URL(r.url, 'http://x');
  url.searchParams.sort();
  return { method: r.method, url: url.pathname + url.search, type: r.body ? type : undefined, body };
}

/** Run our call, then the official one; both must send exactly one identical request. */
async function same(
  call: (index: IndexDataPlane) => Promise<unknown>,
  official: (index: ReturnType<Official['index']>) => Promise<unknown>,
) {
  server.requests.length = 0;
  await call(ours.index({ host: server.url }));
  await official(theirs.index({ host: server.url }));
  expect(server.requests).toHaveLength(2);
  const [a, b] = server.requests.map(seen);
  expect(a).toEqual(b);
  return a!;
}

beforeAll(async () => {
  server = await startScriptedServer();
  ours = new Pinecone({ apiKey: 'k', clock: new InstantClock() });
  theirs = new Official({ apiKey: 'k', maxRetries: 0 });
});
afterAll(async () => {
  await ours.close();
  await server.close();
});
beforeEach(() => {
  server.fallback = { status: 200, body: ANY_OK };
});

describe('requests as the official client sends them', () => {
  it('fetchByMetadata, update by filter, the deletes', async () => {
    const filter = { genre: { $eq: 'drama' } };
    const fbm = await same(
      (i) => i.fetchByMetadata({ filter, limit: 5, paginationToken: 'tok', namespace: 'ns' }),
      (i) => i.fetchByMetadata({ filter, limit: 5, paginationToken: 'tok', namespace: 'ns' }),
    );
    expect(fbm).toMatchObject({ method: 'POST', url: '/vectors/fetch_by_metadata' });
    await same(
      (i) => i.update({ filter, setMetadata: { seen: true }, namespace: 'ns' }),
      (i) => i.update({ filter, metadata: { seen: true }, namespace: 'ns' }),
    );
    await same(
      (i) => i.update({ id: 'a', values: [1, 2], metadata: { x: 'y' }, namespace: 'ns' }),
      (i) => i.update({ id: 'a', values: [1, 2], metadata: { x: 'y' }, namespace: 'ns' }),
    );
    await same(
      (i) => i.deleteOne({ id: 'a', namespace: 'ns' }),
      (i) => i.deleteOne({ id: 'a', namespace: 'ns' }),
    );
    await same(
      (i) => i.deleteMany({ ids: ['a', 'b'], namespace: 'ns' }),
      (i) => i.deleteMany({ ids: ['a', 'b'], namespace: 'ns' }),
    );
    await same(
      (i) => i.deleteMany({ filter, namespace: 'ns' }),
      (i) => i.deleteMany({ filter, namespace: 'ns' }),
    );
    await same(
      (i) => i.deleteAll({ namespace: 'ns' }),
      (i) => i.deleteAll({ namespace: 'ns' }),
    );
  });

  it('namespaces', async () => {
    const schema = { fields: { genre: { filterable: true } } };
    await same(
      (i) => i.createNamespace({ name: 'ns', schema }),
      (i) => i.createNamespace({ name: 'ns', schema }),
    );
    await same(
      (i) => i.listNamespaces({ limit: 3, prefix: 'n', paginationToken: 'tok' }),
      (i) => i.listNamespaces({ limit: 3, prefix: 'n', paginationToken: 'tok' }),
    );
    const d = await same(
      (i) => i.describeNamespace('a b'),
      (i) => i.describeNamespace('a b'),
    );
    expect(d.url).toBe('/namespaces/a%20b');
    await same(
      (i) => i.deleteNamespace('ns'),
      (i) => i.deleteNamespace('ns'),
    );
  });

  it('imports', async () => {
    const start = await same(
      (i) => i.startImport({ uri: 's3://b/p/', errorMode: 'abort', integration: 'int-1' }),
      (i) => i.startImport({ uri: 's3://b/p/', errorMode: 'abort', integration: 'int-1' }),
    );
    expect(start.body).toEqual({ uri: 's3://b/p/', errorMode: { onError: 'abort' }, integrationId: 'int-1' });
    await same(
      (i) => i.startImport({ uri: 's3://b/p/' }),
      (i) => i.startImport({ uri: 's3://b/p/' }),
    );
    await same(
      (i) => i.listImports(10, 'tok'),
      (i) => i.listImports(10, 'tok'),
    );
    await same(
      (i) => i.describeImport('7'),
      (i) => i.describeImport('7'),
    );
    await same(
      (i) => i.cancelImport('7'),
      (i) => i.cancelImport('7'),
    );
  });

  it('integrated records', async () => {
    const records = [
      { _id: 'r1', chunk_text: 'apples', category: 'fruit' },
      { id: 'r2', chunk_text: 'pears', year: 2 },
    ];
    const up = await same(
      (i) => i.upsertRecords({ records, namespace: 'docs' }),
      // The official type wants each record to be flat metadata with no optional keys.
      (i) => i.upsertRecords({ records: records as never, namespace: 'docs' }),
    );
    expect(up).toMatchObject({ url: '/records/namespaces/docs/upsert', type: 'application/x-ndjson' });
    const query = { topK: 3, inputs: { text: 'fruit' }, filter: { category: { $eq: 'fruit' } } };
    const rerank = { model: 'bge-reranker-v2-m3', rankFields: ['chunk_text'], topN: 2 };
    const search = await same(
      (i) => i.searchRecords({ query, fields: ['category'], rerank, namespace: 'docs' }),
      (i) => i.searchRecords({ query, fields: ['category'], rerank, namespace: 'docs' }),
    );
    expect(search.body).toMatchObject({ query: { top_k: 3 }, rerank: { rank_fields: ['chunk_text'] } });
  });
});

describe('createNamespace after a lost reply', () => {
  it('returns the namespace its own first attempt made', async () => {
    server.requests.length = 0;
    server.push(
      { status: 503, body: { code: 14, message: 'unavailable' } },
      { status: 409, body: { code: 6, message: 'Namespace ns already exists' } },
      { status: 200, body: { name: 'ns', record_count: '0' } },
    );
    const made = await ours.index({ host: server.url }).createNamespace({ name: 'ns' });
    expect(made).toEqual({ name: 'ns', recordCount: '0' });
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /namespaces',
      'POST /namespaces',
      'GET /namespaces/ns',
    ]);
    // On a first attempt, a conflict is the caller's to see.
    server.push({ status: 409, body: { code: 6, message: 'Namespace ns already exists' } });
    await expect(ours.index({ host: server.url }).createNamespace({ name: 'ns' })).rejects.toMatchObject({
      name: 'ConflictError',
    });
  });
});
