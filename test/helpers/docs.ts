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

/** Markdown with its fenced blocks taken out (they hold no headings or links). */
function withoutFences(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** Markdown with its fenced blocks and inline code taken out (neither holds links or headings). */
function prose(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, '');
}

/**
 * A heading's anchor as GitHub makes it: lower case, markup and punctuation dropped (hyphens
 * and underscores kept), each space a hyphen.
 */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*]/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings (a repeated heading gets `-1`, `-2`... as on GitHub). */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of withoutFences(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = slug(m[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The relative link targets of a page (`[text](target)`; web, mail and absolute links left out). */
export function linksOf(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('/'));
}
