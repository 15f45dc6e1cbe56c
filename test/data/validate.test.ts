import { describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import { ValidationError } from '../../src/errors.js';
import { startScriptedServer } from '../helpers/scripted-server.js';

/** Every row of the bad-input list, through the public API, against a server that must see nothing. */
describe('bad input is rejected before the wire', async () => {
  const server = await startScriptedServer();
  const pc = new Pinecone({ apiKey: 'k', retryConfig: { maxRetries: 0 } });
  const index = pc.index({ host: server.url });
  const dense = [0.1, 0.2, 0.3];
  const big = 'x'.repeat(41 * 1024);

  const cases: [string, () => Promise<unknown>, string, RegExp][] = [
    ['empty id', () => index.upsert({ vectors: [{ id: '', values: dense }] }), 'vectors[0].id', /non-empty/],
    [
      'non-string id',
      () => index.upsert({ vectors: [{ id: 7 as unknown as string, values: dense }] }),
      'vectors[0].id',
      /must be a string; got 7/,
    ],
    [
      'id over 512 bytes',
      () => index.upsert({ vectors: [{ id: 'é'.repeat(257), values: dense }] }),
      'vectors[0].id',
      /at most 512 bytes; got 514 bytes/,
    ],
    [
      'NaN value',
      () => index.upsert({ vectors: [{ id: 'a', values: [0.1, Number.NaN] }] }),
      'vectors[0].values[1]',
      /finite number; got NaN/,
    ],
    [
      'Infinity value',
      () => index.upsert({ vectors: [{ id: 'a', values: Float32Array.of(1, Number.POSITIVE_INFINITY) }] }),
      'vectors[0].values[1]',
      /finite number; got Infinity/,
    ],
    [
      'empty values, no sparse',
      () => index.upsert({ vectors: [{ id: 'a', values: [] }] }),
      'vectors[0].values',
      /empty and there are no sparseValues/,
    ],
    [
      'sparse lengths differ',
      () =>
        index.upsert({
          vectors: [{ id: 'a', values: [], sparseValues: { indices: [1, 2], values: [0.5] } }],
        }),
      'vectors[0].sparseValues',
      /same length; got 2 indices and 1 values/,
    ],
    [
      'nested metadata',
      () => index.upsert({ vectors: [{ id: 'a', values: dense, metadata: { a: { b: 1 } } as never }] }),
      'vectors[0].metadata.a',
      /metadata is flat/,
    ],
    [
      'metadata list of numbers',
      () => index.upsert({ vectors: [{ id: 'a', values: dense, metadata: { a: [1, 2] } as never }] }),
      'vectors[0].metadata.a[0]',
      /lists hold strings only/,
    ],
    [
      'metadata not an object',
      () => index.upsert({ vectors: [{ id: 'a', values: dense, metadata: 'x' as never }] }),
      'vectors[0].metadata',
      /flat object/,
    ],
    [
      'metadata over 40 KB',
      () => index.upsert({ vectors: [{ id: 'a', values: dense, metadata: { big } }] }),
      'vectors[0].metadata',
      /limit is 40960 bytes/,
    ],
    [
      'more than 1000 vectors per request',
      () => index.upsert({ vectors: [{ id: 'a', values: dense }], batchSize: 1001 }),
      'batchSize',
      /1\.\.1000; got 1001/,
    ],
    [
      'more than 2 MB in one request',
      () => index.upsert({ vectors: [{ id: 'a', values: new Array(200_000).fill(0.123456789) }] }),
      'vectors[0]',
      /vectors\[0\] encodes to \d+ bytes; one upsert request takes at most 2097152 bytes \(2 MB\)/,
    ],
    ['topK 0', () => index.query({ vector: dense, topK: 0 }), 'topK', /1\.\.10000; got 0/],
    ['topK 10001', () => index.query({ vector: dense, topK: 10_001 }), 'topK', /got 10001/],
    [
      'filter not an object',
      () => index.query({ vector: dense, topK: 1, filter: 'genre=drama' as never }),
      'filter',
      /must be an object/,
    ],
    ['filter an array', () => index.delete({ filter: [] as never }), 'filter', /must be an object/],
    [
      'query with vector and id',
      () => index.query({ vector: dense, id: 'a', topK: 1 }),
      'vector',
      /exactly one/,
    ],
    ['fetch without ids', () => index.fetch({ ids: [] }), 'ids', /at least one id/],
    ['delete with two selectors', () => index.delete({ ids: ['a'], deleteAll: true }), 'ids', /exactly one/],
    ['negative timeout', () => index.fetch({ ids: ['a'], timeout: -1 }), 'timeout', /positive/],
  ];

  it.each(cases)('%s', async (_name, call, field, message) => {
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect((error as ValidationError).message).toMatch(message);
    expect(server.requests).toHaveLength(0);
  });

  it('an index looked up by name checks its input before the lookup', async () => {
    const byName = new Pinecone({ apiKey: 'k', controllerHost: server.url }).index({ name: 'products' });
    const error = await byName.upsert({ vectors: [{ id: '', values: dense }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(server.requests).toHaveLength(0);
  });

  it('so does a gRPC index looked up by name', async () => {
    const grpc = new Pinecone({ apiKey: 'k', controllerHost: server.url }).index({
      name: 'products',
      grpc: true,
    });
    const calls = [
      grpc.upsert({ vectors: [{ id: 'a', values: [Number.NaN] }] }),
      grpc.query({ vector: dense, topK: 0 }),
      grpc.fetch({ ids: [] }),
      grpc.delete({}),
      grpc.update({ id: '' }),
    ];
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(ValidationError);
    expect(server.requests).toHaveLength(0);
  });

  it('closes', async () => {
    await pc.close();
    await server.close();
  });
});
