/** The control plane in both API generations, and the admin endpoints, over loopback. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { call } from './http-helpers.js';

const V2026 = { 'X-Pinecone-Api-Version': '2026-07' };
const V2025 = { 'X-Pinecone-Api-Version': '2025-10' };

let server: LocalServer;
let ctl: string;

beforeAll(async () => {
  server = await startLocalServer({ indexes: [{ name: 'boot', dimension: 3, metric: 'euclidean' }] });
  ctl = server.controllerHost;
});
afterAll(async () => {
  await server.close();
});

describe('classic control plane (2025-10 and earlier)', () => {
  it('creates an index from { name, dimension, metric, spec } and answers the classic IndexModel', async () => {
    const r = await call(
      ctl,
      'POST',
      '/indexes',
      {
        name: 'classic',
        dimension: 8,
        metric: 'dotproduct',
        spec: { serverless: { cloud: 'gcp', region: 'us-central1' } },
        deletion_protection: 'disabled',
        tags: { env: 'test' },
      },
      V2025,
    );
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      name: 'classic',
      dimension: 8,
      metric: 'dotproduct',
      host: server.indexHost('classic'),
      deletion_protection: 'disabled',
      tags: { env: 'test' },
      spec: {
        serverless: {
          cloud: 'gcp',
          region: 'us-central1',
          read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } },
        },
      },
      status: { ready: true, state: 'Ready' },
      vector_type: 'dense',
    });
    expect(r.body.host).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Without a version header the classic shape is answered too.
    const described = await call(ctl, 'GET', '/indexes/classic', undefined, { 'X-Pinecone-Api-Version': '' });
    expect(described.body.dimension).toBe(8);
  });

  it('creates a sparse index', async () => {
    const r = await call(
      ctl,
      'POST',
      '/indexes',
      { name: 'classic-sparse', vector_type: 'sparse', metric: 'dotproduct' },
      V2025,
    );
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ vector_type: 'sparse', metric: 'dotproduct' });
    expect(r.body.dimension).toBeUndefined();
  });

  it('lists, configures and deletes, honouring deletion protection', async () => {
    const list = await call(ctl, 'GET', '/indexes', undefined, V2025);
    expect(list.body.indexes.map((i: { name: string }) => i.name)).toEqual([
      'boot',
      'classic',
      'classic-sparse',
    ]);
    const conf = await call(
      ctl,
      'PATCH',
      '/indexes/classic',
      { deletion_protection: 'enabled', tags: { env: '', team: 'x' } },
      V2025,
    );
    expect(conf.status).toBe(200);
    expect(conf.body).toMatchObject({ deletion_protection: 'enabled', tags: { team: 'x' } });
    const denied = await call(ctl, 'DELETE', '/indexes/classic', undefined, V2025);
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      status: 403,
      error: {
        code: 'FORBIDDEN',
        message:
          'Deletion protection is enabled for this index. Disable deletion protection before retrying.',
      },
    });
    await call(ctl, 'PATCH', '/indexes/classic', { deletion_protection: 'disabled' }, V2025);
    const host = server.indexHost('classic');
    const deleted = await call(ctl, 'DELETE', '/indexes/classic', undefined, V2025);
    expect(deleted.status).toBe(202);
    expect(deleted.text).toBe('');
    await expect(fetch(`${host}/describe_index_stats`)).rejects.toThrow(); // its port is closed
    await call(ctl, 'DELETE', '/indexes/classic-sparse', undefined, V2025);
  });

  it('answers errors in the control-plane shape', async () => {
    const missing = await call(ctl, 'GET', '/indexes/nope', undefined, V2025);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      status: 404,
      error: { code: 'NOT_FOUND', message: 'Resource nope not found' },
    });
    const dup = await call(ctl, 'POST', '/indexes', { name: 'boot', dimension: 3, metric: 'cosine' }, V2025);
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('ALREADY_EXISTS');
    const cases: [unknown, RegExp][] = [
      [{ name: 'Bad_Name', dimension: 3 }, /lower case alphanumeric/],
      [{ name: 'ok', dimension: 0 }, /Dimension must be an integer between 1 and 20000/],
      [{ name: 'ok', dimension: 20_001 }, /20000/],
      [{ name: 'ok', dimension: 3, metric: 'hamming' }, /metric/],
      [{ name: 'ok', vector_type: 'sparse', metric: 'cosine' }, /dotproduct/],
      [{ name: 'ok', dimension: 3, embed: { model: 'x' } }, /embed/],
    ];
    for (const [body, message] of cases) {
      const r = await call(ctl, 'POST', '/indexes', body, V2025);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({
        status: 400,
        error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) },
      });
      expect(r.headers.get('x-pinecone-request-id')).toBeTruthy();
    }
  });
});

describe('2026-07 control plane (schema and deployment)', () => {
  it('creates from { deployment, schema } and answers the 2026-07 IndexModel', async () => {
    const r = await call(
      ctl,
      'POST',
      '/indexes',
      {
        name: 'modern',
        deployment: { deployment_type: 'managed', cloud: 'aws', region: 'eu-west-1' },
        schema: {
          fields: {
            _values: { type: 'dense_vector', dimension: 5, metric: 'cosine' },
            title: { type: 'string' },
          },
        },
        deletion_protection: 'disabled',
      },
      V2026,
    );
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      name: 'modern',
      host: server.indexHost('modern'),
      status: { ready: true, state: 'Ready' },
      deployment: { deployment_type: 'managed', cloud: 'aws', region: 'eu-west-1' },
      schema: {
        fields: {
          _values: { type: 'dense_vector', dimension: 5, metric: 'cosine' },
          _sparse_values: { type: 'sparse_vector' },
          title: { type: 'string' },
        },
      },
      read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } },
      tags: null,
      deletion_protection: 'disabled',
    });
    for (const key of ['dimension', 'metric', 'spec', 'vector_type']) expect(r.body[key]).toBeUndefined();
  });

  it('answers the same index in either shape, by the request version', async () => {
    const modern = await call(ctl, 'GET', '/indexes/boot', undefined, V2026);
    expect(modern.body.schema.fields._values).toEqual({
      type: 'dense_vector',
      dimension: 3,
      metric: 'euclidean',
    });
    const classic = await call(ctl, 'GET', '/indexes/modern', undefined, V2025);
    expect(classic.body).toMatchObject({ dimension: 5, metric: 'cosine', vector_type: 'dense' });
    const list = await call(ctl, 'GET', '/indexes', undefined, V2026);
    expect(list.body.indexes.every((i: Record<string, unknown>) => 'deployment' in i)).toBe(true);
  });

  it('creates a sparse index from _sparse_values and rejects a schema without a reserved vector field', async () => {
    const sparse = await call(
      ctl,
      'POST',
      '/indexes',
      { name: 'modern-sparse', schema: { fields: { _sparse_values: { type: 'sparse_vector' } } } },
      V2026,
    );
    expect(sparse.status).toBe(201);
    expect(sparse.body.schema.fields).toEqual({ _sparse_values: { type: 'sparse_vector' } });
    const stats = await call(server.indexHost('modern-sparse'), 'GET', '/describe_index_stats');
    expect(stats.body.vectorType).toBe('sparse');
    const bad = await call(
      ctl,
      'POST',
      '/indexes',
      { name: 'docs', schema: { fields: { body: { type: 'semantic_text' } } } },
      V2026,
    );
    expect(bad.status).toBe(400);
  });

  it('configures with the 2026-07 body', async () => {
    const r = await call(
      ctl,
      'PATCH',
      '/indexes/modern',
      { tags: { a: 'b' }, read_capacity: { mode: 'OnDemand' } },
      V2026,
    );
    expect(r.status).toBe(200);
    expect(r.body.tags).toEqual({ a: 'b' });
  });
});

describe('admin endpoints', () => {
  it('reads and changes faults and stats of an index', async () => {
    const health = await call(ctl, 'GET', '/admin/health');
    expect(health.body).toMatchObject({ status: 'ok', seed: server.seed });
    const set = await call(ctl, 'POST', '/admin/indexes/boot/faults', {
      rateLimit: { rps: 5 },
      errorRates: { 503: 0.1 },
    });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ rateLimit: { rps: 5 }, errorRates: { 503: 0.1 } });
    const patched = await call(ctl, 'PATCH', '/admin/indexes/boot/faults', {
      errorRates: null,
      maxInFlight: 3,
    });
    expect(patched.body).toEqual({ rateLimit: { rps: 5 }, maxInFlight: 3 });
    expect(server.getFaults('boot')).toEqual({ rateLimit: { rps: 5 }, maxInFlight: 3 });
    const invalid = await call(ctl, 'POST', '/admin/indexes/boot/faults', { resetRate: 2 });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.message).toMatch(/resetRate/);
    expect((await call(ctl, 'DELETE', '/admin/indexes/boot/faults')).body).toEqual({});

    await call(server.indexHost('boot'), 'GET', '/describe_index_stats');
    const stats = await call(ctl, 'GET', '/admin/indexes/boot/stats');
    expect(stats.body.operations.describe_index_stats).toEqual({ '200': 1 });
    expect(stats.body.timeline.length).toBeGreaterThan(0);
    const reset = await call(ctl, 'POST', '/admin/indexes/boot/stats/reset');
    expect(reset.body.requests.total).toBe(0);

    const all = await call(ctl, 'POST', '/admin/faults', { latency: { fixedMs: 1 } });
    expect(all.body).toEqual({ latency: { fixedMs: 1 } });
    expect(server.getFaults('modern')).toEqual({ latency: { fixedMs: 1 } });
    const listed = await call(ctl, 'GET', '/admin/indexes');
    expect(listed.body.indexes.find((i: { name: string }) => i.name === 'boot')).toMatchObject({
      host: server.indexHost('boot'),
      dimension: 3,
      metric: 'euclidean',
      faults: { latency: { fixedMs: 1 } },
    });
    await call(ctl, 'POST', '/admin/faults', {});
    expect((await call(ctl, 'GET', '/admin/indexes/nope/stats')).status).toBe(404);
  });

  it('exposes the same through the programmatic API', async () => {
    await server.setFaults('boot', { maxInFlight: 2 });
    expect(server.getFaults('boot')).toEqual({ maxInFlight: 2 });
    await expect(server.setFaults('nope', {})).rejects.toThrow(/Unknown index "nope"/);
    const host = await server.createIndex({ name: 'prog', dimension: 2 });
    expect(host).toBe(server.indexHost('prog'));
    expect(server.indexNames()).toContain('prog');
    await server.deleteIndex('prog');
    expect(() => server.indexHost('prog')).toThrow(/Unknown index/);
    await server.setFaults('boot', {});
  });
});
