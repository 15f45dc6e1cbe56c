/**
 * Who may drive the emulator's `/admin` endpoints (issue 15): with a key set, only a
 * caller that has it (or the admin key); never a web page, whether it posts text across
 * sites or reaches the port through a rebinding DNS name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalServer, type LocalServerOptions, startLocalServer } from '../../src/local.js';
import { call } from './http-helpers.js';
import { head, rawExchange } from './raw-http.js';

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: LocalServerOptions = {}): Promise<LocalServer> {
  server = await startLocalServer({ indexes: [{ name: 'demo', dimension: 2 }], ...options });
  return server;
}

const ADMIN_READS = [
  '/admin/health',
  '/admin/indexes',
  '/admin/faults',
  '/admin/indexes/demo/faults',
  '/admin/indexes/demo/stats',
];

describe('admin behind the key', () => {
  it('answers 401 to every admin endpoint without the API key, when one is set', async () => {
    const s = await start({ apiKey: 'secret' });
    for (const path of ADMIN_READS) {
      const r = await call(s.controllerHost, 'GET', path);
      expect(r.status, path).toBe(401);
      expect(r.body).toEqual({ status: 401, error: { code: 'UNAUTHENTICATED', message: 'Invalid API Key' } });
      expect(r.text).not.toContain('secret');
      expect((await call(s.controllerHost, 'GET', path, undefined, { 'Api-Key': 'wrong' })).status).toBe(401);
      expect((await call(s.controllerHost, 'GET', path, undefined, { 'Api-Key': 'secret' })).status).toBe(
        200,
      );
    }
    const set = await call(s.controllerHost, 'POST', '/admin/indexes/demo/faults', { resetRate: 1 });
    expect(set.status).toBe(401);
    const reset = await call(s.controllerHost, 'POST', '/admin/indexes/demo/stats/reset');
    expect(reset.status).toBe(401);
    expect(s.getFaults('demo')).toEqual({});
  });

  it('takes its own admin key when given one, and then only that', async () => {
    const s = await start({ apiKey: 'data', adminKey: 'admin' });
    expect(
      (await call(s.controllerHost, 'GET', '/admin/health', undefined, { 'Api-Key': 'data' })).status,
    ).toBe(401);
    expect(
      (await call(s.controllerHost, 'GET', '/admin/health', undefined, { 'Api-Key': 'admin' })).status,
    ).toBe(200);
    // The data and control planes keep the API key.
    expect((await call(s.controllerHost, 'GET', '/indexes', undefined, { 'Api-Key': 'admin' })).status).toBe(
      401,
    );
    expect((await call(s.controllerHost, 'GET', '/indexes', undefined, { 'Api-Key': 'data' })).status).toBe(
      200,
    );
  });

  it('locks admin alone with an admin key and no API key', async () => {
    const s = await start({ adminKey: 'admin' });
    expect((await call(s.controllerHost, 'GET', '/admin/health')).status).toBe(401);
    expect((await call(s.controllerHost, 'GET', '/indexes')).status).toBe(200);
  });
});

describe('admin input', () => {
  it('does not let a PATCH reach the fault config through __proto__', async () => {
    const s = await start();
    const r = await call(
      s.controllerHost,
      'PATCH',
      '/admin/indexes/demo/faults',
      '{"__proto__":{"resetRate":1}}',
    );
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/__proto__ is not a fault option/);
    expect(s.getFaults('demo')).toEqual({});
  });
});

describe('admin and cross-site requests', () => {
  it('refuses an admin write whose body is not declared as JSON (what a form or no-cors fetch sends)', async () => {
    const s = await start();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const r = await call(s.controllerHost, 'POST', '/admin/indexes/demo/faults', '{"resetRate":1}', {
        'content-type': type,
      });
      expect(r.status, type).toBe(415);
      expect(r.body.error.code).toBe('INVALID_ARGUMENT');
    }
    expect(s.getFaults('demo')).toEqual({});
  });

  it('refuses any request carrying a foreign Origin', async () => {
    const s = await start();
    const foreign = await call(
      s.controllerHost,
      'POST',
      '/admin/indexes/demo/faults',
      { resetRate: 1 },
      {
        origin: 'https://evil.example',
      },
    );
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('FORBIDDEN');
    const reset = await call(s.controllerHost, 'POST', '/admin/indexes/demo/stats/reset', undefined, {
      origin: 'null',
    });
    expect(reset.status).toBe(403);
    expect(s.getFaults('demo')).toEqual({});
    const local = await call(s.controllerHost, 'GET', '/admin/health', undefined, {
      origin: 'http://localhost:3000',
    });
    expect(local.status).toBe(200);
    // The index hosts refuse foreign pages too (a text/plain delete would otherwise be simple).
    const data = await call(s.indexHost('demo'), 'GET', '/describe_index_stats', undefined, {
      origin: 'https://evil.example',
    });
    expect(data.status).toBe(403);
    expect(data.body).toMatchObject({ code: 7, details: [] });
  });

  it('checks Host against the bound loopback address (DNS rebinding)', async () => {
    const s = await start();
    const ctl = s.controllerHost;
    const port = new URL(ctl).port;
    const rebound = await rawExchange(
      ctl,
      `POST /admin/indexes/demo/faults HTTP/1.1\r\nHost: evil.example:${port}\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n`,
      { body: '{"resetRate":1}' },
    );
    expect(rebound.status).toBe(403);
    expect(rebound.json).toMatchObject({ status: 403, error: { code: 'FORBIDDEN' } });
    expect(s.getFaults('demo')).toEqual({});
    for (const name of ['localhost', '127.0.0.1', 'LOCALHOST', 'app.localhost']) {
      const ok = await rawExchange(ctl, `GET /admin/health HTTP/1.1\r\nHost: ${name}:${port}\r\n\r\n`);
      expect(ok.status, name).toBe(200);
    }
    const index = s.indexHost('demo');
    const data = await rawExchange(
      index,
      head('GET', '/describe_index_stats', index, { host: 'evil.example' }),
    );
    expect(data.status).toBe(403);
  });

  it('accepts the names listed in allowedHosts', async () => {
    const s = await start({ allowedHosts: ['pinecone.test'] });
    const port = new URL(s.controllerHost).port;
    const ok = await rawExchange(
      s.controllerHost,
      `GET /admin/health HTTP/1.1\r\nHost: pinecone.test:${port}\r\n\r\n`,
    );
    expect(ok.status).toBe(200);
  });
});
