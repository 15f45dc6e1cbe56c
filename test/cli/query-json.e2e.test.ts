/**
 * `query --json` prints vector values as the float32 decimals Pinecone writes (`0.4`),
 * over gRPC too, where the wire hands back float32 widened to a double
 * (`0.4000000059604645`). The built CLI in a child process against the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { runCli } from './run-cli.js';

const env = { PINECONE_API_KEY: 'test-key' };
let server: LocalServer;
let host: string;

beforeAll(async () => {
  server = await startLocalServer({
    port: 0,
    indexes: [{ name: 'json', dimension: 3, metric: 'dotproduct' }],
  });
  host = server.indexHost('json');
  const res = await fetch(`${host}/vectors/upsert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Api-Key': 'test-key' },
    body: JSON.stringify({
      vectors: [{ id: 'r1', values: [0.4, 0.1, -0.7], sparseValues: { indices: [3], values: [0.3] } }],
    }),
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await server?.close();
});

describe('query --json', () => {
  for (const transport of ['REST', 'gRPC']) {
    it(`prints values as written, over ${transport}`, async () => {
      const grpc = transport === 'gRPC' ? ['--grpc'] : [];
      const run = await runCli(
        ['query', '--host', host, ...grpc, '--id', 'r1', '--include-values', '--json'],
        {
          env,
        },
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).not.toMatch(/0\.4000000059604645|0\.10000000149011612/);
      const match = (JSON.parse(run.stdout) as { matches: Record<string, unknown>[] }).matches[0];
      expect(match).toMatchObject({
        id: 'r1',
        values: [0.4, 0.1, -0.7],
        sparseValues: { indices: [3], values: [0.3] },
      });
    });
  }
});
