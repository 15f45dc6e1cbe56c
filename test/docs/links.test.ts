/**
 * Every relative link of the README and of docs/*.md points at a file that exists, and every
 * `#anchor` at a heading of its page (GitHub's rule: lower case, punctuation dropped, spaces
 * to hyphens), so a reader following one lands where it says.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, linksOf, slug } from '../helpers/docs.js';

const root = join(import.meta.dirname, '..', '..');
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name)),
];

describe('links between the docs', () => {
  it('slugs headings as GitHub does', () => {
    expect(slug('The fleet, measured')).toBe('the-fleet-measured');
    expect(slug('Options of `redisCoordinator`')).toBe('options-of-rediscoordinator');
    expect(slug('Exact query: how it is fast and still exact')).toBe(
      'exact-query-how-it-is-fast-and-still-exact',
    );
    expect(slug('Benchmark: bulk upsert over REST and gRPC')).toBe(
      'benchmark-bulk-upsert-over-rest-and-grpc',
    );
    expect(anchorsOf('# A\n\n```sh\n# not a heading\n```\n## A\n')).toEqual(new Set(['a', 'a-1']));
    expect(linksOf('[x](docs/a.md#b) [y](#c) [z](https://example.com) `[w](no.md)`')).toEqual([
      'docs/a.md#b',
      '#c',
    ]);
  });

  for (const page of pages) {
    it(`every relative link of ${page} resolves`, () => {
      const text = readFileSync(join(root, page), 'utf8');
      const broken: string[] = [];
      for (const link of linksOf(text)) {
        const [path = '', anchor] = link.split('#', 2);
        const target = path === '' ? join(root, page) : join(root, dirname(page), path);
        if (!existsSync(target)) {
          broken.push(`${link} (no file ${relative(root, target)})`);
          continue;
        }
        if (
          anchor !== undefined &&
          target.endsWith('.md') &&
          !anchorsOf(readFileSync(target, 'utf8')).has(anchor)
        ) {
          broken.push(`${link} (no heading #${anchor} in ${relative(root, target)})`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});
