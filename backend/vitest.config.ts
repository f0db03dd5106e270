import { defineConfig } from 'vitest/config';

// Integration tests run once per database: always on embedded PGlite, and also on the real
// PostgreSQL named by TEST_DATABASE_URL (CI sets it). Unit and client tests run once.
const databases = ['pglite', ...(process.env.TEST_DATABASE_URL ? ['postgres'] : [])];
const quiet = {
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_EMF_ENVIRONMENT: 'Local',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], env: quiet } },
      ...databases.map((db) => ({
        extends: true,
        test: {
          name: `integration:${db}`,
          include: ['test/integration/**/*.test.ts'],
          env: { ...quiet, TEST_DB: db },
          globalSetup: ['./test/support/global-setup.ts'],
        },
      })),
      {
        extends: true,
        test: {
          name: 'clients',
          include: ['test/clients/**/*.test.ts'],
          env: { ...quiet, TEST_DB: 'pglite' },
          globalSetup: ['./test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
