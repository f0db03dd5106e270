import { defineConfig } from 'vitest/config';
import { backendProjects } from './backend/vitest.projects.ts';

// One run over every workspace, so CI reads one closing "N passed, N failed" line.
export default defineConfig({
  test: {
    reporters: ['default', './test-support/summary-reporter.ts'],
    projects: [...backendProjects('./backend'), './frontend', './infra', './bench'],
  },
});
