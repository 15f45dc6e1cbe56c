/**
 * Importing the SDK loads no Redis client: `@redis/client` is an optional peer dependency,
 * imported only when a coordinator connects. Runs the built package (`npm test` builds
 * first) in a child process whose module resolution refuses every Redis package.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FORBID = join(import.meta.dirname, 'fixtures', 'forbid-redis.mjs');

function runModule(code: string): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does it)');
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', FORBID, '--input-type=module', '-e', code],
      { cwd: ROOT, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

it('importing pinecone-resilient and using a client loads no Redis module', async () => {
  const run = await runModule(`
    const { Pinecone, redisCoordinator } = await import('pinecone-resilient');
    const pc = new Pinecone({ apiKey: 'k' });
    redisCoordinator({ url: 'redis://127.0.0.1:9' }); // created, never attached or used
    await pc.close();
    console.log(typeof redisCoordinator);
  `);
  expect(run.stderr).toBe('');
  expect(run).toMatchObject({ code: 0, stdout: 'function\n' });
});

it('(control) a coordinator that connects does import @redis/client, and says how to install it', async () => {
  const run = await runModule(`
    const { redisCoordinator } = await import('pinecone-resilient');
    const records = [];
    const logger = { debug() {}, info() {}, warn: (message) => records.push(message) };
    const coordinator = redisCoordinator({ url: 'redis://127.0.0.1:9', logger });
    console.log(await coordinator.ready(), records.join('|'));
  `);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('false');
  expect(run.stdout).toContain('npm install @redis/client');
});
