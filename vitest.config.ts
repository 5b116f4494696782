import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'apps/*/src/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'tests/src/**/*.test.ts',
    ],
    // One shared Redis for the run (REDIS_URL, else spawned); see packages/testing.
    globalSetup: ['packages/testing/dist/global-setup.js'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
