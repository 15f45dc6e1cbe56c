/**
 * What the CLI says when a new user gets something slightly wrong: the built CLI in a child
 * process against the emulator on loopback. Each message names the mistake and the fix,
 * instead of a library's internals.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { runCli } from './run-cli.js';

const env = { PINECONE_API_KEY: 'test-key' };
let server: LocalServer;
let host: string; // http://127.0.0.1:<port>

beforeAll(async () => {
  server = await startLocalServer({ port: 0, seed: 3, indexes: [{ name: 'hints', dimension: 4 }] });
  host = server.indexHost('hints');
  const pc = new Pinecone({ apiKey: 'test-key', controllerHost: server.controllerHost });
  await pc.index({ host }).upsert({ vectors: [{ id: 'a', values: [1, 0, 0, 0] }] });
  await pc.close();
});
afterAll(async () => {
  await server?.close();
});

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('CLI hints', () => {
  it('an https request to the plain-HTTP emulator says to add http://, after one attempt, not OpenSSL internals', async () => {
    const bare = host.replace('http://', '');
    for (const transport of [[], ['--grpc']]) {
      // Default retries: the wrong scheme is not retried, so one attempt (it used to be 4, or 6 over gRPC).
      const run = await runCli(['stats', '--host', bare, ...transport], { env });
      expect(run.stderr).toContain(
        `${bare} answered an https request in plain HTTP (after 1 attempt: not retried`,
      );
      expect(run.stderr).toContain(`add http:// to the host, e.g. http://${bare}`);
      expect(run.stderr).not.toMatch(/ssl3_get_record|SSL routines|openssl/i);
      // A wrong scheme never passes on a retry: a usage error.
      expect(run.code).toBe(2);
    }
  });

  it('a refused connection says how many attempts were made and what to check', async () => {
    const port = await closedPort();
    for (const transport of [[], ['--grpc']]) {
      const run = await runCli(
        ['stats', '--host', `http://127.0.0.1:${port}`, '--max-retries', '1', ...transport],
        { env },
      );
      expect(run.stderr).toContain(
        `Could not connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED), after 2 attempts`,
      );
      expect(run.stderr).toContain('is the server (e.g. `pinecone-resilient serve`) running');
      expect(run.code).toBe(1);
    }
  });

  it('query --id of a record that does not exist says so and exits 2', async () => {
    for (const transport of [[], ['--grpc']]) {
      const run = await runCli(['query', '--host', host, '--id', 'nosuch', ...transport], { env });
      expect(run.stderr).toContain('no record with id "nosuch" in namespace ""');
      expect(run.stdout).toBe('');
      expect(run.code).toBe(2);
    }
    const found = await runCli(['query', '--host', host, '--id', 'a'], { env });
    expect(found.stdout).toMatch(/^1 +a +1\.000000$/m);
    expect(found.code).toBe(0);
    // A record that exists but that a filter excludes is no error: just no matches.
    const filtered = await runCli(['query', '--host', host, '--id', 'a', '--filter', '{"g":{"$eq":"x"}}'], {
      env,
    });
    expect(filtered.stdout).toMatch(/^No matches/);
    expect(filtered.code).toBe(0);
  });

  it('serve on a port already taken suggests --port 0', async () => {
    const port = Number(new URL(server.controllerHost).port);
    const run = await runCli(['serve', '--port', String(port)], { timeoutMs: 15_000 });
    expect(run.stderr).toContain(`127.0.0.1:${port} is already in use (EADDRINUSE)`);
    expect(run.stderr).toContain('Use --port 0 for any free ports');
    expect(run.code).toBe(2);
  });

  it('serve with fault flags that cannot hold prints why (it used to exit 2 silently)', async () => {
    const run = await runCli(['serve', '--port', '0', '--error-500', '0.9', '--error-503', '0.9'], {
      timeoutMs: 15_000,
    });
    expect(run.stderr).toMatch(/^error: faults: .*add up to 1\.8 > 1/m);
    expect(run.code).toBe(2);
  });
});
