import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test files run one at a time: the end-to-end and engine tests start
    // worker processes, Codex and PostgreSQL work whose timing (heartbeats,
    // grace periods) should not depend on what else the 2 cores are doing.
    fileParallelism: false,
  },
});
