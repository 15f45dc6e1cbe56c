/**
 * The `upsert`, `query` and `stats` commands end to end: the built CLI in a child process
 * against the emulator on loopback. The emulator's own view (its stats and `list`) is the
 * referee of what was written.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pinecone } from '../../src/client.js';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { resumeCommand, runCli, runPrinted } from './run-cli.js';

const DIM = 8;
const env = { PINECONE_API_KEY: 'test-key' };
let server: LocalServer;
let dir: string;
let pc: Pinecone;

beforeAll(async () => {
  server = await startLocalServer({ port: 0, seed: 7 });
  dir = await mkdtemp(join(tmpdir(), 'cli-e2e-'));
  pc = new Pinecone({ apiKey: 'test-key', controllerHost: server.controllerHost });
});
afterAll(async () => {
  await pc?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

function record(i: number): string {
  const values = Array.from({ length: DIM }, (_, d) => Math.round(Math.sin(i * 7 + d) * 1000) / 1000);
  return JSON.stringify({ id: `v${i}`, values, metadata: { group: `g${i % 3}`, i } });
}

async function dataset(name: string, count: number, transform?: (line: string, i: number) => string) {
  const lines = Array.from({ length: count }, (_, i) => (transform ? transform(record(i), i) : record(i)));
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return { path, lines };
}

async function storedIds(index: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of pc.index({ host: server.indexHost(index) }).list()) ids.push(id);
  return ids.sort();
}

async function fileIds(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { id: string }).id)
    .sort();
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => `v${from + k}`).sort();

describe('upsert', () => {
  it('loads a JSON Lines file; query and stats read it back (by --host and by --index)', async () => {
    await server.createIndex({ name: 'plain', dimension: DIM, metric: 'cosine' });
    const { path } = await dataset('plain.jsonl', 500);
    const host = server.indexHost('plain');
    const run = await runCli(
      ['upsert', '--host', host, '--file', path, '--batch-size', '40', '--progress-interval', '100'],
      { env },
    );
    expect(run.stderr).toMatch(/\[upsert\] 500\/500 \(100%\) vectors/);
    expect(run.stdout).toMatch(/^Upserted 500 vectors in /);
    expect(run.code).toBe(0);
    expect(await storedIds('plain')).toEqual(ids(0, 500));

    const query = await runCli(
      ['query', '--host', host, '--id', 'v42', '--top-k', '3', '--include-metadata', '--json'],
      { env },
    );
    expect(query.code).toBe(0);
    const response = JSON.parse(query.stdout) as { matches: { id: string; metadata: unknown }[] };
    expect(response.matches[0]).toMatchObject({ id: 'v42', metadata: { group: 'g0', i: 42 } });

    const table = await runCli(
      [
        'query',
        '--host',
        host,
        '--vector',
        JSON.stringify(JSON.parse(record(7)).values),
        '--filter',
        '{"group":"g1"}',
        '--include-metadata',
      ],
      { env },
    );
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^\s*#\s+id\s+score\s+metadata/);
    expect(table.stdout).toMatch(/1\s+v7\s+1\.0000/);

    const stats = await runCli(
      ['stats', '--index', 'plain', '--controller-host', server.controllerHost, '--json'],
      { env },
    );
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ dimension: DIM, totalVectorCount: 500 });
    const human = await runCli(['stats', '--index', 'plain'], {
      env: { ...env, PINECONE_CONTROLLER_HOST: server.controllerHost },
    });
    expect(human.stdout).toMatch(/records\s+500/);
  });

  it('stops at a malformed line: names it, exit 2, everything before it stored, it and the rest in the resume file', async () => {
    await server.createIndex({ name: 'malformed', dimension: DIM, metric: 'cosine' });
    const bad = '{"id": "v136", "values": [0.1, 0.2';
    const { path, lines } = await dataset('malformed.jsonl', 250, (line, i) => (i === 136 ? bad : line));
    const resume = join(dir, 'malformed.resume.jsonl');
    const run = await runCli(
      [
        'upsert',
        '--host',
        server.indexHost('malformed'),
        '--file',
        path,
        '--batch-size',
        '10',
        '--resume-file',
        resume,
      ],
      { env },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: ${path} line 137: not valid JSON`);
    expect(run.stderr).toMatch(/136 vectors were written: every record before line 137/);
    expect(await storedIds('malformed')).toEqual(ids(0, 136));
    // The bad line verbatim first (to fix in place), then the unread rest: nothing lost.
    expect((await readFile(resume, 'utf8')).split('\n')).toEqual([...lines.slice(136), '']);

    // Fix the line in the resume file and run the printed command: the load completes.
    await writeFile(resume, (await readFile(resume, 'utf8')).replace(bad, record(136)));
    const again = await runPrinted(resumeCommand(run.stderr), { env });
    expect(again.code).toBe(0);
    expect(await storedIds('malformed')).toEqual(ids(0, 250));
  });

  it('after an injected failure writes exactly the missing vectors; the printed command completes the load', async () => {
    await server.createIndex({ name: 'faulty', dimension: DIM, metric: 'cosine' });
    await server.setFaults('faulty', { errorRates: { 500: 0.15 }, operations: ['upsert'], seed: 3 });
    const { path } = await dataset('faulty.jsonl', 1000);
    const run = await runCli(
      [
        'upsert',
        '--host',
        server.indexHost('faulty'),
        '--file',
        path,
        '--batch-size',
        '20',
        '--max-retries',
        '0',
        '--max-concurrency',
        '4',
      ],
      { env },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: HTTP 500 from .* after 1 attempt/);
    const resume = join(dir, 'faulty.resume.jsonl');
    expect(run.stderr).toContain(`are in ${resume}`);
    const stored = await storedIds('faulty');
    const missing = await fileIds(resume);
    expect(stored.length).toBeGreaterThan(0);
    expect(missing.length).toBeGreaterThan(0);
    // Exactly the missing ones: disjoint from what is stored, and together the full set.
    expect(missing.filter((id) => stored.includes(id))).toEqual([]);
    expect([...stored, ...missing].sort()).toEqual(ids(0, 1000));

    await server.setFaults('faulty', {});
    const words = resumeCommand(run.stderr);
    expect(words).toEqual(
      expect.arrayContaining(['--file', resume, '--max-retries', '0', '--batch-size', '20']),
    );
    const again = await runPrinted(words, { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^Upserted ${missing.length.toLocaleString('en-US')} vectors`));
    expect(await storedIds('faulty')).toEqual(ids(0, 1000));
    expect(server.stats('faulty').vectors.total).toBe(1000);
  });

  it('over gRPC: --max-retries applies too, and the resume file completes the load exactly', async () => {
    await server.createIndex({ name: 'grpc', dimension: DIM, metric: 'cosine' });
    await server.setFaults('grpc', { errorRates: { 503: 0.2 }, operations: ['upsert'], seed: 5 });
    const { path } = await dataset('grpc.jsonl', 600);
    const host = server.grpcHost('grpc');
    const run = await runCli(
      [
        'upsert',
        '--grpc',
        '--host',
        host,
        '--file',
        path,
        '--batch-size',
        '20',
        '--max-retries',
        '0',
        '--max-concurrency',
        '4',
      ],
      { env },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: UNAVAILABLE \(gRPC\) from .* after 1 attempt/);
    const resume = join(dir, 'grpc.resume.jsonl');
    const stored = await storedIds('grpc');
    const missing = await fileIds(resume);
    expect(missing.filter((id) => stored.includes(id))).toEqual([]);
    expect([...stored, ...missing].sort()).toEqual(ids(0, 600));

    await server.setFaults('grpc', {});
    const words = resumeCommand(run.stderr);
    expect(words).toEqual(expect.arrayContaining(['--grpc', '--host', host, '--file', resume]));
    expect((await runPrinted(words, { env })).code).toBe(0);
    expect(await storedIds('grpc')).toEqual(ids(0, 600));
    const stats = await runCli(['stats', '--grpc', '--host', host, '--json'], { env });
    expect(JSON.parse(stats.stdout)).toMatchObject({ totalVectorCount: 600 });
  });

  it('on Ctrl-C aborts, exits 130 and writes the resume file of what was not written', async () => {
    await server.createIndex({ name: 'interrupted', dimension: DIM, metric: 'cosine' });
    await server.setFaults('interrupted', { latency: { fixedMs: 150 } });
    const { path } = await dataset('interrupted.jsonl', 2000);
    const run = await runCli(
      [
        'upsert',
        '--host',
        server.indexHost('interrupted'),
        '--file',
        path,
        '--batch-size',
        '10',
        '--max-concurrency',
        '2',
        '--progress-interval',
        '100',
      ],
      {
        env,
        onSpawn: (child, output) => {
          const poll = setInterval(() => {
            // Interrupt once some vectors are confirmed, well before the end (~15 s).
            if (/\[upsert\] [1-9][\d,]*\/2,000/.test(output.stderr)) {
              clearInterval(poll);
              child.kill('SIGINT');
            }
          }, 50);
          child.on('close', () => clearInterval(poll));
        },
      },
    );
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/Interrupted/);
    const stored = await storedIds('interrupted');
    const missing = await fileIds(join(dir, 'interrupted.resume.jsonl'));
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.length).toBeLessThan(2000);
    expect([...stored, ...missing].sort()).toEqual(ids(0, 2000));
  });

  it('reports usage problems with exit code 2 before sending anything', async () => {
    const noKey = await runCli(['upsert', '--host', 'http://127.0.0.1:9', '--file', 'x.jsonl'], {
      env: { PINECONE_API_KEY: undefined },
    });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/PINECONE_API_KEY is not set/);
    const noFile = await runCli(
      ['upsert', '--host', 'http://127.0.0.1:9', '--file', join(dir, 'absent.jsonl')],
      { env },
    );
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/absent\.jsonl: no such file/);
    const badFlag = await runCli(['upsert', '--host', 'h', '--file', 'f', '--batch-size', '5000'], { env });
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--batch-size <n>' argument '5000' is invalid/);
    const unknownIndex = await runCli(
      ['stats', '--index', 'nope', '--controller-host', server.controllerHost],
      { env },
    );
    expect(unknownIndex.code).toBe(2);
    expect(unknownIndex.stderr).toMatch(/^error: HTTP 404/);
  });

  it('has --help with examples on every command', async () => {
    for (const command of ['demo', 'upsert', 'query', 'stats', 'serve']) {
      const help = await runCli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: pinecone-resilient ${command}`);
      expect(help.stdout).toContain('Examples:');
    }
    const top = await runCli(['--help']);
    expect(top.stdout).toMatch(/Exit codes: 0 ok/);
  });
});
