import { defineConfig } from 'vitest/config';

// Tests import the workspace packages' TypeScript sources through the `source` export condition;
// code that runs in worker threads or child processes uses the built dist/ (pnpm test builds first).
//
// Three groups, one after another. Most files run two at a time: the end-to-end ones spend much
// of their time waiting on the processes they spawn, so two files keep both cores busy. The kill
// tests and the damage sweep (archives, prunes and repairs killed at random points, each round a
// fresh process) come next, two at a time among themselves: alone, one used 1.3 cores on
// average; two at a time, 1.8, and the group took 800 s instead of 1,000. Last, one at a time on
// a machine nothing else of the suite loads, the files that measure rates or time failovers
// against the wall clock.
const ALONE = [
  'packages/providers/src/limits/paced-rate-limiter.test.ts',
  'test/sim/account-server.test.ts',
  'test/e2e/aws-rate-limit.test.ts',
  'test/e2e/fleet-policy-rate-limit.test.ts',
  'test/e2e/fleet-redis-sentinel.test.ts',
  'test/e2e/fleet-redis-cluster.test.ts',
  'test/e2e/fleet-redis-restart.test.ts',
  'test/e2e/fleet-killed-worker.test.ts',
  'test/e2e/fault-proxy.test.ts',
];
const KILLS = ['test/e2e/*-kill.test.ts', 'test/e2e/killed-archive.test.ts', 'test/e2e/damage-sweep.test.ts'];

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    exclude: ['**/node_modules/**', '**/dist/**', 'test/bench/**'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    globalSetup: ['test/setup/global-setup.ts'],
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', 'test/bench/**', ...ALONE, ...KILLS],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'kills', include: KILLS, maxWorkers: 2, testTimeout: 600_000, hookTimeout: 600_000, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
