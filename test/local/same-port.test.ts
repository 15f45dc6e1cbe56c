/**
 * An index host serves REST and gRPC on one port, as Pinecone's do, so a gRPC index
 * looked up by name (describeIndex gives one host) reaches the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import { type LocalServer, startLocalServer } from '../../src/local.js';

let server: LocalServer;
let pc: Pinecone;

beforeAll(async () => {
  server = await startLocalServer({ port: 0, indexes: [{ name: 'both', dimension: 4, metric: 'cosine' }] });
  pc = new Pinecone({ apiKey: 'k', controllerHost: server.controllerHost });
});
afterAll(async () => {
  await pc.close();
  await server.close();
});

describe('one port per index for REST and gRPC', () => {
  it('pc.index({ name, grpc: true }) works through the host describeIndex returns', async () => {
    const rest = pc.index({ name: 'both' });
    const grpc = pc.index({ name: 'both', grpc: true });
    await rest.upsert({ vectors: [{ id: 'r', values: [1, 0, 0, 0] }] });
    await grpc.upsert({ vectors: [{ id: 'g', values: [0, 1, 0, 0] }] });
    const viaGrpc = await grpc.fetch({ ids: ['r', 'g'] });
    const viaRest = await rest.fetch({ ids: ['r', 'g'] });
    expect(Object.keys(viaGrpc.vectors).sort()).toEqual(['g', 'r']);
    expect(Object.keys(viaRest.vectors).sort()).toEqual(['g', 'r']);
    const stats = server.stats('both');
    expect(stats.operations.upsert?.['200']).toBe(2);
  });

  it('plain HTTP/1.1 on that port is unaffected', async () => {
    const res = await fetch(`${server.indexHost('both')}/describe_index_stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { totalVectorCount: number }).totalVectorCount).toBe(2);
  });
});
