/** `pinecone-resilient serve`: flag parsing, and the real command in a child process. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  exposureWarning,
  faultsFromFlags,
  parseIndexSpec,
  type ServeFlags,
  serverOptionsFromFlags,
  startFromFlags,
} from '../../src/cli/serve.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const base: ServeFlags = { port: 0, host: '127.0.0.1', index: [] };

describe('serve flags', () => {
  it('parses --index specs', () => {
    expect(parseIndexSpec('demo:8')).toEqual([{ name: 'demo', dimension: 8, metric: 'cosine' }]);
    expect(parseIndexSpec('e:3:euclidean', [{ name: 'a', dimension: 1 }])).toEqual([
      { name: 'a', dimension: 1 },
      { name: 'e', dimension: 3, metric: 'euclidean' },
    ]);
    expect(parseIndexSpec('s:sparse')).toEqual([{ name: 's', vectorType: 'sparse', metric: 'dotproduct' }]);
    for (const bad of ['demo', 'demo:0', 'demo:8:hamming', 'a:b:c:d', ':8']) {
      expect(() => parseIndexSpec(bad)).toThrow(InvalidArgumentError);
    }
  });

  it('maps every fault flag onto the fault config', () => {
    expect(
      faultsFromFlags({
        ...base,
        rps: 50,
        burst: 5,
        retryAfter: 1,
        maxInFlight: 4,
        error500: 0.01,
        error502: 0.02,
        error503: 0.03,
        error504: 0.04,
        latencyMs: 10,
        jitterMs: 5,
        resetRate: 0.05,
        truncateRate: 0.06,
        malformedRate: 0.07,
        faultOps: ['upsert', 'query'],
      }),
    ).toEqual({
      rateLimit: { rps: 50, burst: 5, retryAfterSeconds: 1 },
      maxInFlight: 4,
      errorRates: { 500: 0.01, 502: 0.02, 503: 0.03, 504: 0.04 },
      latency: { fixedMs: 10, jitterMs: 5 },
      resetRate: 0.05,
      truncateRate: 0.06,
      malformedRate: 0.07,
      operations: ['upsert', 'query'],
    });
    expect(
      faultsFromFlags({
        ...base,
        error429: 0.1,
        errorRetryAfter: 1,
        errorRetryAfterShare: 0.5,
        hangRate: 0.02,
        resetAfterWriteRate: 0.03,
        slowBodyRate: 0.04,
        slowBodyMs: 500,
      }),
    ).toEqual({
      errorRates: { 429: 0.1 },
      errorRetryAfter: { seconds: 1, share: 0.5 },
      hangRate: 0.02,
      resetAfterWriteRate: 0.03,
      slowBodyRate: 0.04,
      slowBodyMs: 500,
    });
    expect(faultsFromFlags(base)).toEqual({});
    expect(() => faultsFromFlags({ ...base, resetRate: 0.7, error500: 0.7 })).toThrow(/add up/);
  });
});

describe('serve security and limit flags', () => {
  it('maps them onto the emulator options, leaving out what was not given', () => {
    expect(
      serverOptionsFromFlags({
        ...base,
        apiKey: 'k',
        adminKey: 'a',
        allowedHost: ['pinecone.test', 'alias.test'],
        maxBodyBytes: 1000,
        headersTimeoutMs: 100,
        requestTimeoutMs: 200,
        idleTimeoutMs: 300,
        maxConnections: 7,
      }),
    ).toEqual({
      port: 0,
      host: '127.0.0.1',
      indexes: [],
      faults: {},
      apiKey: 'k',
      adminKey: 'a',
      allowedHosts: ['pinecone.test', 'alias.test'],
      maxBodyBytes: 1000,
      headersTimeoutMs: 100,
      requestTimeoutMs: 200,
      idleTimeoutMs: 300,
      maxConnections: 7,
    });
    expect(serverOptionsFromFlags(base)).toEqual({ port: 0, host: '127.0.0.1', indexes: [], faults: {} });
  });

  it('warns about a bind beyond loopback without an API key', () => {
    expect(exposureWarning(base)).toBeUndefined();
    expect(exposureWarning({ ...base, host: '0.0.0.0', apiKey: 'k' })).toBeUndefined();
    expect(exposureWarning({ ...base, host: '0.0.0.0' })).toMatch(/without --api-key/);
  });

  it('refuses a headers timeout longer than the request timeout as a usage error', async () => {
    // A CliError: main prints its message and exits 2 (commander's own errors print nothing there).
    await expect(
      startFromFlags({ ...base, headersTimeoutMs: 500, requestTimeoutMs: 100 }),
    ).rejects.toMatchObject({ name: 'CliError', exitCode: 2, message: expect.stringMatching(/must/) });
  });
});

describe('serve command', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('prints its hosts, serves, and exits 0 on %s', async (signal) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'serve',
        '--port',
        '0',
        '--json',
        '-i',
        'demo:4',
        '--rps',
        '25',
        '--seed',
        '5',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, 'line')) as [string];
      const info = JSON.parse(first) as {
        controllerHost: string;
        indexes: Record<string, string>;
        seed: number;
      };
      expect(info.seed).toBe(5);
      expect(info.controllerHost).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const faults = await (await fetch(`${info.controllerHost}/admin/indexes/demo/faults`)).json();
      expect(faults).toEqual({ rateLimit: { rps: 25 } });
      const stats = await fetch(`${info.indexes.demo}/describe_index_stats`);
      expect(stats.status).toBe(200);
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
      expect(stderr).toMatch(/Shutting down/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
