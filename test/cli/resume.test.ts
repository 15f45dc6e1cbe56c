import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  commandLine,
  defaultResumePath,
  invokedAs,
  shellQuote,
  writeResumeFile,
} from '../../src/cli/resume.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-resume-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function* lines(...items: string[]): AsyncGenerator<string> {
  yield* items;
}

describe('writeResumeFile', () => {
  it('writes the failed vectors, then the unread lines, as JSON Lines', async () => {
    const path = join(dir, 'out.resume.jsonl');
    const summary = await writeResumeFile(
      path,
      [
        { id: 'a', values: new Float32Array([0.5, 1]) },
        { id: 'b', values: [1, 2], metadata: { k: 'v' } },
      ],
      lines('{"id":"c","values":[3,4]}', 'not json, kept verbatim'),
    );
    expect(summary).toEqual({ path, failed: 2, unread: 2 });
    expect(await readFile(path, 'utf8')).toBe(
      '{"id":"a","values":[0.5,1]}\n{"id":"b","values":[1,2],"metadata":{"k":"v"}}\n{"id":"c","values":[3,4]}\nnot json, kept verbatim\n',
    );
    expect(existsSync(`${path}.partial`)).toBe(false);
  });

  it('leaves nothing behind when the input fails midway', async () => {
    const path = join(dir, 'broken.resume.jsonl');
    async function* failing(): AsyncGenerator<string> {
      yield 'x';
      throw new Error('disk went away');
    }
    await expect(writeResumeFile(path, [], failing())).rejects.toThrow('disk went away');
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.partial`)).toBe(false);
  });
});

describe('defaultResumePath', () => {
  it('puts the resume file beside the input and never reuses the input or an existing file', async () => {
    const input = join(dir, 'data.jsonl');
    expect(defaultResumePath(input)).toBe(join(dir, 'data.resume.jsonl'));
    expect(defaultResumePath(join(dir, 'vectors.npy'))).toBe(join(dir, 'vectors.resume.jsonl'));
    await writeFile(join(dir, 'data.resume.jsonl'), '');
    // Resuming from data.resume.jsonl: its own resume file gets the next free name.
    expect(defaultResumePath(join(dir, 'data.resume.jsonl'))).toBe(join(dir, 'data.resume-2.jsonl'));
    expect(defaultResumePath(input)).toBe(join(dir, 'data.resume-2.jsonl'));
  });
});

describe('command lines', () => {
  it('quotes only what the shell would split or expand', () => {
    expect(shellQuote('http://127.0.0.1:5081')).toBe('http://127.0.0.1:5081');
    expect(shellQuote('my file.jsonl')).toBe("'my file.jsonl'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('$HOME')).toBe("'$HOME'");
    expect(commandLine('pinecone-resilient', ['upsert', '--namespace', 'a b'])).toBe(
      "pinecone-resilient upsert --namespace 'a b'",
    );
  });

  it('names the program as the user ran it', () => {
    expect(invokedAs(['node', '/usr/lib/node_modules/.bin/pinecone-resilient'])).toBe('pinecone-resilient');
    expect(invokedAs(['node', '/repo/dist/cli/main.js'], '/repo')).toBe('node dist/cli/main.js');
    expect(invokedAs(['node', '/elsewhere/main.js'], '/repo')).toBe('node /elsewhere/main.js');
  });
});
