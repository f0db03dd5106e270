import { defineConfig } from 'vitest/config';

// Synthesis of the five stacks takes seconds per test file, hence the long timeouts. No reporters
// here: the repository root runs every workspace in one vitest run with a shared summary reporter.
export default defineConfig({
  test: {
    name: 'infra',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
