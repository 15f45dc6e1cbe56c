/**
 * Compatibility with a client nobody here wrote: the official `@pinecone-database/pinecone`
 * client (API version 2026-07) drives the emulator end to end. This is the proof that the
 * emulator speaks Pinecone's wire format.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Pinecone } from '@pinecone-database/pinecone';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';

describe('the official Pinecone client against the emulator', () => {
  let server: LocalServer;
  let pc: Pinecone;
  // The official client caches index hosts per API key and index name process-wide.
  const apiKey = `compat-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    server = await startLocalServer({ apiKey });
    pc = new Pinecone({ apiKey, controllerHostUrl: server.controllerHost, maxRetries: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('creates, describes and lists an index (host keeps its http:// scheme)', async () => {
    const created = await pc.createIndex({
      name: 'compat',
      dimension: 4,
      metric: 'dotproduct',
      spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
      waitUntilReady: true,
    });
    expect(created?.name).toBe('compat');
    const described = await pc.describeIndex('compat');
    expect(described.host).toBe(server.indexHost('compat'));
    expect(described.host.startsWith('http://127.0.0.1:')).toBe(true);
    expect(described.status.ready).toBe(true);
    // The client derives the legacy fields from the 2026-07 schema.
    expect(described.dimension).toBe(4);
    expect(described.metric).toBe('dotproduct');
    expect(described.vectorType).toBe('dense');
    expect(described.spec).toMatchObject({ serverless: { cloud: 'aws', region: 'us-east-1' } });
    const list = await pc.listIndexes();
    expect(list.indexes?.map((i) => i.name)).toEqual(['compat']);
  });

  it('upserts, queries with a filter, fetches, updates, lists, deletes and reports stats', async () => {
    const index = pc.index({ name: 'compat' });
    const ns = index.namespace('books');
    await ns.upsert({
      records: [
        { id: 'b1', values: [1, 0, 0, 0], metadata: { genre: 'drama', year: 1990, tags: ['a', 'b'] } },
        { id: 'b2', values: [0.5, 0.5, 0, 0], metadata: { genre: 'comedy', year: 2001 } },
        { id: 'b3', values: [0, 1, 0, 0], metadata: { genre: 'drama', year: 2010 } },
        { id: 'c1', values: [0, 0, 1, 0], sparseValues: { indices: [3, 7], values: [0.5, 2] } },
      ],
    });

    const q = await ns.query({
      vector: [1, 0.25, 0, 0],
      topK: 10,
      filter: { genre: { $eq: 'drama' } },
      includeMetadata: true,
    });
    expect(q.matches.map((m) => m.id)).toEqual(['b1', 'b3']);
    expect(q.matches[0]!.score).toBeCloseTo(1, 6);
    expect(q.matches[1]!.score).toBeCloseTo(0.25, 6);
    expect(q.matches[0]!.metadata).toEqual({ genre: 'drama', year: 1990, tags: ['a', 'b'] });

    const byId = await ns.query({ id: 'b2', topK: 1, filter: { year: { $gt: 2000 } } });
    expect(byId.matches[0]!.id).toBe('b2');

    const hybrid = await ns.query({
      vector: [0, 0, 1, 0],
      sparseVector: { indices: [7], values: [1] },
      topK: 1,
    });
    expect(hybrid.matches[0]).toMatchObject({ id: 'c1' });
    expect(hybrid.matches[0]!.score).toBeCloseTo(3, 6);

    const fetched = await ns.fetch({ ids: ['b1', 'c1', 'missing'] });
    expect(Object.keys(fetched.records).sort()).toEqual(['b1', 'c1']);
    expect(fetched.records.b1!.values).toEqual([1, 0, 0, 0]);
    expect(fetched.records.c1!.sparseValues).toEqual({ indices: [3, 7], values: [0.5, 2] });

    await ns.update({ id: 'b2', values: [0, 0, 0, 1], metadata: { genre: 'drama' } });
    const updated = await ns.fetch({ ids: ['b2'] });
    expect(updated.records.b2!.values).toEqual([0, 0, 0, 1]);
    expect(updated.records.b2!.metadata).toEqual({ genre: 'drama', year: 2001 });

    const page1 = await ns.listPaginated({ prefix: 'b', limit: 2 });
    expect(page1.vectors?.map((v) => v.id)).toEqual(['b1', 'b2']);
    const page2 = await ns.listPaginated({ prefix: 'b', limit: 2, paginationToken: page1.pagination!.next });
    expect(page2.vectors?.map((v) => v.id)).toEqual(['b3']);
    expect(page2.pagination).toBeUndefined();

    let stats = await index.describeIndexStats();
    expect(stats.dimension).toBe(4);
    expect(stats.totalRecordCount).toBe(4);
    expect(stats.namespaces?.books?.recordCount).toBe(4);
    stats = await index.describeIndexStats({ filter: { genre: 'drama' } });
    expect(stats.namespaces?.books?.recordCount).toBe(3);

    await ns.deleteOne({ id: 'b1' });
    await ns.deleteMany({ ids: ['b3'] });
    await ns.deleteMany({ filter: { genre: { $eq: 'drama' } } });
    const left = await ns.fetch({ ids: ['b1', 'b2', 'b3', 'c1'] });
    expect(Object.keys(left.records)).toEqual(['c1']);

    const namespaces = await index.listNamespaces();
    expect(namespaces.namespaces?.map((n) => [n.name, n.recordCount])).toEqual([['books', '1']]);
    await ns.deleteAll();
    stats = await index.describeIndexStats();
    expect(stats.totalRecordCount).toBe(0);
  });

  it('uses the default namespace for records written without one', async () => {
    const index = pc.index({ name: 'compat' });
    await index.upsert({ records: [{ id: 'd1', values: [1, 1, 1, 1] }] });
    const fetched = await index.fetch({ ids: ['d1'] });
    expect(fetched.records.d1?.id).toBe('d1');
    // The same record is visible to a client that spells the default namespace "".
    const res = await fetch(`${server.indexHost('compat')}/vectors/fetch?ids=d1&namespace=`, {
      headers: { 'Api-Key': apiKey, 'X-Pinecone-Api-Version': '2025-10' },
    });
    expect(((await res.json()) as { vectors: Record<string, unknown> }).vectors.d1).toBeDefined();
  });

  it('fetches by metadata, updates by filter and manages namespaces', async () => {
    const index = pc.index({ name: 'compat' });
    const ns = index.namespace('meta');
    await ns.upsert({
      records: [
        { id: 'm1', values: [1, 0, 0, 0], metadata: { genre: 'drama' } },
        { id: 'm2', values: [0, 1, 0, 0], metadata: { genre: 'comedy' } },
        { id: 'm3', values: [0, 0, 1, 0], metadata: { genre: 'drama' } },
      ],
    });
    const page = await ns.fetchByMetadata({ filter: { genre: { $eq: 'drama' } }, limit: 1 });
    expect(Object.keys(page.records)).toEqual(['m1']);
    const rest = await ns.fetchByMetadata({
      filter: { genre: { $eq: 'drama' } },
      paginationToken: page.pagination!.next,
    });
    expect(Object.keys(rest.records)).toEqual(['m3']);
    await ns.update({ filter: { genre: { $eq: 'drama' } }, metadata: { seen: true } });
    const after = await ns.fetch({ ids: ['m1', 'm2', 'm3'] });
    expect([after.records.m1?.metadata, after.records.m2?.metadata]).toEqual([
      { genre: 'drama', seen: true },
      { genre: 'comedy' },
    ]);

    const made = await index.createNamespace({
      name: 'fresh',
      schema: { fields: { genre: { filterable: true } } },
    });
    expect(made).toMatchObject({ name: 'fresh', recordCount: '0' });
    expect(await index.describeNamespace('meta')).toMatchObject({ name: 'meta', recordCount: '3' });
    await index.deleteNamespace('fresh');
    await expect(index.describeNamespace('fresh')).rejects.toMatchObject({ name: 'PineconeNotFoundError' });
    await ns.deleteAll();
  });

  it('runs a bulk import from a file:// URI and reports it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'compat-import-'));
    try {
      await mkdir(join(dir, 'imported'));
      const lines = [0, 1, 2].map((k) => JSON.stringify({ id: `f${k}`, values: [k, 1, 0, 0] }));
      await writeFile(join(dir, 'imported', 'part-0.jsonl'), `${lines.join('\n')}\n`);
      const index = pc.index({ name: 'compat' });
      const { id } = await index.startImport({ uri: pathToFileURL(dir).href });
      let model = await index.describeImport(id);
      for (let i = 0; i < 200 && model.status !== 'Completed'; i++) {
        await new Promise((r) => setTimeout(r, 10));
        model = await index.describeImport(id);
      }
      expect(model).toMatchObject({ id, status: 'Completed', percentComplete: 100, recordsImported: 3 });
      expect(model.createdAt).toBeInstanceOf(Date);
      expect((await index.listImports()).data?.map((d) => d.id)).toContain(id);
      await index.cancelImport(id);
      const fetched = await index.namespace('imported').fetch({ ids: ['f0', 'f2'] });
      expect(fetched.records.f2?.values).toEqual([2, 1, 0, 0]);
      await index.namespace('imported').deleteAll();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('upserts and searches integrated records (the emulator embeds with a stand-in)', async () => {
    await server.createIndex({
      name: 'compat-records',
      dimension: 16,
      embed: { fieldMap: { text: 'chunk' } },
    });
    const index = pc.index({ name: 'compat-records' });
    await index.upsertRecords({
      namespace: 'docs',
      records: [
        { _id: 'a', chunk: 'apple pie recipe', kind: 'food' },
        { _id: 'b', chunk: 'car engine repair', kind: 'auto' },
      ],
    });
    const found = await index.searchRecords({
      namespace: 'docs',
      query: { topK: 1, inputs: { text: 'apple recipe' } },
      fields: ['kind'],
    });
    expect(found.result.hits).toEqual([{ _id: 'a', _score: expect.any(Number), fields: { kind: 'food' } }]);
    expect(found.usage.readUnits).toBeGreaterThan(0);
    await pc.deleteIndex('compat-records');
  });

  it('surfaces Pinecone error bodies through the client', async () => {
    const index = pc.index({ name: 'compat' });
    await expect(index.upsert({ records: [{ id: 'x', values: [1, 2, 3] }] })).rejects.toThrow(
      /Vector dimension 3 does not match the dimension of the index 4/,
    );
    await expect(pc.describeIndex('nope')).rejects.toMatchObject({ name: 'PineconeNotFoundError' });
    const wrongKey = new Pinecone({
      apiKey: 'wrong',
      controllerHostUrl: server.controllerHost,
      maxRetries: 0,
    });
    await expect(wrongKey.listIndexes()).rejects.toMatchObject({ name: 'PineconeAuthorizationError' });
  });

  it('configures and deletes the index', async () => {
    await pc.configureIndex({ name: 'compat', deletionProtection: 'enabled', tags: { team: 'search' } });
    const described = await pc.describeIndex('compat');
    expect(described.deletionProtection).toBe('enabled');
    expect(described.tags).toEqual({ team: 'search' });
    await expect(pc.deleteIndex('compat')).rejects.toThrow();
    await pc.configureIndex({ name: 'compat', deletionProtection: 'disabled' });
    await pc.deleteIndex('compat');
    expect((await pc.listIndexes()).indexes ?? []).toEqual([]);
  });
});
