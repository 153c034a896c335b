import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (test/unit: pure, no database — `npx vitest run --project unit`) and
 * `integration` (everything else under test/: a throwaway PostgreSQL from the global setup).
 * `vitest run` (npm test) runs both.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', '**/node_modules/**'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
