import { defineConfig } from 'vitest/config';

// Pure logic only (periods, formatting, the set-up snippet, API errors): no DOM needed.
export default defineConfig({
  test: {
    name: 'frontend',
    environment: 'node',
    include: ['test/**/*.test.ts'],
  },
});
