import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { ENTRIES, specifierOf } from './scripts/entries.mjs';

// The machine (and CI) has 2 cores: two test files at a time, generous timeouts, and no test
// that asserts a tight wall-clock figure (performance lives in `npm run bench`).
export default defineConfig({
  resolve: {
    // Code that imports the package by name (examples/custom-handler) runs on the source, as
    // tsconfig.json's `paths` typecheck it.
    alias: Object.entries(ENTRIES).map(([name, file]) => ({
      find: new RegExp(`^${specifierOf(name)}$`),
      replacement: fileURLToPath(new URL(file, import.meta.url)),
    })),
  },
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
