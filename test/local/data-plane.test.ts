/** The REST data plane over loopback with plain fetch: every endpoint, shapes and errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { call, vectors } from './http-helpers.js';

let server: LocalServer;
let host: string;
let sparseHost: string;

beforeAll(async () => {
  server = await startLocalServer({
    indexes: [
      { name: 'dense', dimension: 4, metric: 'cosine' },
      { name: 'sparse', vectorType: 'sparse' },
    ],
    maxBodyBytes: 4 * 1024 * 1024,
  });
  host = server.indexHost('dense');
  sparseHost = server.indexHost('sparse');
});
afterAll(async () => {
  await server.close();
});

describe('vector operations', () => {
  it('upserts, queries (vector and id), fetches, updates and deletes', async () => {
    const up = await call(host, 'POST', '/vectors/upsert', {
      namespace: 'ops',
      vectors: [
        { id: 'a', values: [1, 0, 0, 0], metadata: { genre: 'drama', year: 2000 } },
        { id: 'b', values: [0, 1, 0, 0], metadata: { genre: 'comedy' } },
        { id: 'c', values: [1, 1, 0, 0] },
      ],
    });
    expect(up.status).toBe(200);
    expect(up.body).toEqual({ upsertedCount: 3 });
    expect(up.headers.get('x-pinecone-request-id')).toMatch(/^[0-9a-f]{16}$/);

    const q = await call(host, 'POST', '/query', {
      namespace: 'ops',
      vector: [1, 0, 0, 0],
      topK: 2,
      includeValues: true,
      includeMetadata: true,
    });
    expect(q.status).toBe(200);
    expect(q.body.namespace).toBe('ops');
    expect(q.body.matches.map((m: { id: string }) => m.id)).toEqual(['a', 'c']);
    expect(q.body.matches[0]).toEqual({
      id: 'a',
      score: 1,
      values: [1, 0, 0, 0],
      metadata: { genre: 'drama', year: 2000 },
    });
    expect(q.body.matches[1].score).toBeCloseTo(Math.SQRT1_2, 6);
    expect(q.body.usage.readUnits).toBeGreaterThan(0);

    const byId = await call(host, 'POST', '/query', { namespace: 'ops', id: 'b', topK: 1 });
    expect(byId.body.matches).toEqual([{ id: 'b', score: 1, values: [] }]);
    const filtered = await call(host, 'POST', '/query', {
      namespace: 'ops',
      vector: [0, 1, 0, 0],
      topK: 3,
      filter: { genre: { $in: ['drama'] } },
    });
    expect(filtered.body.matches.map((m: { id: string }) => m.id)).toEqual(['a']);

    const f = await call(host, 'GET', '/vectors/fetch?ids=a&ids=zzz&namespace=ops');
    expect(f.body).toEqual({
      vectors: { a: { id: 'a', values: [1, 0, 0, 0], metadata: { genre: 'drama', year: 2000 } } },
      namespace: 'ops',
      usage: { readUnits: 1 },
    });

    const u = await call(host, 'POST', '/vectors/update', {
      namespace: 'ops',
      id: 'a',
      values: [0, 0, 1, 0],
      setMetadata: { year: 2001, extra: true },
    });
    expect(u.status).toBe(200);
    const after = await call(host, 'GET', '/vectors/fetch?ids=a&namespace=ops');
    expect(after.body.vectors.a).toEqual({
      id: 'a',
      values: [0, 0, 1, 0],
      metadata: { genre: 'drama', year: 2001, extra: true },
    });

    const byFilter = await call(host, 'POST', '/vectors/update', {
      namespace: 'ops',
      filter: { genre: { $exists: true } },
      setMetadata: { tagged: 'yes' },
      dryRun: true,
    });
    expect(byFilter.body).toEqual({ matchedRecords: 2 });
    expect((await call(host, 'GET', '/vectors/fetch?ids=b&namespace=ops')).body.vectors.b.metadata).toEqual({
      genre: 'comedy',
    });
    await call(host, 'POST', '/vectors/update', {
      namespace: 'ops',
      filter: { genre: { $exists: true } },
      setMetadata: { tagged: 'yes' },
    });
    expect((await call(host, 'GET', '/vectors/fetch?ids=b&namespace=ops')).body.vectors.b.metadata).toEqual({
      genre: 'comedy',
      tagged: 'yes',
    });

    expect((await call(host, 'POST', '/vectors/delete', { namespace: 'ops', ids: ['a'] })).body).toEqual({});
    await call(host, 'POST', '/vectors/delete', { namespace: 'ops', filter: { genre: 'comedy' } });
    const left = await call(host, 'GET', '/vectors/fetch?ids=a&ids=b&ids=c&namespace=ops');
    expect(Object.keys(left.body.vectors)).toEqual(['c']);
    await call(host, 'POST', '/vectors/delete', { namespace: 'ops', deleteAll: true });
    const stats = await call(host, 'GET', '/describe_index_stats');
    expect(stats.body.namespaces.ops).toBeUndefined();
  });

  it('treats an absent namespace, "" and "__default__" as one', async () => {
    await call(host, 'POST', '/vectors/upsert', { namespace: '__default__', vectors: vectors(2, 4, 'd') });
    await call(host, 'POST', '/vectors/upsert', { namespace: '', vectors: vectors(1, 4, 'e') });
    await call(host, 'POST', '/vectors/upsert', { vectors: vectors(1, 4, 'f') });
    const f = await call(host, 'GET', '/vectors/fetch?ids=d0&ids=e0&ids=f0');
    expect(Object.keys(f.body.vectors).sort()).toEqual(['d0', 'e0', 'f0']);
    const classic = await call(host, 'POST', '/describe_index_stats', {});
    expect(classic.body.namespaces['']).toEqual({ vectorCount: 4 });
    const v2026 = await call(
      host,
      'POST',
      '/describe_index_stats',
      {},
      { 'X-Pinecone-Api-Version': '2026-07' },
    );
    expect(v2026.body.namespaces.__default__).toEqual({ vectorCount: 4 });
    expect(v2026.body).toMatchObject({
      dimension: 4,
      metric: 'cosine',
      vectorType: 'dense',
      indexFullness: 0,
    });
    const filtered = await call(host, 'POST', '/describe_index_stats', {
      filter: { missing: { $exists: true } },
    });
    expect(filtered.body.totalVectorCount).toBe(0);
    await call(host, 'POST', '/vectors/delete', { deleteAll: true, namespace: '__default__' });
  });

  it('lists ids in order with prefix and pagination', async () => {
    const vs = vectors(250, 4, 'p-').concat(vectors(5, 4, 'q-'));
    await call(host, 'POST', '/vectors/upsert', { namespace: 'list', vectors: vs });
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const qs = `namespace=list&prefix=p-&limit=100${token ? `&paginationToken=${token}` : ''}`;
      const page = await call(host, 'GET', `/vectors/list?${qs}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.vectors.map((v: { id: string }) => v.id));
      token = page.body.pagination?.next;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(
      vs
        .map((v) => v.id)
        .filter((id) => id.startsWith('p-'))
        .sort(),
    );
    const bad = await call(host, 'GET', '/vectors/list?namespace=list&paginationToken=garbage');
    expect(bad.status).toBe(400);
  });

  it('fetches by metadata with pagination', async () => {
    await call(host, 'POST', '/vectors/upsert', {
      namespace: 'fbm',
      vectors: vectors(30, 4, 'm', (k) => ({ even: k % 2 === 0 })),
    });
    const first = await call(host, 'POST', '/vectors/fetch_by_metadata', {
      namespace: 'fbm',
      filter: { even: true },
      limit: 10,
    });
    expect(Object.keys(first.body.vectors)).toHaveLength(10);
    const second = await call(host, 'POST', '/vectors/fetch_by_metadata', {
      namespace: 'fbm',
      filter: { even: true },
      limit: 10,
      paginationToken: first.body.pagination.next,
    });
    expect(Object.keys(second.body.vectors)).toHaveLength(5);
    expect(second.body.pagination).toBeUndefined();
  });

  it('stores, returns and scores sparse values on a sparse index', async () => {
    const up = await call(sparseHost, 'POST', '/vectors/upsert', {
      vectors: [
        { id: 's1', sparseValues: { indices: [10, 2], values: [0.5, 1] } },
        { id: 's2', sparseValues: { indices: [2], values: [3] }, metadata: { k: 1 } },
      ],
    });
    expect(up.status).toBe(200);
    const q = await call(sparseHost, 'POST', '/query', {
      sparseVector: { indices: [2, 10], values: [1, 2] },
      topK: 2,
      includeValues: true,
    });
    expect(q.body.matches).toEqual([
      { id: 's2', score: 3, values: [], sparseValues: { indices: [2], values: [3] } },
      { id: 's1', score: 2, values: [], sparseValues: { indices: [2, 10], values: [1, 0.5] } },
    ]);
    const stats = await call(sparseHost, 'GET', '/describe_index_stats');
    expect(stats.body.dimension).toBeUndefined();
    expect(stats.body.vectorType).toBe('sparse');
  });
});

describe('namespaces', () => {
  it('creates, lists, describes and deletes namespaces', async () => {
    const created = await call(host, 'POST', '/namespaces', { name: 'ns-a' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ name: 'ns-a', record_count: '0' });
    const dup = await call(host, 'POST', '/namespaces', { name: 'ns-a' });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: 6, details: [] });
    await call(host, 'POST', '/vectors/upsert', { namespace: 'ns-b', vectors: vectors(3, 4) });
    const listed = await call(host, 'GET', '/namespaces?prefix=ns-');
    expect(listed.body.namespaces).toEqual([
      { name: 'ns-a', record_count: '0' },
      { name: 'ns-b', record_count: '3' },
    ]);
    const paged = await call(host, 'GET', '/namespaces?prefix=ns-&limit=1');
    expect(paged.body.namespaces).toHaveLength(1);
    const next = await call(
      host,
      'GET',
      `/namespaces?prefix=ns-&limit=1&paginationToken=${paged.body.pagination.next}`,
    );
    expect(next.body.namespaces).toEqual([{ name: 'ns-b', record_count: '3' }]);
    expect((await call(host, 'GET', '/namespaces/ns-b')).body).toEqual({ name: 'ns-b', record_count: '3' });
    expect((await call(host, 'DELETE', '/namespaces/ns-b')).status).toBe(200);
    const gone = await call(host, 'GET', '/namespaces/ns-b');
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ code: 5, message: expect.stringContaining('ns-b') });
    await call(host, 'DELETE', '/namespaces/ns-a');
  });
});

describe('validation errors in Pinecone shapes', () => {
  const bad: [string, string, string, unknown, number, RegExp][] = [
    [
      'dimension mismatch',
      'POST',
      '/vectors/upsert',
      { vectors: [{ id: 'x', values: [1, 2] }] },
      400,
      /Vector dimension 2 does not match the dimension of the index 4/,
    ],
    ['too many vectors', 'POST', '/vectors/upsert', { vectors: vectors(1001, 4) }, 400, /1001 vectors/],
    ['no vectors', 'POST', '/vectors/upsert', { vectors: [] }, 400, /non-empty/],
    [
      'empty id',
      'POST',
      '/vectors/upsert',
      { vectors: [{ id: '', values: [1, 2, 3, 4] }] },
      400,
      /id must be a non-empty string/,
    ],
    [
      'id too long',
      'POST',
      '/vectors/upsert',
      { vectors: [{ id: 'x'.repeat(513), values: [1, 2, 3, 4] }] },
      400,
      /512/,
    ],
    [
      'non-finite value',
      'POST',
      '/vectors/upsert',
      '{"vectors":[{"id":"x","values":[1,2,3,1e999]}]}',
      400,
      /finite/,
    ],
    [
      'nested metadata',
      'POST',
      '/vectors/upsert',
      { vectors: [{ id: 'x', values: [1, 2, 3, 4], metadata: { a: { b: 1 } } }] },
      400,
      /metadata values/,
    ],
    [
      'metadata over 40 KB',
      'POST',
      '/vectors/upsert',
      { vectors: [{ id: 'x', values: [1, 2, 3, 4], metadata: { big: 'x'.repeat(41_000) } }] },
      400,
      /40960 bytes/,
    ],
    [
      'sparse on a cosine index',
      'POST',
      '/vectors/upsert',
      { vectors: [{ id: 'x', values: [1, 2, 3, 4], sparseValues: { indices: [1], values: [1] } }] },
      400,
      /does not support sparse values/,
    ],
    ['bad JSON', 'POST', '/vectors/upsert', '{"vectors": [', 400, /Failed to deserialize the JSON body/],
    ['topK 0', 'POST', '/query', { vector: [1, 0, 0, 0], topK: 0 }, 400, /topK/],
    ['topK 10001', 'POST', '/query', { vector: [1, 0, 0, 0], topK: 10_001 }, 400, /topK/],
    [
      'topK > 1000 with metadata',
      'POST',
      '/query',
      { vector: [1, 0, 0, 0], topK: 1001, includeMetadata: true },
      400,
      /at most 1000/,
    ],
    ['query without vector or id', 'POST', '/query', { topK: 1 }, 400, /No query provided/],
    [
      'query with id and vector',
      'POST',
      '/query',
      { topK: 1, id: 'a', vector: [1, 0, 0, 0] },
      400,
      /not both/,
    ],
    [
      'bad filter operator',
      'POST',
      '/query',
      { topK: 1, vector: [1, 0, 0, 0], filter: { a: { $like: 'x' } } },
      400,
      /\$like/,
    ],
    ['fetch without ids', 'GET', '/vectors/fetch', undefined, 400, /ids/],
    [
      'two delete selectors',
      'POST',
      '/vectors/delete',
      { ids: ['a'], deleteAll: true },
      400,
      /Exactly one of ids, deleteAll or filter/,
    ],
    [
      'update without id or filter',
      'POST',
      '/vectors/update',
      { values: [1, 2, 3, 4] },
      400,
      /Exactly one of id or filter/,
    ],
    ['list limit 0', 'GET', '/vectors/list?limit=0', undefined, 400, /limit/],
  ];
  it.each(bad)('%s', async (_name, method, path, body, status, message) => {
    const r = await call(host, method, path, body);
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ code: 3, message: expect.stringMatching(message), details: [] });
    expect(r.headers.get('x-pinecone-request-id')).toBeTruthy();
  });

  it('rejects more than 1000 ids in a fetch', async () => {
    const qs = Array.from({ length: 1001 }, (_, i) => `ids=${i}`).join('&');
    const r = await call(host, 'GET', `/vectors/fetch?${qs}`);
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/1001 ids/);
  });

  it('rejects an upsert over 2 MB as Pinecone counts it (4 bytes per value)', async () => {
    const big = await startLocalServer({ indexes: [{ name: 'big', dimension: 600, metric: 'dotproduct' }] });
    try {
      const r = await call(big.indexHost('big'), 'POST', '/vectors/upsert', { vectors: vectors(1000, 600) });
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/exceeds the maximum supported size of 2MB/);
      const ok = await call(big.indexHost('big'), 'POST', '/vectors/upsert', { vectors: vectors(800, 600) });
      expect(ok.status).toBe(200);
    } finally {
      await big.close();
    }
  });

  it('answers 413 to a body larger than the server reads at all', async () => {
    const r = await call(host, 'POST', '/vectors/upsert', {
      vectors: [{ id: 'x', values: [1, 2, 3, 4], pad: 'x'.repeat(5 * 1024 * 1024) }],
    });
    expect(r.status).toBe(413);
    expect(r.body.code).toBe(8);
  });

  it('answers 404 and 405 for unknown endpoints', async () => {
    expect((await call(host, 'GET', '/nope')).status).toBe(404);
    const wrong = await call(host, 'GET', '/vectors/upsert');
    expect(wrong.status).toBe(405);
    expect(wrong.body.code).toBe(12);
  });
});

describe('API key', () => {
  it('answers a data-plane request without the key with plain-text Unauthorized', async () => {
    const locked = await startLocalServer({ apiKey: 'secret', indexes: [{ name: 'k', dimension: 2 }] });
    try {
      const h = locked.indexHost('k');
      const missing = await call(h, 'GET', '/describe_index_stats');
      expect(missing.status).toBe(401);
      expect(missing.text).toBe('Unauthorized');
      expect(missing.headers.get('content-type')).toMatch(/text\/plain/);
      expect((await call(h, 'GET', '/describe_index_stats', undefined, { 'Api-Key': 'wrong' })).status).toBe(
        401,
      );
      expect((await call(h, 'GET', '/describe_index_stats', undefined, { 'Api-Key': 'secret' })).status).toBe(
        200,
      );
      const control = await call(locked.controllerHost, 'GET', '/indexes');
      expect(control.status).toBe(401);
      expect(control.body).toEqual({
        status: 401,
        error: { code: 'UNAUTHENTICATED', message: 'Invalid API Key' },
      });
      expect(locked.stats('k').operations.describe_index_stats).toEqual({ '200': 1, '401': 2 });
    } finally {
      await locked.close();
    }
  });
});
