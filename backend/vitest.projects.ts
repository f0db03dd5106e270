import type { TestProjectInlineConfiguration } from 'vitest/config';

// Integration tests run once per database: always on embedded PGlite, and also on the real
// PostgreSQL named by TEST_DATABASE_URL (CI sets it). Unit and client tests run once.
const databases = ['pglite', ...(process.env.TEST_DATABASE_URL ? ['postgres'] : [])];

// Nothing in a test may reach for AWS metadata endpoints or print SDK notices.
const env = {
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_EMF_ENVIRONMENT: 'Local',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** The backend's test projects, rooted at `root` (the backend folder, seen from the config using them). */
export function backendProjects(root: string): TestProjectInlineConfiguration[] {
  const base = { root, testTimeout: 20_000, hookTimeout: 60_000 };
  return [
    { test: { ...base, name: 'unit', include: ['test/unit/**/*.test.ts'], env } },
    ...databases.map((db) => ({
      test: {
        ...base,
        name: `integration:${db}`,
        include: ['test/integration/**/*.test.ts'],
        env: { ...env, TEST_DB: db },
        globalSetup: ['./test/support/global-setup.ts'],
      },
    })),
    {
      test: {
        ...base,
        name: 'clients',
        include: ['test/clients/**/*.test.ts'],
        env: { ...env, TEST_DB: 'pglite' },
        globalSetup: ['./test/support/global-setup.ts'],
        testTimeout: 120_000,
        hookTimeout: 300_000,
      },
    },
    {
      // The dashboard in headless Chromium against a real server on PGlite.
      test: {
        ...base,
        name: 'browser',
        include: ['test/browser/**/*.test.ts'],
        env: { ...env, TEST_DB: 'pglite' },
        globalSetup: ['./test/support/global-setup.ts'],
        testTimeout: 120_000,
        hookTimeout: 120_000,
      },
    },
  ];
}
