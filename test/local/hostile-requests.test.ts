/**
 * The emulator as a server facing hostile or careless clients (issue 15): no request
 * target crashes it, no object key reaches `Object.prototype`, input is as strict as
 * Pinecone's, and oversized bodies are refused without being buffered. Raw sockets send
 * what no HTTP client would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { call, pollUntil, vectors } from './http-helpers.js';
import { head, rawExchange } from './raw-http.js';

let server: LocalServer;
let host: string;
let ctl: string;

beforeAll(async () => {
  server = await startLocalServer({
    indexes: [
      { name: 'dense', dimension: 4, metric: 'cosine' },
      { name: 'sparse', vectorType: 'sparse' },
    ],
  });
  host = server.indexHost('dense');
  ctl = server.controllerHost;
});
afterAll(async () => {
  await server.close();
});

/** The data plane's error body. */
const dataPlaneError = { code: expect.any(Number), message: expect.any(String), details: [] };
/** The control plane's (and /admin's) error body. */
const controlPlaneError = {
  status: expect.any(Number),
  error: { code: expect.any(String), message: expect.any(String) },
};

async function stillServes(): Promise<void> {
  const r = await call(host, 'GET', '/describe_index_stats');
  expect(r.status).toBe(200);
  expect((await call(ctl, 'GET', '/indexes')).status).toBe(200);
}

describe('request targets that are not plain paths', () => {
  it('answers `//`, `///` and `//x:99999/` with a 4xx in the plane’s shape, on every port', async () => {
    for (const target of ['//', '///', '//x:99999/', '//x:99999/query', '*', 'http://[bad/']) {
      const onIndex = await rawExchange(host, head('GET', target, host));
      expect(onIndex.status, `index ${target}`).toBeGreaterThanOrEqual(400);
      expect(onIndex.status, `index ${target}`).toBeLessThan(500);
      expect(onIndex.json, `index ${target}`).toEqual(dataPlaneError);
      const onController = await rawExchange(ctl, head('GET', target, ctl));
      expect(onController.status, `controller ${target}`).toBeGreaterThanOrEqual(400);
      expect(onController.status, `controller ${target}`).toBeLessThan(500);
      expect(onController.json, `controller ${target}`).toEqual(controlPlaneError);
    }
    await stillServes();
  });

  it('answers bad percent-encoding in a path with 400, not a crash or a 500', async () => {
    for (const name of ['%ZZ', '%', '%C0%AF', 'a%E0%A4%A']) {
      for (const method of ['GET', 'DELETE']) {
        const r = await rawExchange(host, head(method, `/namespaces/${name}`, host));
        expect(r.status, `${method} /namespaces/${name}`).toBe(400);
        expect(r.json).toEqual({ ...dataPlaneError, code: 3 });
      }
      const index = await rawExchange(ctl, head('GET', `/indexes/${name}`, ctl));
      expect(index.status, `/indexes/${name}`).toBe(400);
      expect(index.json).toMatchObject({ status: 400, error: { code: 'INVALID_ARGUMENT' } });
      const admin = await rawExchange(ctl, head('GET', `/admin/indexes/${name}/faults`, ctl));
      expect(admin.status, `/admin/indexes/${name}/faults`).toBe(400);
    }
    await stillServes();
  });

  it('answers bad percent-encoding in a query string with 400', async () => {
    const r = await rawExchange(host, head('GET', '/vectors/fetch?ids=%ZZ', host));
    expect(r.status).toBe(400);
    expect(r.json.code).toBe(3);
    const list = await rawExchange(host, head('GET', '/vectors/list?prefix=%C0%AF', host));
    expect(list.status).toBe(400);
  });

  it('answers a request line the HTTP parser refuses with a 400 in the plane’s shape', async () => {
    const r = await rawExchange(host, 'GET /describe_index_stats HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(r.status).toBe(400);
    expect(r.json).toEqual(dataPlaneError);
    const c = await rawExchange(ctl, 'GET /indexes HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(c.status).toBe(400);
    expect(c.json).toEqual(controlPlaneError);
    const noHost = await rawExchange(host, 'GET /describe_index_stats HTTP/1.1\r\n\r\n');
    expect(noHost.status).toBe(400);
    expect(noHost.json).toEqual(dataPlaneError);
    await stillServes();
  });
});

describe('keys that name Object.prototype members', () => {
  it('a filter on toString, constructor or __proto__ matches only records that have that field', async () => {
    const ns = 'proto';
    await call(host, 'POST', '/vectors/upsert', {
      namespace: ns,
      vectors: [
        ...vectors(3, 4, 'plain', (k) => ({ genre: `g${k}` })),
        { id: 'own', values: [1, 1, 1, 1], metadata: { toString: 'yes' } },
      ],
    });
    for (const field of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const text = `{"namespace":"${ns}","vector":[1,0,0,0],"topK":10,"filter":{"${field}":{"$exists":true}}}`;
      const q = await call(host, 'POST', '/query', text);
      expect(q.status).toBe(200);
      expect(q.body.matches.map((m: { id: string }) => m.id)).toEqual(field === 'toString' ? ['own'] : []);
      const del = await call(
        host,
        'POST',
        '/vectors/delete',
        `{"namespace":"${ns}","filter":{"${field}":{"$exists":true},"genre":{"$exists":true}}}`,
      );
      expect(del.status).toBe(200);
    }
    const stats = await call(host, 'POST', '/describe_index_stats', {});
    expect(stats.body.namespaces[ns]).toEqual({ vectorCount: 4 });
  });

  it('stores, fetches and counts an id or a namespace named __proto__', async () => {
    const up = await call(
      host,
      'POST',
      '/vectors/upsert',
      '{"namespace":"__proto__","vectors":[{"id":"__proto__","values":[1,2,3,4]}]}',
    );
    expect(up.status).toBe(200);
    const f = await call(host, 'GET', '/vectors/fetch?ids=__proto__&namespace=__proto__');
    expect(Object.keys(f.body.vectors)).toEqual(['__proto__']);
    const stats = await call(host, 'GET', '/describe_index_stats');
    expect(Object.keys(stats.body.namespaces)).toContain('__proto__');
    expect(server.stats('dense').vectors.namespaces).toHaveProperty(['__proto__'], 1);
  });
});

describe('strict input, as Pinecone', () => {
  it('refuses a body that is not declared as JSON (415), or is compressed', async () => {
    const body = JSON.stringify({ vectors: vectors(1, 4) });
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const r = await call(host, 'POST', '/vectors/upsert', body, { 'content-type': type });
      expect(r.status, type).toBe(415);
      expect(r.body).toEqual({ ...dataPlaneError, code: 3 });
    }
    const missing = await rawExchange(
      host,
      head('POST', '/vectors/upsert', host, { 'content-length': String(Buffer.byteLength(body)) }),
      { body },
    );
    expect(missing.status).toBe(415);
    const gzip = await call(host, 'POST', '/vectors/upsert', body, { 'content-encoding': 'gzip' });
    expect(gzip.status).toBe(415);
    const charset = await call(host, 'POST', '/vectors/upsert', body, {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(charset.status).toBe(200);
    const created = await call(ctl, 'POST', '/indexes', '{"name":"typed","dimension":2}', {
      'content-type': 'text/plain',
    });
    expect(created.status).toBe(415);
    expect(created.body).toEqual(controlPlaneError);
  });

  it('refuses topK and limit given as strings', async () => {
    const q = await call(host, 'POST', '/query', { vector: [1, 0, 0, 0], topK: '10' });
    expect(q.status).toBe(400);
    expect(q.body.message).toMatch(/topK/);
    const f = await call(host, 'POST', '/vectors/fetch_by_metadata', { filter: { a: 1 }, limit: '5' });
    expect(f.status).toBe(400);
    // The query string is text by nature: there a number in text is the number.
    expect((await call(host, 'GET', '/vectors/list?limit=5')).status).toBe(200);
  });

  it('refuses a body that is not valid UTF-8', async () => {
    const body = Buffer.concat([
      Buffer.from('{"namespace":"'),
      Buffer.from([0xff, 0x28]),
      Buffer.from('","vectors":[{"id":"u","values":[1,2,3,4]}]}'),
    ]);
    const r = await rawExchange(
      host,
      head('POST', '/vectors/upsert', host, {
        'content-type': 'application/json',
        'content-length': String(body.length),
      }),
      { body },
    );
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/UTF-8/);
    expect(server.stats('dense').vectors.namespaces).not.toHaveProperty(['\uFFFD(']);
  });

  it('refuses namespace names Pinecone refuses: longer than 512 characters, non-ASCII, NUL', async () => {
    const long = await call(host, 'POST', '/vectors/upsert', {
      namespace: 'n'.repeat(513),
      vectors: vectors(1, 4),
    });
    expect(long.status).toBe(400);
    expect(long.body.message).toMatch(/512/);
    expect(
      (await call(host, 'POST', '/vectors/upsert', { namespace: 'n'.repeat(512), vectors: vectors(1, 4) }))
        .status,
    ).toBe(200);
    for (const namespace of ['caf\u00e9', 'a\u0000b']) {
      const r = await call(host, 'POST', '/query', { namespace, vector: [1, 0, 0, 0], topK: 1 });
      expect(r.status, JSON.stringify(namespace)).toBe(400);
    }
    const created = await call(host, 'POST', '/namespaces', { name: 'x'.repeat(1024 * 1024) });
    expect(created.status).toBe(400);
    const described = await call(host, 'GET', `/namespaces/${'y'.repeat(600)}`);
    expect(described.status).toBe(400);
  });

  it('refuses index tags beyond Pinecone’s limits (20 tags, keys 80 characters, values 120)', async () => {
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
    for (const tags of [many, { ['k'.repeat(81)]: 'v' }, { key: 'v'.repeat(121) }, { 'bad key': 'v' }]) {
      const r = await call(ctl, 'POST', '/indexes', { name: 'tagged', dimension: 2, tags });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('INVALID_ARGUMENT');
    }
    const ok = await call(ctl, 'POST', '/indexes', {
      name: 'tagged',
      dimension: 2,
      tags: { ['k'.repeat(80)]: 'v'.repeat(120) },
    });
    expect(ok.status).toBe(201);
    const big = await call(ctl, 'PATCH', '/indexes/tagged', { tags: many });
    expect(big.status).toBe(400);
    await call(ctl, 'DELETE', '/indexes/tagged');
  });
});

describe('float32 range', () => {
  it('refuses values, sparse values and query vectors beyond float32', async () => {
    const dense = await call(host, 'POST', '/vectors/upsert', {
      vectors: [{ id: 'big', values: [1e39, 0, 0, 0] }],
    });
    expect(dense.status).toBe(400);
    expect(dense.body.message).toMatch(/values\[0\]/);
    const sparse = await call(server.indexHost('sparse'), 'POST', '/vectors/upsert', {
      vectors: [{ id: 'big', sparseValues: { indices: [1], values: [-1e39] } }],
    });
    expect(sparse.status).toBe(400);
    const query = await call(host, 'POST', '/query', { vector: [1e200, 0, 0, 0], topK: 1 });
    expect(query.status).toBe(400);
    const update = await call(host, 'POST', '/vectors/update', { id: 'x', values: [0, 0, 0, 4e38] });
    expect(update.status).toBe(400);
    // The largest float32 itself is a value like any other.
    const max = await call(host, 'POST', '/vectors/upsert', {
      namespace: 'f32',
      vectors: [{ id: 'max', values: [3.4028234663852886e38, 0, 0, 0] }],
    });
    expect(max.status).toBe(200);
  });
});

describe('filter depth', () => {
  function nested(depth: number): unknown {
    // Depth counts objects and arrays: {"$and":[ ... {"a":1} ... ]} adds two levels per $and.
    let filter: unknown = { a: 1 };
    for (let d = 1; d < depth; d += 2) filter = { $and: [filter] };
    return filter;
  }

  it('answers 400 naming the limit, on every operation that takes a filter, however deep', async () => {
    for (const depth of [65, 3000]) {
      const filter = nested(depth);
      const requests: [string, string, unknown][] = [
        ['POST', '/query', { vector: [1, 0, 0, 0], topK: 1, filter }],
        ['POST', '/vectors/delete', { filter }],
        ['POST', '/vectors/update', { filter, setMetadata: { x: 1 } }],
        ['POST', '/describe_index_stats', { filter }],
        ['POST', '/vectors/fetch_by_metadata', { filter }],
      ];
      for (const [method, path, body] of requests) {
        const r = await call(host, method, path, body);
        expect(r.status, `${path} depth ${depth}`).toBe(400);
        expect(r.body.message, `${path} depth ${depth}`).toMatch(/\b64\b/);
      }
    }
    const atLimit = await call(host, 'POST', '/query', { vector: [1, 0, 0, 0], topK: 1, filter: nested(63) });
    expect(atLimit.status).toBe(200);
  });
});

describe('bodies past the limit', () => {
  it('refuses a declared Content-Length past the limit at once, before the body arrives', async () => {
    const r = await rawExchange(
      host,
      head('POST', '/vectors/upsert', host, {
        'content-type': 'application/json',
        'content-length': String(20 * 1024 * 1024),
      }),
      { body: '{"vectors":[' },
    );
    expect(r.status).toBe(413);
    expect(r.json.code).toBe(8);
  });

  it('lets the client read the 413 of a body sent in full (no EPIPE, no reset)', async () => {
    const body = JSON.stringify({
      vectors: [{ id: 'x', values: [1, 2, 3, 4], pad: 'x'.repeat(17 * 1024 * 1024) }],
    });
    for (let i = 0; i < 3; i++) {
      const r = await call(host, 'POST', '/vectors/upsert', body);
      expect(r.status).toBe(413);
      expect(r.body.code).toBe(8);
    }
    await stillServes();
  });

  it('does not carry out a request whose client went away during the injected latency', async () => {
    await server.setFaults('dense', { latency: { fixedMs: 300 } });
    try {
      const before = server.stats('dense');
      const body = JSON.stringify({ namespace: 'gone', vectors: vectors(1, 4, 'gone') });
      const r = await rawExchange(
        host,
        head('POST', '/vectors/upsert', host, {
          'content-type': 'application/json',
          'content-length': String(body.length),
        }),
        { body, waitMs: 50 },
      );
      expect(r.timedOut).toBe(true); // the client gives up mid-latency
      const after = await pollUntil(
        () => server.stats('dense'),
        (s) => s.requests.total > before.requests.total,
      );
      expect(after.operations.upsert?.aborted ?? 0).toBe((before.operations.upsert?.aborted ?? 0) + 1);
      expect(after.vectors.namespaces).not.toHaveProperty('gone');
    } finally {
      await server.setFaults('dense', {});
    }
  });

  it('counts an upload the client abandons as a client abort, not an injected fault', async () => {
    const before = server.stats('dense');
    const r = await rawExchange(
      host,
      head('POST', '/vectors/upsert', host, { 'content-type': 'application/json', 'content-length': '1000' }),
      { body: '{"vectors":[', waitMs: 200 },
    );
    expect(r.timedOut).toBe(true); // the socket is destroyed here, mid-upload
    const after = await pollUntil(
      () => server.stats('dense'),
      (s) => s.requests.total > before.requests.total,
    );
    expect(after.operations.upsert?.aborted ?? 0).toBe((before.operations.upsert?.aborted ?? 0) + 1);
    expect(after.requests.faulted).toBe(before.requests.faulted);
    expect(after.operations.upsert?.['500']).toBeUndefined();
  });
});
