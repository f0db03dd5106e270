import { defineConfig } from 'vitest/config';
import { backendProjects } from './vitest.projects.ts';

// For running the backend's tests alone (`npx vitest run` in backend/); `npm test` at the root runs every workspace.
export default defineConfig({
  test: {
    reporters: ['default', '../test-support/summary-reporter.ts'],
    projects: backendProjects('.'),
  },
});
