/**
 * What the gRPC response fuzzer (`test/fuzz/`) found, one test per bug, each failing
 * before its fix: scripted answers from a loopback HTTP/2 server, the SDK's real
 * `GrpcIndex`.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, ServerError } from '../../src/errors.js';
import { GrpcIndex } from '../../src/grpc.js';
import { seededRandom } from '../../src/resilience/clock.js';
import { InstantClock } from '../helpers/clocks.js';
import { type ScriptedGrpcServer, startScriptedGrpcServer } from '../helpers/scripted-grpc-server.js';

const KEY = 'pcsk_SECRET_grpc_fuzz_789';
let server: ScriptedGrpcServer;

beforeAll(async () => {
  server = await startScriptedGrpcServer();
});
afterAll(async () => {
  await server.close();
});

function index(maxRetries: number) {
  return new GrpcIndex({
    host: server.url,
    apiKey: KEY,
    maxRetries,
    clock: new InstantClock(),
    random: seededRandom(1),
    timeout: 2,
  });
}

describe('an OK upsert answer whose count is not the batch’s', () => {
  it('(an empty message, read as upsertedCount 0) confirms nothing: the batch is failed, not lost from the accounting', async () => {
    // The scripted server answers OK with an empty UpsertResponse.
    server.fallback = {};
    const grpc = index(1);
    const vectors = [
      { id: 'a', values: [1, 2] },
      { id: 'b', values: [3, 4] },
    ];
    const error = (await grpc.upsert({ vectors }).catch((e) => e)) as ConnectionError;
    await grpc.close();
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: 'BAD_BODY', attempts: 2, upsertedCount: 0 });
    expect(error.failedVectors).toEqual(vectors);
    expect(error.message).toContain('upsertedCount 0 for 2 records');
    expect(inspect(error)).not.toContain(KEY);
  });
});

describe('a status that is no gRPC code', () => {
  it.each(['abc', '-1', '99'])(
    '(grpc-status: %s) is UNKNOWN, a ServerError 500, not retried',
    async (status) => {
      server.fallback = { code: 2, message: 'odd', trailers: { 'grpc-status': status } };
      const grpc = index(1);
      const error = (await grpc.query({ vector: [1, 2], topK: 1 }).catch((e) => e)) as ServerError;
      await grpc.close();
      expect(error).toBeInstanceOf(ServerError);
      expect(error).toMatchObject({ grpcCode: 'UNKNOWN', status: 500, attempts: 1 });
      expect(error.message).toContain('UNKNOWN');
    },
  );
});
