import { defineConfig } from 'vitest/config';

// The harness's pure parts only (statistics, SSE completeness, report rendering): no servers,
// no timing. The benchmark itself is `npm run bench`.
export default defineConfig({
  test: {
    name: 'bench',
    include: ['test/**/*.test.ts'],
  },
});
