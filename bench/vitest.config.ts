import { defineConfig } from 'vitest/config';

// The root config runs these tests too; this one runs the bench's unit tests alone
// (`pnpm --filter @qaq/bench test`, or `pnpm exec vitest run --config bench/vitest.config.ts` from the root).
const conditions = ['source', 'module', 'node', 'development|production'];

export default defineConfig({
  root: import.meta.dirname,
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    pool: 'forks',
  },
});
