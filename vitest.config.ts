import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real servers on loopback; keep them bounded.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Nothing in the suite may reach Pinecone's real control plane by default.
    env: { PINECONE_CONTROLLER_HOST: 'http://127.0.0.1:9', PINECONE_API_KEY: '' },
    reporters: ['default'],
  },
});
