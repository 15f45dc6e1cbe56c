/**
 * Checks for the TypeScript examples in docs/: extract the ```ts blocks of a guide and
 * type-check them against the built package (the README's test command builds first).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root. */
export const root = new URL('../../', import.meta.url).pathname;

/** The ```ts blocks of a markdown file under the repository root. */
export function tsBlocks(relativePath: string): string[] {
  const markdown = readFileSync(join(root, relativePath), 'utf8');
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

/**
 * Type-check each block as its own module, in a scratch directory inside the repository
 * (so `pinecone-resilient` resolves to this package). Resolves to tsc's output: empty
 * when every block compiles.
 */
export async function typecheckBlocks(blocks: string[], scratch: string): Promise<string> {
  const dir = join(root, scratch);
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
  try {
    return await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        [tsc, '-p', join(dir, 'tsconfig.json')],
        { cwd: root, timeout: 60_000 },
        (_err, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
