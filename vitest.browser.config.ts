import { defineConfig } from 'vitest/config';

// `pnpm test:browser`: the tests that drive Debian's Chromium through playwright-core (*.browser.test.ts), kept out
// of the default `pnpm test` (vitest.config.ts excludes them), plus backend-web's end-to-end run under the runtime. One file at a time: each launches browsers, and the
// machines running this have 2 cores.
const conditions = ['source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: [
      'packages/*/browser-tests/**/*.browser.test.ts',
      'packages/*/src/**/*.browser.test.ts',
      'apps/*/src/**/*.browser.test.ts',
      'apps/*/e2e/**/*.browser.test.ts',
      // The web backend under the runtime in Node (WebAssembly), too slow for the default run.
      'packages/backend-web/src/runtime-generation.node.test.ts',
    ],
    env: { QAQ_WEB_E2E: '1' },
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
