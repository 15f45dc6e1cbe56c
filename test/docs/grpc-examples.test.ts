/**
 * Every ```ts block of docs/grpc.md compiles against the built package (the README's test
 * command builds first), so the gRPC guide cannot drift from the API.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

describe('docs/grpc.md examples', () => {
  const markdown = readFileSync(join(root, 'docs/grpc.md'), 'utf8');
  const blocks = [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

  it('every block type-checks against the package exports', async () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    // Its own directory (inside the repository, so `pinecone-resilient` resolves to this package).
    const dir = join(root, '.docs-check-grpc');
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
