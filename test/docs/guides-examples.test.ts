/**
 * Every ```ts block of docs/grpc.md, docs/coordination.md and of the README compiles against
 * the built package, so none can drift from the API.
 */
import { describe, expect, it } from 'vitest';
import { tsBlocks, typecheckBlocks } from '../helpers/docs.js';

describe('docs/grpc.md examples', () => {
  const blocks = tsBlocks('docs/grpc.md');

  it('every block type-checks against the package exports', async () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(await typecheckBlocks(blocks, '.docs-check-grpc')).toBe('');
  });
});

describe('README.md examples', () => {
  it('every block type-checks against the package exports', async () => {
    const blocks = tsBlocks('README.md');
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    expect(await typecheckBlocks(blocks, '.docs-check-readme')).toBe('');
  });
});

describe('docs/coordination.md examples', () => {
  it('every block type-checks against the package exports', async () => {
    const blocks = tsBlocks('docs/coordination.md');
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(await typecheckBlocks(blocks, '.docs-check-coordination')).toBe('');
  });
});
