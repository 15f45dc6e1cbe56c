/**
 * Every ```ts block of docs/retries.md compiles against the built package (the README's
 * test command builds first), and runs against the local emulator: the placeholder host
 * becomes an emulator index and `declare const x: Vector[]` becomes real records. So the
 * guide cannot drift from the API.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { root, tsBlocks, typecheckBlocks } from '../helpers/docs.js';

describe('docs/retries.md examples', () => {
  const blocks = tsBlocks('docs/retries.md');

  it('has examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  it('every block type-checks against the package exports', async () => {
    expect(await typecheckBlocks(blocks, '.docs-check')).toBe('');
  });
});

const PLACEHOLDER_HOST = 'product-search-abc123.svc.pinecone.io';

/** Turn a docs block into a script that runs against the emulator. */
function runnable(code: string, host: string): string {
  return code
    .replaceAll(`'${PLACEHOLDER_HOST}'`, JSON.stringify(host))
    .replace(
      /declare const (\w+): Vector\[\];/g,
      (_m, name: string) =>
        `const ${name}: Vector[] = Array.from({ length: 250 }, (_, i) => ({ id: \`${name}-\${i}\`, values: [i % 7, 1, (i % 3) / 3] }));`,
    );
}

describe('docs/retries.md examples run against the emulator', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startLocalServer({ port: 0, indexes: [{ name: 'docs', dimension: 3, metric: 'cosine' }] });
  });
  afterAll(async () => {
    await server.close();
  });

  const blocks = tsBlocks('docs/retries.md');
  it.each(blocks.map((code, i) => [i, code] as const))('block %i runs', async (i, code) => {
    const dir = join(root, '.docs-check');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `run${i}.ts`);
    writeFileSync(file, `${runnable(code, server.indexHost('docs'))}\nexport {};\n`);
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', file],
        {
          cwd: root,
          timeout: 30_000,
          env: {
            ...process.env,
            PINECONE_API_KEY: 'docs-key',
            PINECONE_CONTROLLER_HOST: server.controllerHost,
          },
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
      );
    });
    rmSync(file, { force: true });
    expect(result.out.replace(/.*ExperimentalWarning.*\n?/g, '')).not.toMatch(/Error/);
    expect(result.code).toBe(0);
  });
});
