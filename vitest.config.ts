import { defineConfig } from 'vitest/config';

// Tests import the workspace packages' TypeScript sources through the `source` export condition;
// code that runs in worker threads or child processes uses the built dist/ (pnpm test builds first).
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'test/bench/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ['test/setup/global-setup.ts'],
    pool: 'forks',
  },
});
