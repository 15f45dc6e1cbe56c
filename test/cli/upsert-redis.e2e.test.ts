/**
 * `upsert --redis`: loaders given the same Redis connect to it and still load everything;
 * an unreachable Redis is a warning, not a failure (fail-open); a bad URL is a usage error
 * that does not echo its password; the resume command keeps `--redis`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { describeWithRedis, inspector } from '../coordination/redis-fixture.js';
import { freePort } from '../helpers/redis-server.js';
import { resumeCommand, runCli } from './run-cli.js';

const DIM = 4;
const env = { PINECONE_API_KEY: 'test-key' };
let server: LocalServer;
let dir: string;

beforeAll(async () => {
  server = await startLocalServer({ port: 0, seed: 3 });
  dir = await mkdtemp(join(tmpdir(), 'cli-redis-'));
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function dataset(name: string, from: number, count: number, extra = ''): Promise<string> {
  const lines = Array.from({ length: count }, (_, k) =>
    JSON.stringify({ id: `v${from + k}`, values: [from + k, 1, 2, 3] }),
  );
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n${extra}`);
  return path;
}

describeWithRedis('upsert --redis', (redis) => {
  it('runs several loaders on one Redis; each connects, everything is stored', async () => {
    await server.createIndex({ name: 'shared', dimension: DIM, metric: 'cosine' });
    const host = server.indexHost('shared');
    const raw = await inspector(redis().url);
    const connections = async () =>
      Number(/total_connections_received:(\d+)/.exec(await raw.info('stats'))?.[1]);
    const before = await connections();
    const runs = await Promise.all(
      [0, 1, 2].map(async (i) =>
        runCli(
          [
            'upsert',
            '--host',
            host,
            '--file',
            await dataset(`part-${i}.jsonl`, i * 300, 300),
            '--redis',
            redis().url,
          ],
          {
            env,
          },
        ),
      ),
    );
    for (const run of runs) {
      expect(run.stderr).not.toContain('warning');
      expect(run.code).toBe(0);
    }
    expect(await connections()).toBeGreaterThanOrEqual(before + 3);
    expect((await server.stats('shared')).vectors.total).toBe(900);
    raw.destroy();
  });

  it('repeats --redis in the resume command', async () => {
    await server.createIndex({ name: 'resume', dimension: DIM, metric: 'cosine' });
    const file = await dataset('bad.jsonl', 0, 20, '{"id": "broken"\n');
    const run = await runCli(
      ['upsert', '--host', server.indexHost('resume'), '--file', file, '--redis', redis().url],
      {
        env,
      },
    );
    expect(run.code).toBe(2);
    const words = resumeCommand(run.stderr);
    expect(words.slice(words.indexOf('--redis'), words.indexOf('--redis') + 2)).toEqual([
      '--redis',
      redis().url,
    ]);
  });
});

it('upsert --redis with nothing listening warns and loads everything per process', async () => {
  await server.createIndex({ name: 'alone', dimension: DIM, metric: 'cosine' });
  const url = `redis://127.0.0.1:${await freePort()}`;
  const run = await runCli(
    [
      'upsert',
      '--host',
      server.indexHost('alone'),
      '--file',
      await dataset('alone.jsonl', 0, 200),
      '--redis',
      url,
    ],
    { env },
  );
  expect(run.code).toBe(0);
  expect(run.stderr).toContain(`warning: Coordination store ${url} unavailable`);
  expect((await server.stats('alone')).vectors.total).toBe(200);
});

it('upsert --redis with a URL that is not redis:// is a usage error that keeps the password out', async () => {
  const run = await runCli(
    [
      'upsert',
      '--host',
      server.indexHost('alone'),
      '--file',
      join(dir, 'alone.jsonl'),
      '--redis',
      'http://u:s3cret-pw@h:1',
    ],
    { env },
  );
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('--redis: redisCoordinator: url must be a redis:// or rediss:// URL');
  expect(run.stderr).not.toContain('s3cret-pw');
});
