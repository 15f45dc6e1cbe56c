/**
 * The gRPC plane facing hostile calls (issue 15): filters nested past the limit (the same
 * limit and message as REST), and a call the client abandons mid-message.
 */
import http2 from 'node:http2';
import { create, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryRequestSchema } from '../../src/gen/db_data_pb.js';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { pollUntil } from './http-helpers.js';
import { frame, grpcExchange, grpcHeaders } from './raw-grpc.js';

let server: LocalServer;
let session: http2.ClientHttp2Session;

beforeAll(async () => {
  server = await startLocalServer({ indexes: [{ name: 'g', dimension: 2 }] });
  session = http2.connect(server.grpcHost('g'));
  session.on('error', () => undefined);
});
afterAll(async () => {
  session.destroy();
  await server.close();
});

const INVALID_ARGUMENT = 3;

/** A filter of the given JSON depth (objects and arrays). */
function nested(depth: number): Record<string, unknown> {
  let filter: Record<string, unknown> = { a: 1 };
  for (let d = 1; d < depth; d += 2) filter = { $and: [filter] };
  return filter;
}

function query(filter: Record<string, unknown>): Buffer {
  return frame(
    toBinary(
      QueryRequestSchema,
      // biome-ignore lint/suspicious/noExplicitAny: a Struct takes any JSON object
      create(QueryRequestSchema, { topK: 1, vector: [1, 0], filter: filter as any }),
    ),
  );
}

describe('filter depth', () => {
  it('takes filters up to the limit and refuses deeper ones with the limit named, as REST does', async () => {
    const ok = await grpcExchange(session, grpcHeaders('/VectorService/Query'), query(nested(63)));
    expect(ok.grpcStatus).toBe(0);
    for (const depth of [65, 101, 1001]) {
      const r = await grpcExchange(session, grpcHeaders('/VectorService/Query'), query(nested(depth)));
      expect(r.grpcStatus, `depth ${depth}`).toBe(INVALID_ARGUMENT);
      expect(r.grpcMessage, `depth ${depth}`).toMatch(/\b64\b/);
    }
  });
});

describe('abandoned calls', () => {
  it('counts a call whose client goes away mid-message as a client abort, not a fault', async () => {
    const before = server.stats('g');
    const own = http2.connect(server.grpcHost('g'));
    own.on('error', () => undefined);
    const stream = own.request({
      ':method': 'POST',
      te: 'trailers',
      ...grpcHeaders('/VectorService/Upsert'),
    });
    stream.on('error', () => undefined);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(1000, 1);
    stream.write(prefix);
    await new Promise((resolve) => setTimeout(resolve, 100));
    own.destroy();
    const after = await pollUntil(
      () => server.stats('g'),
      (s) => s.requests.total > before.requests.total,
    );
    expect(after.operations.upsert?.aborted ?? 0).toBe((before.operations.upsert?.aborted ?? 0) + 1);
    expect(after.requests.faulted).toBe(before.requests.faulted);
  });
});
