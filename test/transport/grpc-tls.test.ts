/**
 * gRPC over TLS to a host given as an IP address: no `DeprecationWarning` DEP0123 (grpc-js
 * used to pass the IP as the TLS server name, which RFC 6066 forbids), no SNI sent, and the
 * certificate still checked (trusted, and its IP SAN matching). A host name still sends its
 * SNI. Certificates are made here (`selfsigned`); the client runs in a child process so
 * that `NODE_EXTRA_CA_CERTS` can trust them and so that Node's once-per-process warning is
 * seen afresh.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScriptedGrpcServer, startScriptedGrpcServer } from '../helpers/scripted-grpc-server.js';

const KEY = 'pcsk_SECRET_grpc_tls_key_9';

/**
 * A self-signed server certificate for these subject alternative names. Each has its own
 * subject: OpenSSL finds a trusted issuer by subject name.
 */
async function certificate(subject: string, altNames: { type: 2 | 7; value?: string; ip?: string }[]) {
  const pems = await generate([{ name: 'commonName', value: subject }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

let dir: string;
let trusted: ScriptedGrpcServer; // SANs IP:127.0.0.1 and DNS:localhost, trusted by the client
let otherIp: ScriptedGrpcServer; // SAN IP:127.0.0.2 only, trusted
let untrusted: ScriptedGrpcServer; // SAN IP:127.0.0.1, not trusted
let caFile: string;

beforeAll(async () => {
  const [good, wrongIp, unknown] = await Promise.all([
    certificate('good', [
      { type: 7, ip: '127.0.0.1' },
      { type: 2, value: 'localhost' },
    ]),
    certificate('other ip', [{ type: 7, ip: '127.0.0.2' }]),
    certificate('untrusted', [{ type: 7, ip: '127.0.0.1' }]),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'pinecone-grpc-tls-'));
  caFile = join(dir, 'trusted.pem');
  writeFileSync(caFile, `${good.cert}\n${wrongIp.cert}\n`); // selfsigned's PEM has no final newline
  [trusted, otherIp, untrusted] = await Promise.all([
    startScriptedGrpcServer({}, { tls: good }),
    startScriptedGrpcServer({}, { tls: wrongIp }),
    startScriptedGrpcServer({}, { tls: unknown }),
  ]);
}, 30_000);
afterAll(async () => {
  await Promise.all([trusted?.close(), otherIp?.close(), untrusted?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What the child saw: each host's outcome, and every process warning's code. */
interface ChildReport {
  results: { ok: boolean; name?: string; message?: string }[];
  warnings: string[];
}

/**
 * One `describeIndexStats` attempt per host through `GrpcTransport`, in a fresh process
 * that trusts the certificates of `caFile` through `roots`: Node's `NODE_EXTRA_CA_CERTS`, or
 * gRPC's `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` (which replaces Node's store for grpc-js).
 */
function callFromChild(
  hosts: string[],
  roots: 'NODE_EXTRA_CA_CERTS' | 'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH',
): Promise<ChildReport> {
  const transport = new URL('../../src/transport/grpc.ts', import.meta.url).href;
  const gen = new URL('../../src/gen/db_data_pb.ts', import.meta.url).href;
  const script = `
    const warnings = [];
    process.on('warning', (w) => warnings.push(w.code ?? w.name));
    const { GrpcTransport, grpcMethod } = await import(${JSON.stringify(transport)});
    const { VectorService } = await import(${JSON.stringify(gen)});
    const method = grpcMethod(VectorService.method.describeIndexStats);
    const results = [];
    for (const host of ${JSON.stringify(hosts)}) {
      const t = new GrpcTransport({ host, apiKey: ${JSON.stringify(KEY)} });
      try {
        await t.unary(method, new Uint8Array(0), { attempt: 1, timeout: 10 });
        results.push({ ok: true });
      } catch (e) {
        results.push({ ok: false, name: e.name, message: e.message });
      }
      t.close();
    }
    await new Promise((r) => setTimeout(r, 50)); // warnings are emitted on a later tick
    console.log(JSON.stringify({ results, warnings }));
  `;
  const { NODE_EXTRA_CA_CERTS: _n, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: _g, ...env } = process.env;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: process.cwd(), timeout: 30_000, env: { ...env, [roots]: caFile } },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(stderr || String(error)))
          : resolve(JSON.parse(stdout.trim().split('\n').pop()!)),
    );
  });
}

describe.each(['NODE_EXTRA_CA_CERTS', 'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH'] as const)(
  'gRPC over TLS, roots from %s',
  (roots) => {
    beforeAll(() => {
      trusted.servernames.length = 0;
      trusted.calls.length = 0;
    });

    it('to an IP address: connects without SNI and without DEP0123; certificates still checked', async () => {
      const port = (s: ScriptedGrpcServer) => new URL(s.url).port;
      const report = await callFromChild(
        [
          trusted.url, // https://127.0.0.1:PORT
          `https://localhost:${port(trusted)}`,
          otherIp.url,
          untrusted.url,
        ],
        roots,
      );
      const [byIp, byName, wrongIp, notTrusted] = report.results;
      expect(report.warnings).not.toContain('DEP0123');
      expect(byIp).toEqual({ ok: true });
      expect(byName).toEqual({ ok: true });
      // The server saw no server name from the IP connection, and the name from the named one.
      expect(trusted.servernames).toEqual([false, 'localhost']);
      expect(trusted.calls).toHaveLength(2);
      // An IP the certificate does not list, and a certificate nobody vouches for, fail.
      expect(wrongIp).toMatchObject({ ok: false, name: 'ConnectionError' });
      expect(wrongIp!.message).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);
      expect(notTrusted).toMatchObject({ ok: false, name: 'ConnectionError' });
      expect(notTrusted!.message).toMatch(/self[- ]signed certificate/);
      expect(otherIp.calls).toHaveLength(0);
      expect(untrusted.calls).toHaveLength(0);
      for (const r of report.results) expect(r.message ?? '').not.toContain(KEY);
    }, 40_000);
  },
);
