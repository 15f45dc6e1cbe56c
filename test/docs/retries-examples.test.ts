/**
 * Every ```ts block of docs/retries.md compiles against the built package (the README's
 * test command builds first), and runs against the local emulator: the placeholder host
 * becomes an emulator index and `declare const x: Vector[]` becomes real records. So the
 * guide cannot drift from the API.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../src/local.js';

const root = new URL('../../', import.meta.url).pathname;

/** The ```ts blocks of a markdown file. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

describe('docs/retries.md examples', () => {
  const blocks = tsBlocks(readFileSync(join(root, 'docs/retries.md'), 'utf8'));

  it('has examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  it('every block type-checks against the package exports', async () => {
    const dir = join(root, '.docs-check');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    blocks.forEach((code, i) => {
      writeFileSync(join(dir, `block${i}.ts`), `${code}\nexport {};\n`);
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        include: ['*.ts'],
      }),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const output = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        [tsc, '-p', join(dir, 'tsconfig.json')],
        { cwd: root, timeout: 60_000 },
        (_err, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
    });
    rmSync(dir, { recursive: true, force: true });
    expect(output).toBe('');
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

  const blocks = tsBlocks(readFileSync(join(root, 'docs/retries.md'), 'utf8'));
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
