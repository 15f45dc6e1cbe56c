/**
 * The control plane's IndexModel by API version, read capacity (create, configure,
 * report), and what the emulator refuses instead of substituting: pod and BYOC indexes,
 * collections, pod scaling, integrated embedding. Plain HTTP over loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { call } from './http-helpers.js';

let server: LocalServer;
let ctl: string;

const version = (v: string) => ({ 'X-Pinecone-Api-Version': v });
const ON_DEMAND = { mode: 'OnDemand', status: { state: 'Ready' } };
const DEDICATED = {
  mode: 'Dedicated',
  dedicated: { node_type: 'b1', scaling: 'Manual', manual: { replicas: 2, shards: 1 } },
};

beforeAll(async () => {
  server = await startLocalServer({ indexes: [{ name: 'seed', dimension: 4 }] });
  ctl = server.controllerHost;
});
afterAll(async () => {
  await server.close();
});

describe('the IndexModel of each API version', () => {
  it('2025-04 has no read capacity; 2025-10, 2026-04 and no header report it in spec.serverless', async () => {
    const old = await call(ctl, 'GET', '/indexes/seed', undefined, version('2025-04'));
    expect(old.body.spec).toEqual({ serverless: { cloud: 'aws', region: 'us-east-1' } });
    for (const v of ['2025-10', '2026-04', '']) {
      const r = await call(ctl, 'GET', '/indexes/seed', undefined, version(v));
      expect(r.body).toMatchObject({ dimension: 4, metric: 'cosine', vector_type: 'dense' });
      expect(r.body.spec).toEqual({
        serverless: { cloud: 'aws', region: 'us-east-1', read_capacity: ON_DEMAND },
      });
      expect(r.body.deployment).toBeUndefined();
    }
  });

  it('2026-07 reports it at the top level, beside deployment and schema', async () => {
    const r = await call(ctl, 'GET', '/indexes/seed', undefined, version('2026-07'));
    expect(r.body).toMatchObject({ deployment: { deployment_type: 'managed' }, read_capacity: ON_DEMAND });
    expect(r.body.spec).toBeUndefined();
  });
});

describe('read capacity', () => {
  it('a classic create with Dedicated capacity is echoed back with its status, in every shape', async () => {
    const r = await call(
      ctl,
      'POST',
      '/indexes',
      {
        name: 'dedicated',
        dimension: 4,
        spec: { serverless: { cloud: 'aws', region: 'us-east-1', read_capacity: DEDICATED } },
      },
      version('2026-04'),
    );
    expect(r.status).toBe(201);
    const reported = { ...DEDICATED, status: { state: 'Ready', current_replicas: 2, current_shards: 1 } };
    expect(r.body.spec.serverless.read_capacity).toEqual(reported);
    const modern = await call(ctl, 'GET', '/indexes/dedicated', undefined, version('2026-07'));
    expect(modern.body.read_capacity).toEqual(reported);
  });

  it('a 2026-07 create takes read_capacity at the top level', async () => {
    const r = await call(
      ctl,
      'POST',
      '/indexes',
      {
        name: 'dedicated-modern',
        schema: { fields: { _values: { type: 'dense_vector', dimension: 4, metric: 'cosine' } } },
        read_capacity: { ...DEDICATED, dedicated: { ...DEDICATED.dedicated, node_type: 't1' } },
      },
      version('2026-07'),
    );
    expect(r.status).toBe(201);
    expect(r.body.read_capacity).toMatchObject({ mode: 'Dedicated', dedicated: { node_type: 't1' } });
  });

  it('configure changes it: a classic spec, a 2026-07 partial patch, back to OnDemand', async () => {
    const classic = await call(
      ctl,
      'PATCH',
      '/indexes/dedicated',
      {
        spec: {
          serverless: {
            read_capacity: { ...DEDICATED, dedicated: { ...DEDICATED.dedicated, node_type: 't1' } },
          },
        },
      },
      version('2025-10'),
    );
    expect(classic.status).toBe(200);
    expect(classic.body.spec.serverless.read_capacity.dedicated.node_type).toBe('t1');
    // A 2026-07 patch names only what changes; the rest is kept.
    const patched = await call(
      ctl,
      'PATCH',
      '/indexes/dedicated',
      { read_capacity: { mode: 'Dedicated', dedicated: { manual: { replicas: 4 } } } },
      version('2026-07'),
    );
    expect(patched.body.read_capacity).toEqual({
      mode: 'Dedicated',
      dedicated: { node_type: 't1', scaling: 'Manual', manual: { replicas: 4, shards: 1 } },
      status: { state: 'Ready', current_replicas: 4, current_shards: 1 },
    });
    const back = await call(
      ctl,
      'PATCH',
      '/indexes/dedicated',
      { read_capacity: { mode: 'OnDemand' } },
      version('2026-07'),
    );
    expect(back.body.read_capacity).toEqual(ON_DEMAND);
  });

  it('an invalid capacity is a 400 naming the field, and a configure changes nothing then', async () => {
    const cases: [unknown, RegExp][] = [
      [{ mode: 'Fast' }, /read_capacity\.mode must be OnDemand or Dedicated/],
      [{ mode: 'Dedicated' }, /read_capacity\.dedicated\.node_type must be b1 or t1/],
      [
        { ...DEDICATED, dedicated: { ...DEDICATED.dedicated, node_type: 'x9' } },
        /node_type must be b1 or t1/,
      ],
      [{ ...DEDICATED, dedicated: { ...DEDICATED.dedicated, scaling: 'Auto' } }, /scaling must be Manual/],
      [
        { ...DEDICATED, dedicated: { ...DEDICATED.dedicated, manual: { replicas: 1, shards: 0 } } },
        /shards must be an integer of at least 1/,
      ],
      ['big', /read_capacity must be an object/],
    ];
    for (const [readCapacity, message] of cases) {
      const r = await call(
        ctl,
        'PATCH',
        '/indexes/seed',
        { tags: { changed: 'yes' }, read_capacity: readCapacity },
        version('2026-07'),
      );
      expect(r.status).toBe(400);
      expect(r.body.error).toEqual({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    }
    const seed = await call(ctl, 'GET', '/indexes/seed', undefined, version('2026-07'));
    expect(seed.body.tags).toBeNull();
    expect(seed.body.read_capacity).toEqual(ON_DEMAND);
  });

  it('a programmatic definition takes readCapacity too, checked the same way', async () => {
    await server.createIndex({
      name: 'programmatic',
      dimension: 2,
      readCapacity: {
        mode: 'Dedicated',
        dedicated: { nodeType: 'b1', scaling: 'Manual', manual: { replicas: 1, shards: 2 } },
      },
    });
    const r = await call(ctl, 'GET', '/indexes/programmatic', undefined, version('2026-07'));
    expect(r.body.read_capacity.status).toEqual({ state: 'Ready', current_replicas: 1, current_shards: 2 });
    await expect(
      server.createIndex({
        name: 'programmatic-bad',
        dimension: 2,
        readCapacity: {
          mode: 'Dedicated',
          dedicated: { nodeType: 'z', scaling: 'Manual', manual: { replicas: 1, shards: 1 } },
        },
      }),
    ).rejects.toThrow(/node_type must be b1 or t1/);
  });
});

describe('what the emulator does not model is refused, not substituted', () => {
  it('a pod spec, a BYOC spec or deployment: 400 naming it; nothing is created', async () => {
    const cases: [string, object, RegExp][] = [
      [
        '2025-10',
        { spec: { pod: { environment: 'us-east-1-aws', pod_type: 'p1.x1', pods: 1 } } },
        /pod-based index \(spec\.pod\)/,
      ],
      ['2025-10', { spec: { byoc: { environment: 'aws-us-east-1-b921' } } }, /BYOC index \(spec\.byoc\)/],
      [
        '2026-07',
        {
          deployment: { deployment_type: 'byoc', environment: 'aws-us-east-1-b921' },
          schema: { fields: { _values: { type: 'dense_vector', dimension: 4 } } },
        },
        /BYOC index \(deployment_type byoc\)/,
      ],
    ];
    for (const [v, body, message] of cases) {
      const r = await call(ctl, 'POST', '/indexes', { name: 'refused', dimension: 4, ...body }, version(v));
      expect(r.status).toBe(400);
      expect(r.body).toEqual({
        status: 400,
        error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) },
      });
      expect(r.body.error.message).toMatch(
        /is not supported by the emulator; the emulator serves serverless indexes only/,
      );
    }
    expect(server.indexNames()).not.toContain('refused');
  });

  it('a source collection that does not exist (the emulator has none): 404 Resource <name> not found', async () => {
    const r = await call(
      ctl,
      'POST',
      '/indexes',
      {
        name: 'from-collection',
        dimension: 4,
        spec: { serverless: { cloud: 'aws', region: 'us-east-1', source_collection: 'movies' } },
      },
      version('2025-10'),
    );
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      status: 404,
      error: { code: 'NOT_FOUND', message: 'Resource movies not found' },
    });
    expect(server.indexNames()).not.toContain('from-collection');
  });

  it('configure: pod scaling and integrated embedding are refused, the index unchanged', async () => {
    const cases: [object, RegExp][] = [
      [{ spec: { pod: { replicas: 2 } } }, /pod-based index \(spec\.pod\)/],
      [{ deployment: { replicas: 2, pod_type: 'p1.x2' } }, /Pod scaling \(deployment\)/],
      [{ schema: { fields: { body: { type: 'semantic_text' } } } }, /Integrated embedding \(schema\)/],
      [{ embed: { field_map: { text: 'body' } } }, /Integrated embedding \(embed\)/],
    ];
    for (const [body, message] of cases) {
      const r = await call(
        ctl,
        'PATCH',
        '/indexes/seed',
        { deletion_protection: 'enabled', ...body },
        version('2026-04'),
      );
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(message);
    }
    const seed = await call(ctl, 'GET', '/indexes/seed', undefined, version('2026-04'));
    expect(seed.body.deletion_protection).toBe('disabled');
  });

  it('a metadata schema (spec.serverless.schema) is kept and reported back', async () => {
    const schema = { fields: { genre: { filterable: true }, year: {} } };
    const r = await call(
      ctl,
      'POST',
      '/indexes',
      {
        name: 'with-schema',
        dimension: 4,
        spec: { serverless: { cloud: 'aws', region: 'us-east-1', schema } },
      },
      version('2025-10'),
    );
    expect(r.status).toBe(201);
    expect(r.body.spec.serverless.schema).toEqual(schema);
    const bad = await call(
      ctl,
      'POST',
      '/indexes',
      {
        name: 'bad-schema',
        dimension: 4,
        spec: { serverless: { schema: { fields: { genre: { filterable: 'yes' } } } } },
      },
      version('2025-10'),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/spec\.serverless\.schema\.fields\.genre/);
  });
});

describe('deletion protection', () => {
  it("answers 403 FORBIDDEN with Pinecone's message, over REST and from the server API", async () => {
    await call(ctl, 'PATCH', '/indexes/programmatic', { deletion_protection: 'enabled' });
    const message =
      'Deletion protection is enabled for this index. Disable deletion protection before retrying.';
    const r = await call(ctl, 'DELETE', '/indexes/programmatic');
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ status: 403, error: { code: 'FORBIDDEN', message } });
    await expect(server.deleteIndex('programmatic')).rejects.toThrow(message);
  });
});
