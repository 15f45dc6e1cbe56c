/**
 * Each official client major drives the emulator in its own API version: 7 sends
 * 2025-10, 8 sends 2026-04 (both read the classic IndexModel, whose
 * `spec.serverless.readCapacity` they dereference), 9 sends 2026-07 (top-level
 * `read_capacity`, read back through its legacy `spec` accessors). The checks are the
 * ones Pinecone's own integration tests make (createIndex, configureIndex,
 * upsertAndUpdate), run against the emulator instead of Pinecone.
 */
import { Pinecone as Pinecone9 } from '@pinecone-database/pinecone';
import { Pinecone as Pinecone7 } from 'pinecone-client-v7';
import { Pinecone as Pinecone8 } from 'pinecone-client-v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';

let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer();
});
afterAll(async () => {
  await server.close();
});

/** What the three clients have in common here (their types differ in detail). */
interface Client {
  createIndex(options: object): Promise<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: each client version types its IndexModel differently
  describeIndex(name: string): Promise<any>;
  deleteIndex(name: string): Promise<void>;
  // biome-ignore lint/suspicious/noExplicitAny: each client version types its Index differently
  index(options: { name: string }): any;
}

const CLIENTS: [string, string, (apiKey: string) => Client][] = [
  [
    '7',
    '2025-10',
    (apiKey) => new Pinecone7({ apiKey, controllerHostUrl: server.controllerHost, maxRetries: 0 }),
  ],
  [
    '8',
    '2026-04',
    (apiKey) => new Pinecone8({ apiKey, controllerHostUrl: server.controllerHost, maxRetries: 0 }),
  ],
  [
    '9',
    '2026-07',
    (apiKey) =>
      new Pinecone9({ apiKey, controllerHostUrl: server.controllerHost, maxRetries: 0 }) as unknown as Client,
  ],
];

const serverless = { cloud: 'aws', region: 'us-east-1' };
const dedicated = { mode: 'Dedicated', nodeType: 'b1', manual: { replicas: 2, shards: 1 } };

for (const [major, apiVersion, connect] of CLIENTS) {
  describe(`official client ${major} (API ${apiVersion})`, () => {
    // The official clients cache index hosts per API key and index name, process-wide.
    const apiKey = `by-version-${major}-${process.pid}`;
    const pc = () => connect(apiKey);
    const name = (what: string) => `v${major}-${what}`;

    it('reads OnDemand read capacity by default and Dedicated when created with it', async () => {
      await pc().createIndex({
        name: name('ondemand'),
        dimension: 5,
        spec: { serverless },
        waitUntilReady: true,
      });
      const plain = await pc().describeIndex(name('ondemand'));
      expect(plain.spec.serverless?.readCapacity.mode).toEqual('OnDemand');
      expect(plain.spec.serverless?.readCapacity.status.state).toEqual('Ready');

      await pc().createIndex({
        name: name('dedicated'),
        dimension: 5,
        spec: { serverless: { ...serverless, readCapacity: dedicated } },
        waitUntilReady: true,
      });
      const described = await pc().describeIndex(name('dedicated'));
      const readCapacity = described.spec.serverless?.readCapacity;
      expect(readCapacity.mode).toEqual('Dedicated');
      expect(readCapacity.dedicated?.nodeType).toEqual('b1');
      expect(readCapacity.dedicated?.manual).toEqual({ replicas: 2, shards: 1 });
      expect(readCapacity.status).toMatchObject({ state: 'Ready', currentReplicas: 2, currentShards: 1 });
      await pc().deleteIndex(name('ondemand'));
      await pc().deleteIndex(name('dedicated'));
    });

    it('fetches back the float32 values it wrote (0.5, 0.4) after an update', async () => {
      await pc().createIndex({
        name: name('floats'),
        dimension: 2,
        spec: { serverless },
        waitUntilReady: true,
      });
      const index = pc().index({ name: name('floats') });
      await index.upsert({ records: [{ id: 'r', values: [0.1, 0.2] }] });
      await index.update({ id: 'r', values: [0.5, 0.4] });
      const result = await index.fetch({ ids: ['r'] });
      expect(result.records.r.values).toEqual([0.5, 0.4]);
      await pc().deleteIndex(name('floats'));
    });

    it("refuses to delete a protected index with Pinecone's message", async () => {
      await pc().createIndex({
        name: name('protected'),
        dimension: 2,
        spec: { serverless },
        deletionProtection: 'enabled',
        waitUntilReady: true,
      });
      await expect(pc().deleteIndex(name('protected'))).rejects.toMatchObject({
        name: 'PineconeBadRequestError',
        message: expect.stringContaining(
          'Deletion protection is enabled for this index. Disable deletion protection before retrying.',
        ),
      });
      await fetch(`${server.controllerHost}/indexes/${name('protected')}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ deletion_protection: 'disabled' }),
      });
      await pc().deleteIndex(name('protected'));
    });
  });
}
