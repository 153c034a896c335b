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
    // `npm run test:coverage` (the unit project with --coverage): a gate on the security core.
    // Thresholds sit just below the values measured when the gate was added (docs/testing.md).
    coverage: {
      provider: 'v8',
      include: ['src/guard/**/*.ts', 'src/mask/**/*.ts'],
      exclude: ['src/guard/ast/gen-fields.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      thresholds: {
        // measured 2026-12-07: guard 87.3 / 77.7 / 93.7 / 91.3, mask 91.1 / 84.2 / 95.5 / 97.1
        'src/guard/**': { statements: 86, branches: 76, functions: 92, lines: 90 },
        'src/mask/**': { statements: 90, branches: 83, functions: 94, lines: 96 },
      },
    },
    projects: [
      // both build the production bundle first (test/support/bundle-setup.ts): tests start dist/cli/main.js
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], globalSetup: ['test/support/bundle-setup.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', '**/node_modules/**'],
          globalSetup: ['test/support/bundle-setup.ts', 'test/support/global-setup.ts'],
        },
      },
    ],
  },
});
