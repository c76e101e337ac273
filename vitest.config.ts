import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Backends hold process-global state (tfjs engine, native bindings): isolate test files in forks.
    pool: 'forks',
    fileParallelism: true,
  },
});
