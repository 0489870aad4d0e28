// Shared vitest configuration. A package's vitest.config.ts:
//   import { pathquicVitest } from '@pathquic/vitest-config'; export default pathquicVitest();
import { defineConfig } from 'vitest/config';

export function pathquicVitest(overrides = {}) {
  return defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      environment: 'node',
      // Two cores on the CI machine: threads keep startup cheap.
      pool: 'threads',
      testTimeout: 30_000,
      // The JSON report lets the root `npm test` print one total line for the whole monorepo.
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest-report/results.json' },
      ...overrides,
    },
  });
}
