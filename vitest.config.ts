import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One temp root per run, removed at the end (see test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Backends hold process-global state (tfjs engine, native bindings): isolate test files in forks.
    pool: 'forks',
    fileParallelism: true,
  },
});
