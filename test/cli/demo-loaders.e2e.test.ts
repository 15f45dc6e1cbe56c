/**
 * `demo --loaders N`: the load split between N loaders at once, each its own client; alone
 * each learns the limit, and with `--redis` they share one budget through a real
 * redis-server (the fleet's state is in Redis afterwards). The built CLI in a child process.
 */
import { expect, it } from 'vitest';
import { describeWithRedis, inspector } from '../coordination/redis-fixture.js';
import { runCli } from './run-cli.js';

/** A small throttled demo: 60 requests against 30 req/s, split between three loaders. */
const SMALL = [
  'demo',
  '--vectors',
  '1200',
  '--dimension',
  '16',
  '--batch-size',
  '20',
  '--rps',
  '30',
  '--latency-ms',
  '20',
  '--loaders',
  '3',
  '--no-report',
  '--progress-interval',
  '1000',
];

describeWithRedis('demo with several loaders', (server) => {
  it('splits the load between loaders that each learn the limit alone', async () => {
    const run = await runCli(SMALL, { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/3 loaders at once, each its own client/);
    expect(run.stdout).toMatch(/Loaders\s+3 at once, each learning the limit alone \(no --redis\)/);
    expect(run.stdout).toMatch(/Loaders finished\s+fastest [\d.]+ s, slowest [\d.]+ s \([\d.]+×\)/);
    expect(run.stdout).toMatch(/Stored \(describeIndexStats\)\s+1,200 of 1,200/);
  });

  it('shares one budget through Redis with --redis', async () => {
    const url = server().url;
    const run = await runCli([...SMALL, '--redis', url], { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Loaders\s+3 at once, one budget shared through Redis \(--redis\)/);
    expect(run.stdout).toMatch(/Stored \(describeIndexStats\)\s+1,200 of 1,200/);
    // The loaders' fleet state: one hash for the index's host, its sends counted.
    const raw = await inspector(url);
    try {
      const keys = await raw.keys('pinecone-resilient-demo:*');
      expect(keys).toHaveLength(1);
      expect(Number((await raw.hGetAll(keys[0] as string)).sent)).toBeGreaterThan(0);
    } finally {
      raw.destroy();
    }
  });

  it('rejects a --redis that is not a redis URL before anything runs', async () => {
    const run = await runCli([...SMALL, '--redis', 'http://127.0.0.1:1'], { timeoutMs: 30_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--redis: .*redis:\/\/ or rediss:\/\//);
  });
});
