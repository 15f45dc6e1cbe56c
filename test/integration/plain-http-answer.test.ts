/**
 * An `https` host that speaks plain HTTP (the emulator given without `http://`) fails at
 * once, over REST and gRPC: one attempt, a `ConnectionError` with code `TLS_TO_PLAIN_HTTP`
 * saying to add `http://`, no retry sleep. A connection reset during the TLS handshake is
 * still retried. Real sockets on loopback: the emulator, and a TCP server that resets.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import { ConnectionError, TLS_TO_PLAIN_HTTP } from '../../src/errors.js';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { seededRandom } from '../../src/resilience/clock.js';
import { InstantClock } from '../helpers/clocks.js';

const KEY = 'pcsk_SECRET_plain_http_key_7';
let emulator: LocalServer;
let resetter: Server;
let resets = 0;
let clock: InstantClock;
let pc: Pinecone;

beforeAll(async () => {
  emulator = await startLocalServer({ port: 0, indexes: [{ name: 'tls', dimension: 4 }] });
  // Takes the connection, reads the ClientHello, then resets: a handshake cut short.
  resetter = createServer((socket: Socket) => {
    socket.once('data', () => {
      resets++;
      socket.resetAndDestroy();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => resetter.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await emulator?.close();
  await new Promise((resolve) => resetter?.close(resolve));
});
beforeEach(() => {
  clock = new InstantClock();
  resets = 0;
  pc = new Pinecone({ apiKey: KEY, clock, random: seededRandom(5), timeout: 5 });
});

/** `host:port` of a URL, without its scheme. */
function authority(url: string): string {
  return new URL(url).host;
}

const transports = [
  { name: 'REST', grpc: false, hostOf: (s: LocalServer) => s.indexHost('tls'), attempts: 4 },
  { name: 'gRPC', grpc: true, hostOf: (s: LocalServer) => s.grpcHost('tls'), attempts: 6 },
] as const;

describe.each(transports)('$name to an https host', ({ grpc, hostOf, attempts }) => {
  it('that answers in plain HTTP: one attempt, a typed ConnectionError naming the fix', async () => {
    const plain = authority(hostOf(emulator));
    const index = pc.index({ host: `https://${plain}`, grpc });
    const error = await index.describeIndexStats().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    const e = error as ConnectionError;
    expect(e.code).toBe(TLS_TO_PLAIN_HTTP);
    expect(e.attempts).toBe(1);
    expect(clock.sleeps).toEqual([]); // no retry was planned
    expect(e.host).toBe(plain);
    expect(e.message).toContain(`Give the host as http://${plain}`);
    expect(e.message).toContain('Not retried');
    expect(`${e.message} ${e.stack} ${String(e.cause)}`).not.toContain(KEY);
    // The same host with http:// works: the hint is right.
    await expect(pc.index({ host: `http://${plain}`, grpc }).describeIndexStats()).resolves.toMatchObject({
      dimension: 4,
    });
    await pc.close();
  });

  it('that resets the connection during the handshake: retried as before', async () => {
    const { port } = resetter.address() as { port: number };
    const index = pc.index({ host: `https://127.0.0.1:${port}`, grpc });
    const error = await index.describeIndexStats().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    const e = error as ConnectionError;
    expect(e.code).not.toBe(TLS_TO_PLAIN_HTTP);
    expect(e.attempts).toBe(attempts);
    expect(clock.sleeps).toHaveLength(attempts - 1);
    expect(resets).toBeGreaterThanOrEqual(1);
    await pc.close();
  });
});
