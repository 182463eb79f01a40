// Two tiers: `unit` runs pure modules with no database and no global setup (seconds); `integration`
// runs the CLI and the library against a real Postgres started or named by the global setup.
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
    ],
  },
});
