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
