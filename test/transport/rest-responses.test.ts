/**
 * What the REST response fuzzer (`test/fuzz/`) found, one test per bug, each failing
 * before its fix: raw responses from a loopback server, the SDK's real client.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import { ConnectionError } from '../../src/errors.js';
import { seededRandom } from '../../src/resilience/clock.js';
import { InstantClock } from '../helpers/clocks.js';
import {
  type RawReply,
  type RawResponseServer,
  startRawResponseServer,
} from '../helpers/raw-response-server.js';

const KEY = 'pcsk_SECRET_fuzz_key_456';
let server: RawResponseServer;
let caseId = 0;

beforeAll(async () => {
  server = await startRawResponseServer();
});
afterAll(async () => {
  await server.close();
});

function client(maxRetries: number) {
  return new Pinecone({
    apiKey: KEY,
    clock: new InstantClock(),
    random: seededRandom(1),
    retryConfig: { maxRetries },
    timeout: 2,
  });
}

function json(status: number, body: string, headers = ''): RawReply {
  return {
    bytes: Buffer.from(
      `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\n${headers}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ),
    after: 'keep',
  };
}

/** Script the replies of one case; its namespace carries the case id the server matches on. */
function script(...replies: RawReply[]): string {
  caseId += 1;
  server.script(caseId, replies);
  return `case-${caseId}`;
}

describe('the API key never shows', () => {
  it('not even in the cause of a response the HTTP parser refused, when the server echoed the key in it', async () => {
    const pc = client(0);
    const namespace = script({
      bytes: Buffer.from(`HTTP/1.1 200 OK\nx-echo: ${KEY}\ncontent-length: 2\n\n{}`),
      after: 'close',
    });
    const error = await pc
      .index({ host: server.url })
      .describeNamespace(namespace)
      .catch((e) => e);
    await pc.close();
    expect(error).toBeInstanceOf(ConnectionError);
    // The parser's complaint stays readable; the bytes it choked on do not come along.
    expect(error.message).toContain('HTTP/1.1 protocol');
    const shown = [error.message, error.stack, inspect(error, { depth: 10 })].join('\n');
    expect(shown).not.toContain(KEY);
  });
});

describe('a 2xx whose JSON is not the answer’s shape', () => {
  const shapes: [string, string, (pc: Pinecone, ns: string) => Promise<unknown>][] = [
    [
      'query, matches a string',
      '{"matches":"","namespace":"n"}',
      (pc, ns) => pc.index({ host: server.url }).query({ vector: [1, 2], topK: 1, namespace: ns }),
    ],
    [
      'query, a match without a score',
      '{"matches":[{"id":"a"}]}',
      (pc, ns) => pc.index({ host: server.url }).query({ vector: [1, 2], topK: 1, namespace: ns }),
    ],
    [
      'upsert, a count of 1 for 2 records',
      '{"upsertedCount":1}',
      (pc, ns) =>
        pc.index({ host: server.url }).upsert({
          vectors: [
            { id: 'a', values: [1, 2] },
            { id: 'b', values: [3, 4] },
          ],
          namespace: ns,
        }),
    ],
    [
      'fetch, the body null',
      'null',
      (pc, ns) => pc.index({ host: server.url }).fetch({ ids: ['a'], namespace: ns }),
    ],
    [
      'upsert, the body null',
      'null',
      (pc, ns) =>
        pc.index({ host: server.url }).upsert({ vectors: [{ id: 'a', values: [1, 2] }], namespace: ns }),
    ],
    [
      'listNamespaces, a namespace null',
      '{"namespaces":[null]}',
      (pc, ns) => pc.index({ host: server.url }).listNamespaces({ prefix: ns }),
    ],
    [
      'listImports, data a number',
      '{"data":5}',
      (pc, ns) => pc.index({ host: server.url }).listImports({ paginationToken: ns }),
    ],
    [
      'describeIndexStats, namespaces an array',
      '{"namespaces":[1]}',
      (pc, ns) => pc.index({ host: server.url }).describeIndexStats({ filter: { tag: { $eq: ns } } }),
    ],
  ];

  it.each(shapes)(
    '%s: a ConnectionError BAD_BODY naming the field, after every retry',
    async (_name, body, call) => {
      const pc = client(1);
      const ns = script(json(200, body));
      const error = (await call(pc, ns).catch((e) => e)) as ConnectionError;
      await pc.close();
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.code).toBe('BAD_BODY');
      expect(error.attempts).toBe(2);
      expect(error.message).toMatch(/wrong shape \(.+ is not /);
    },
  );

  it('is retried, and the next, well-formed answer is the result', async () => {
    const pc = client(1);
    const ns = script(
      json(200, '{"matches":{"id":"a"}}'),
      json(200, '{"matches":[{"id":"a","score":0.5}],"namespace":"n"}'),
    );
    const result = await pc.index({ host: server.url }).query({ vector: [1, 2], topK: 1, namespace: ns });
    await pc.close();
    expect(result).toEqual({ matches: [{ id: 'a', score: 0.5 }], namespace: 'n' });
  });
});

describe('an answer that leaves fields out', () => {
  it('gets the documented defaults, and an import without createdAt is dated at the epoch, not 2000', async () => {
    const pc = client(0);
    const index = pc.index({ host: server.url });
    expect(await index.query({ vector: [1, 2], topK: 1, namespace: script(json(200, '{}')) })).toEqual({
      matches: [],
      namespace: '',
    });
    const imp = await index.describeImport(script(json(200, '{"id":"i1"}')));
    await pc.close();
    expect(imp).toMatchObject({ id: 'i1', uri: '', status: '', percentComplete: 0, recordsImported: 0 });
    expect(imp.createdAt.getTime()).toBe(0);
  });
});
