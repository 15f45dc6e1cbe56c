/**
 * Timeouts and connection caps on every port (issue 15): a client that connects and says
 * nothing, trickles its headers, or never finishes its body is cut off with a 408 (gRPC:
 * DEADLINE_EXCEEDED) and frees its in-flight slot; connections past the cap are closed.
 * The timeouts here are tiny so the tests are quick; the bounds asserted are generous.
 */
import http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { call, pollUntil } from './http-helpers.js';
import { head, hostPort, rawExchange } from './raw-http.js';

let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer({
    indexes: [{ name: 'slow', dimension: 2 }],
    headersTimeoutMs: 300,
    requestTimeoutMs: 600,
    idleTimeoutMs: 600,
    maxConnections: 4,
    faults: { maxInFlight: 1 },
  });
});
afterAll(async () => {
  await server.close();
});

/** Ports that speak HTTP/1.1: the controller and the index's REST host (which also takes gRPC). */
const httpPorts = () => [
  ['controller', server.controllerHost],
  ['index', server.indexHost('slow')],
];

/** How long a test waits for the server to act on a sub-second timeout before calling it stuck. */
const PATIENCE_MS = 8000;

describe('HTTP timeouts', () => {
  it('closes a connection that never sends a byte', async () => {
    for (const [name, base] of httpPorts()) {
      const r = await rawExchange(base!, '', { waitMs: PATIENCE_MS, untilResponse: false });
      expect(r.closed, name).toBe(true);
    }
  });

  it('answers 408 to headers that trickle in and never end', async () => {
    for (const [name, base] of httpPorts()) {
      const r = await rawExchange(base!, 'GET /describe_index_stats HTTP/1.1\r\nHost: 127.0.0.1\r\n', {
        waitMs: PATIENCE_MS,
        untilResponse: false,
      });
      expect(r.closed, name).toBe(true);
      expect(r.status, name).toBe(408);
    }
  });

  it('answers 408 to a body that never arrives in full, and frees its in-flight slot', async () => {
    const base = server.indexHost('slow');
    const r = await rawExchange(
      base,
      head('POST', '/vectors/upsert', base, { 'content-type': 'application/json', 'content-length': '1000' }),
      { body: '{"vectors":[', waitMs: PATIENCE_MS, untilResponse: false },
    );
    expect(r.closed).toBe(true);
    expect(r.status).toBe(408);
    expect(r.json).toMatchObject({ details: [] });
    // The server counts the request out once it sees the connection gone.
    const stats = await pollUntil(
      () => server.stats('slow'),
      (s) => s.inFlight.current === 0,
    );
    expect(stats.inFlight.current).toBe(0);
    expect(server.stats('slow').operations.upsert?.['408']).toBe(1);
    // maxInFlight is 1: the slot is free again.
    expect((await call(base, 'GET', '/describe_index_stats')).status).toBe(200);
    const ctl = server.controllerHost;
    const c = await rawExchange(
      ctl,
      head('POST', '/indexes', ctl, { 'content-type': 'application/json', 'content-length': '1000' }),
      { body: '{"name":', waitMs: PATIENCE_MS, untilResponse: false },
    );
    expect(c.status).toBe(408);
    expect(c.json).toMatchObject({ status: 408, error: { code: expect.any(String) } });
  });
});

/** Connect; resolves once connected, or once the connection ended (refused, closed at once). */
function openSocket(base: string): Promise<Socket> {
  const { host, port } = hostPort(base);
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(socket));
  });
}

function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

describe('connection caps', () => {
  it('closes connections past maxConnections at once, on every port', async () => {
    const ports = [...httpPorts(), ['grpc', server.grpcHost('slow')]];
    for (const [name, base] of ports) {
      const held = await Promise.all(Array.from({ length: 4 }, () => openSocket(base!)));
      try {
        const extra = await openSocket(base!);
        expect(await closedWithin(extra, 2000), `${name}: the fifth connection`).toBe(true);
        // The first four are still served (the sniffing and header timeouts are longer than this).
        expect(
          held.every((s) => !s.destroyed),
          name,
        ).toBe(true);
      } finally {
        for (const s of held) s.destroy();
      }
    }
    // Once the server has seen them go, new connections are served again.
    const status = await pollUntil(
      () =>
        call(server.indexHost('slow'), 'GET', '/describe_index_stats').then(
          (r) => r.status,
          () => 0,
        ),
      (s) => s === 200,
      40,
      50,
    );
    expect(status).toBe(200);
  });
});

describe('gRPC timeouts', () => {
  for (const which of ['grpc', 'index'] as const) {
    const base = () => (which === 'grpc' ? server.grpcHost('slow') : server.indexHost('slow'));

    it(`closes an idle HTTP/2 session (${which} port)`, async () => {
      const session = http2.connect(base());
      session.on('error', () => undefined);
      const closed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), PATIENCE_MS);
        session.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      session.destroy();
      expect(closed).toBe(true);
    });

    it(`answers DEADLINE_EXCEEDED to a message that never arrives in full (${which} port)`, async () => {
      const session = http2.connect(base());
      session.on('error', () => undefined);
      try {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/VectorService/Upsert',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.on('error', () => undefined);
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(100, 1);
        stream.write(Buffer.concat([prefix, Buffer.alloc(10)]));
        const status = await new Promise<string | undefined>((resolve) => {
          const timer = setTimeout(() => resolve('none'), PATIENCE_MS);
          const done = (value: string | undefined) => {
            clearTimeout(timer);
            resolve(value);
          };
          stream.on('response', (headers) => {
            if (headers['grpc-status'] !== undefined) done(String(headers['grpc-status']));
          });
          stream.on('trailers', (trailers) => done(String(trailers['grpc-status'])));
          stream.on('close', () => done(undefined));
        });
        expect(status).toBe('4');
        expect(server.stats('slow').inFlight.current).toBe(0);
      } finally {
        session.destroy();
      }
    });
  }
});
