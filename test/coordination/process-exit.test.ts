/**
 * A process using a coordinator exits by itself: after `close()`, without it, and while
 * Redis is away (refused, or frozen and never answering): no socket, timer or reconnect
 * loop holds it open.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { freePort } from '../helpers/redis-server.js';
import { describeWithRedis } from './redis-fixture.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'exit-child.ts');
const EXIT_WITHIN_MS = 15_000;

/** Run the child; resolves with its exit code, signal and stdout (killed if it outstays). */
function runChild(scenario: string, url: string) {
  return new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, scenario, url], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += String(chunk);
      });
      child.stderr.on('data', (chunk) => {
        stderr += String(chunk);
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_WITHIN_MS);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    },
  );
}

describeWithRedis('a process using a coordinator exits by itself', (server) => {
  it('after close()', async () => {
    const run = await runChild('close', server().url);
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(JSON.parse(run.stdout)).toEqual({ joined: true, accepted: true, slots: 2 });
  });

  it('without close(), connection still open', async () => {
    const run = await runChild('no-close', server().url);
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(JSON.parse(run.stdout)).toEqual({ joined: true, accepted: true, slots: 2 });
  });

  it('while the server is frozen and never answers', async () => {
    server().freeze();
    try {
      const run = await runChild('no-close', server().url);
      expect(run).toMatchObject({ code: 0, signal: null });
      expect(JSON.parse(run.stdout)).toEqual({ joined: false });
    } finally {
      server().thaw();
    }
  });
});

it('a process exits by itself while Redis refuses connections and probes run', async () => {
  const run = await runChild('no-close', `redis://127.0.0.1:${await freePort()}`);
  expect(run).toMatchObject({ code: 0, signal: null });
  expect(JSON.parse(run.stdout)).toEqual({ joined: false });
});
