/**
 * One script of every data-plane method, run over REST (`pc.index({ host })`) and over
 * gRPC (`pc.index({ host, grpc: true })`) against two identical emulated indexes; the
 * transcripts must be equal. Imports and integrated records go over REST from the gRPC
 * index too (Pinecone's gRPC service does not carry them), so they are compared as well.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import type { IndexDataPlane } from '../../src/data/data-plane.js';
import { type LocalServer, startLocalServer } from '../../src/local.js';

let server: LocalServer;
let pc: Pinecone;
let dir: string;

/** Values exactly representable as float32, so both wires carry them unchanged. */
const vectors = Array.from({ length: 8 }, (_, k) => ({
  id: `v${k}`,
  values: [(k % 4) / 4, 1 / 2, k / 8, 1],
  metadata: { genre: k % 2 === 0 ? 'drama' : 'comedy', year: 2000 + k },
}));

/** gRPC scores are float32, REST's JSON doubles: compare them as float32. */
function f32<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (key, v) =>
    (key === 'score' || key === '_score') && typeof v === 'number' ? Math.fround(v) : v,
  );
}

async function settledImport(index: IndexDataPlane, id: string) {
  for (let i = 0; i < 200; i++) {
    const d = await index.describeImport(id);
    if (d.status !== 'Pending' && d.status !== 'InProgress') return d;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`import ${id} did not finish`);
}

/** Every method once (most with a check of what it did); returns what a user would see. */
async function script(index: IndexDataPlane, records: IndexDataPlane): Promise<unknown[]> {
  const out: unknown[] = [];
  const ns = index.namespace('books');
  out.push(await ns.upsert({ vectors, batchSize: 3 }));
  out.push(
    f32(await ns.query({ vector: [1, 0, 0, 0], topK: 3, includeMetadata: true, includeValues: true })),
  );
  out.push(f32(await ns.query({ id: 'v3', topK: 2, filter: { genre: { $eq: 'comedy' } } })));
  const fetched = await ns.fetch({ ids: ['v1', 'v2', 'missing'] });
  expect(fetched.records).toBe(fetched.vectors);
  out.push(fetched);
  const page1 = await ns.fetchByMetadata({ filter: { genre: 'drama' }, limit: 2 });
  out.push(page1);
  out.push(await ns.fetchByMetadata({ filter: { genre: 'drama' }, paginationToken: page1.pagination!.next }));
  out.push(await ns.update({ id: 'v1', values: [1, 1, 1, 1], setMetadata: { year: 1999 } }));
  out.push(await ns.update({ filter: { genre: 'comedy' }, metadata: { seen: true }, dryRun: true }));
  out.push(await ns.update({ filter: { genre: 'comedy' }, setMetadata: { seen: true } }));
  out.push(await ns.fetch({ ids: ['v1', 'v3'] }));
  out.push(await ns.listPaginated({ prefix: 'v', limit: 3 }));
  const ids: string[] = [];
  for await (const id of ns.list({ limit: 3 })) ids.push(id);
  out.push(ids);
  await ns.deleteOne({ id: 'v0' });
  await ns.deleteMany({ ids: ['v1', 'v2'] });
  await ns.deleteMany({ filter: { year: { $gte: 2006 } } });
  out.push(await index.describeIndexStats());
  out.push(await index.describeIndexStats({ filter: { genre: 'comedy' } }));
  out.push(
    await index.createNamespace({ name: 'empty', schema: { fields: { genre: { filterable: true } } } }),
  );
  out.push(await index.listNamespaces({ limit: 1 }));
  out.push(await index.listNamespaces({ prefix: 'bo' }));
  out.push(await index.describeNamespace('books'));
  await index.deleteNamespace('empty');
  out.push(await index.describeNamespace('empty').catch((e) => [e.name, e.status, e.serverMessage]));
  out.push(await index.createNamespace({ name: 'books' }).catch((e) => [e.name, e.status]));
  await ns.deleteAll();
  out.push(await index.describeIndexStats());

  // Bulk import from a local file tree, then its lifecycle.
  const { id } = await index.startImport({ uri: pathToFileURL(dir).href, errorMode: 'continue' });
  const done = await settledImport(index, id);
  out.push([done.status, done.percentComplete, done.recordsImported, done.createdAt instanceof Date]);
  const listed = await index.listImports({ limit: 100 });
  expect(listed.data.map((d) => d.id)).toContain(id);
  out.push(await index.cancelImport(id));
  out.push((await index.describeImport(id)).status);
  out.push(await index.fetch({ ids: ['i1', 'i2'], namespace: 'imported' }));
  const aborted = await index.startImport({ uri: pathToFileURL(dir).href, errorMode: 'abort' });
  const failed = await settledImport(index, aborted.id);
  out.push([failed.status, failed.error]);
  out.push(await index.startImport({ uri: 's3://bucket/x' }).catch((e) => [e.name, e.status]));

  // Integrated records.
  await records.upsertRecords({
    records: [
      { _id: 'r1', text: 'apple pie with cinnamon', category: 'dessert' },
      { _id: 'r2', text: 'engine oil for the car', category: 'auto' },
      { id: 'r3', text: 'apple crumble', category: 'dessert' },
    ],
    namespace: 'recipes',
  });
  out.push(
    f32(
      await records.searchRecords({
        query: { topK: 2, inputs: { text: 'apple dessert' } },
        namespace: 'recipes',
      }),
    ),
  );
  out.push(
    f32(
      await records.searchRecords({
        query: { topK: 3, id: 'r1', filter: { category: { $eq: 'dessert' } } },
        fields: ['category'],
        namespace: 'recipes',
      }),
    ),
  );
  out.push(
    await records
      .searchRecords({
        query: { topK: 1, inputs: { text: 'x' } },
        rerank: { model: 'bge-reranker-v2-m3', rankFields: ['text'] },
        namespace: 'recipes',
      })
      .catch((e) => [e.name, e.status]),
  );
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pr-import-'));
  await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'imported')));
  await writeFile(
    join(dir, 'imported', 'part-0.jsonl'),
    [
      JSON.stringify({ id: 'i1', values: [1, 0, 0, 0], metadata: { genre: 'drama' } }),
      JSON.stringify({ id: 'i2', values: [0, 1, 0, 0], metadata: '{"genre":"comedy"}' }),
      JSON.stringify({ id: 'bad', values: [1, 2] }),
      '',
    ].join('\n'),
  );
  const index = (name: string) => ({ name, dimension: 4, metric: 'cosine' as const });
  const embedded = (name: string) => ({ name, dimension: 16, embed: { fieldMap: { text: 'text' } } });
  server = await startLocalServer({
    indexes: [index('rest'), index('grpc'), embedded('rest-records'), embedded('grpc-records')],
  });
  pc = new Pinecone({ apiKey: 'local', retryConfig: { maxRetries: 0 } });
});

afterAll(async () => {
  await pc.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the data plane over REST and gRPC', () => {
  it('one script gives the same results on both transports', async () => {
    const rest = await script(
      pc.index({ host: server.indexHost('rest') }),
      pc.index({ host: server.indexHost('rest-records') }),
    );
    const grpc = await script(
      pc.index({ host: server.indexHost('grpc'), grpc: true }),
      pc.index({ host: server.indexHost('grpc-records'), grpc: true }),
    );
    expect(grpc).toEqual(rest);
    // Spot checks that the transcript holds what it should (not two equal failures).
    expect(rest[0]).toEqual({ upsertedCount: 8 });
    expect(rest).toContainEqual(['NotFoundError', 404, 'Namespace empty not found']);
    expect(rest).toContainEqual(['Completed', 100, 2, true]);
    expect(rest).toContainEqual({ matchedRecords: 4 });
  });

  it('the gRPC index calls the gRPC methods for what Pinecone serves over gRPC', async () => {
    server.resetStats('grpc');
    const g = pc.index({ host: server.grpcHost('grpc'), grpc: true });
    await g.createNamespace({ name: 'only-grpc' });
    await g.fetchByMetadata({ filter: { genre: 'drama' }, namespace: 'only-grpc' });
    await g.listNamespaces();
    await g.deleteNamespace('only-grpc');
    // The gRPC-only port serves no REST: these names were reached over gRPC.
    expect(Object.keys(server.stats('grpc').operations).sort()).toEqual([
      'create_namespace',
      'delete_namespace',
      'fetch_by_metadata',
      'list_namespaces',
    ]);
  });
});
