// Three projects: `unit` runs pure modules with no database and no global setup (seconds); `integration`
// runs the CLI and the library against a real Postgres started or named by the global setup; `citus` runs
// them against the Citus cluster TENANTCTL_CITUS_URL names (npm run test:citus only).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Every file makes its own database, so files run in parallel.
          fileParallelism: true,
        },
      },
      {
        // A real Citus cluster (TENANTCTL_CITUS_URL: coordinator and two workers); not part of `npm test`.
        test: {
          name: 'citus',
          include: ['test/citus/*.test.ts'],
          globalSetup: ['test/citus/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // One cluster for every file: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
