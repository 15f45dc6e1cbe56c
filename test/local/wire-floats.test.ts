/**
 * Float32 values on the wire: the emulator stores float32 and writes each value as the
 * shortest decimal that reads back as the same float32, as Pinecone does (`0.4`, not
 * `0.4000000059604645`), in every response that carries values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { call } from './http-helpers.js';

let server: LocalServer;
let host: string;
let sparseHost: string;

beforeAll(async () => {
  server = await startLocalServer({
    indexes: [
      { name: 'floats', dimension: 3, metric: 'dotproduct' },
      { name: 'floats-sparse', vectorType: 'sparse' },
    ],
  });
  host = server.indexHost('floats');
  sparseHost = server.indexHost('floats-sparse');
  await call(host, 'POST', '/vectors/upsert', {
    vectors: [
      {
        id: 'r1',
        values: [0.4, 0.1, -0.7],
        sparseValues: { indices: [2, 9], values: [0.3, 1.1] },
        metadata: { kind: 'a' },
      },
    ],
  });
  await call(sparseHost, 'POST', '/vectors/upsert', {
    vectors: [{ id: 's1', sparseValues: { indices: [5], values: [0.2] } }],
  });
});
afterAll(async () => {
  await server.close();
});

describe('float32 values in responses', () => {
  it('fetch writes the values as they were written', async () => {
    const r = await call(host, 'GET', '/vectors/fetch?ids=r1');
    expect(r.text).toContain('"values":[0.4,0.1,-0.7]');
    expect(r.text).toContain('"sparseValues":{"indices":[2,9],"values":[0.3,1.1]}');
    expect(r.text).not.toContain('0.4000000059604645');
    expect(r.body.vectors.r1.values).toEqual([0.4, 0.1, -0.7]);
  });

  it('query with includeValues, fetch by metadata and a sparse index do too', async () => {
    const q = await call(host, 'POST', '/query', { vector: [1, 0, 0], topK: 1, includeValues: true });
    expect(q.body.matches[0].values).toEqual([0.4, 0.1, -0.7]);
    expect(q.body.matches[0].sparseValues).toEqual({ indices: [2, 9], values: [0.3, 1.1] });
    const byMeta = await call(host, 'POST', '/vectors/fetch_by_metadata', { filter: { kind: 'a' } });
    expect(byMeta.text).toContain('"values":[0.4,0.1,-0.7]');
    const sparse = await call(sparseHost, 'GET', '/vectors/fetch?ids=s1');
    expect(sparse.body.vectors.s1.sparseValues.values).toEqual([0.2]);
  });

  it('an update writes back what was sent (Pinecone client tests expect [0.5, 0.4])', async () => {
    await call(host, 'POST', '/vectors/update', { id: 'r1', values: [0.5, 0.4, 0.3] });
    const r = await call(host, 'GET', '/vectors/fetch?ids=r1');
    expect(r.body.vectors.r1.values).toEqual([0.5, 0.4, 0.3]);
  });

  it('values are still float32: precision beyond float32 is not kept', async () => {
    await call(host, 'POST', '/vectors/upsert', { vectors: [{ id: 'r2', values: [0.1234567891, 1e-8, 3] }] });
    const r = await call(host, 'GET', '/vectors/fetch?ids=r2');
    expect(r.body.vectors.r2.values).toEqual([0.12345679, 1e-8, 3]);
  });
});
