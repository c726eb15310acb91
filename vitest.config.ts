import { defineConfig } from 'vitest/config';

// The machine (and CI) has 2 cores: two test files at a time, generous timeouts, and no test
// that asserts a tight wall-clock figure (performance lives in `npm run bench`).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
