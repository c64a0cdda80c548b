import { defineConfig } from 'vitest/config';

// One project per package: `pnpm vitest run --project core` runs one package's tests.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts'],
    reporters: ['default', './scripts/vitest-summary-reporter.ts'],
  },
});
