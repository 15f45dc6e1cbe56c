/**
 * Every ```ts block of docs/grpc.md compiles against the built package, so the gRPC guide
 * cannot drift from the API.
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
