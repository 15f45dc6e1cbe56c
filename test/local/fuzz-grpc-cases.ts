/**
 * What the fuzz suite throws at the emulator's gRPC plane (fast-check arbitraries): any
 * path, method and content type; messages of each method's schema built from random
 * fields (those of `fuzz-cases.ts`), random bytes, broken framing, deep filters.
 */
import { type DescMessage, fromJson, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import {
  DeleteRequestSchema,
  DescribeIndexStatsRequestSchema,
  FetchRequestSchema,
  ListRequestSchema,
  QueryRequestSchema,
  UpdateRequestSchema,
  UpsertRequestSchema,
} from '../../src/gen/db_data_pb.js';
import { dataField, FUZZ_API_KEY, objectOf } from './fuzz-cases.js';
import { frame } from './raw-grpc.js';

/** One gRPC call. */
export interface GrpcCase {
  path: string;
  method: string;
  contentType: string | undefined;
  apiKey: string | undefined;
  /** The request body (hex, so a printed counterexample is readable and exact). */
  bodyHex: string;
}

/** The gRPC methods with their request schemas (for well-formed messages of random content). */
const RPC_SCHEMAS: Record<string, DescMessage> = {
  '/VectorService/Upsert': UpsertRequestSchema,
  '/VectorService/Query': QueryRequestSchema,
  '/VectorService/Fetch': FetchRequestSchema,
  '/VectorService/Delete': DeleteRequestSchema,
  '/VectorService/Update': UpdateRequestSchema,
  '/VectorService/DescribeIndexStats': DescribeIndexStatsRequestSchema,
  '/VectorService/List': ListRequestSchema,
};

const RPC_PATHS = Object.keys(RPC_SCHEMAS);

/** A message of the method's schema from random JSON fields; random bytes when protobuf refuses them. */
function encodeRandom(path: string, json: string, fallback: Uint8Array): Uint8Array {
  const schema = RPC_SCHEMAS[path]!;
  try {
    return toBinary(
      schema,
      fromJson(schema, JSON.parse(json), { ignoreUnknownFields: true, recursionLimit: 1e6 }),
    );
  } catch {
    return fallback;
  }
}

/** Cases for the gRPC plane. */
export const grpcCase: fc.Arbitrary<GrpcCase> = fc
  .record({
    path: fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom(...RPC_PATHS) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '/VectorService/Nope',
          '/',
          '/x/y',
          '/VectorService/__proto__',
          '/constructor',
          '/VectorService/Upsert/',
        ),
      },
    ),
    method: fc.constantFrom(...Array(20).fill('POST'), 'GET', 'PUT'),
    contentType: fc.constantFrom(
      ...Array(16).fill('application/grpc'),
      'application/grpc+proto',
      'application/json',
      undefined,
    ),
    apiKey: fc.constantFrom(...Array(8).fill(FUZZ_API_KEY), 'wrong', undefined),
    json: objectOf(dataField),
    random: fc.uint8Array({ maxLength: 64 }),
    shape: fc.constantFrom(
      'message',
      'message',
      'message',
      'message',
      'random',
      'raw',
      'compressed',
      'short',
      'long',
      'empty',
      'two',
      'deep',
    ),
    depth: fc.integer({ min: 60, max: 2000 }),
  })
  .map(({ path, method, contentType, apiKey, json, random, shape, depth }): GrpcCase => {
    const rpc = RPC_PATHS.includes(path) ? path : '/VectorService/Query';
    const message = encodeRandom(rpc, json, random);
    let body: Buffer;
    switch (shape) {
      case 'message':
        body = frame(message);
        break;
      case 'random':
        body = frame(random);
        break;
      case 'raw':
        body = Buffer.from(random);
        break;
      case 'compressed':
        body = frame(message, 1);
        break;
      case 'short':
        body = frame(message).subarray(0, Math.max(0, 5 + (message.length >> 1)));
        break;
      case 'long':
        body = Buffer.concat([frame(message), Buffer.from([1, 2, 3])]);
        break;
      case 'two':
        body = Buffer.concat([frame(message), frame(message)]);
        break;
      case 'deep': {
        const filter = `${'{"$and":['.repeat(depth)}{"a":1}${']}'.repeat(depth)}`;
        body = frame(
          encodeRandom('/VectorService/Query', `{"topK":1,"vector":[1,0,0,0],"filter":${filter}}`, random),
        );
        break;
      }
      default:
        body = Buffer.alloc(0);
    }
    return { path, method, contentType, apiKey, bodyHex: body.toString('hex') };
  });
