import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The engine (packages/shared) stays pure: no file system, no queues, no cloud SDKs, no ambient
// environment or wall clock. Adapters live in packages/providers; the clock is a port.
const impureImports = ['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'bullmq', 'ioredis', 'pino'].map((name) => ({
  name,
  message: 'packages/shared is the pure engine: do I/O in packages/providers behind a port.',
}));

// Nor does the engine start threads or timers, or size itself by the host: the codec pool's
// threads (providers/src/codec) and the Clock port's timers (Clock.every) come from the
// composition root. testing/ is left out: its fault proxy answers late on purpose.
const engineFiles = { files: ['packages/shared/src/**/*.ts'], ignores: ['packages/shared/src/**/*.test.ts', 'packages/shared/src/testing/**'] };
const threadAndTimerImports = [
  'os',
  'node:os',
  'worker_threads',
  'node:worker_threads',
  'piscina',
  'timers',
  'node:timers',
  'timers/promises',
  'node:timers/promises',
].map((name) => ({ name, message: 'packages/shared starts no threads or timers: take a CodecPool, or the Clock port, from the composition root.' }));
const timerGlobals = ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate'].map((name) => ({
  name,
  message: 'packages/shared starts no timers: use the Clock port (Clock.every).',
}));

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'test/bench/work/**', 'test/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Typed linting: every file is linted with its own project's types (packages/*/tsconfig.json,
    // test/tsconfig.json), which resolve the other packages through their built dist/, so lint
    // after a build. The few root files no project includes get the root compiler options.
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            '*.js',
            '.dependency-cruiser.mjs',
            'scripts/*.mjs',
            'packages/cli/scripts/*.mjs',
            'packages/native/*.js',
            'packages/native/*.d.ts',
          ],
          defaultProject: 'tsconfig.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A promise nobody awaits loses its rejection (an unhandled rejection kills the process) and
      // its ordering; a promise passed where a plain callback is expected is the same bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['packages/shared/src/**/*.ts'],
    ignores: ['packages/shared/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: impureImports, patterns: [{ group: ['@aws-sdk/*'], message: 'No cloud SDKs in the engine.' }] }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Configuration is parsed at the edge and passed in.' },
        { object: 'Date', property: 'now', message: 'Use the Clock port.' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use the Clock port.' }],
    },
  },
  {
    // The purity rule above with threads and timers added (a later block's options for a rule
    // replace an earlier block's, so the list above is repeated here).
    ...engineFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [...impureImports, ...threadAndTimerImports], patterns: [{ group: ['@aws-sdk/*'], message: 'No cloud SDKs in the engine.' }] },
      ],
      'no-restricted-globals': ['error', ...timerGlobals],
    },
  },
  {
    // Every Queue writes its events cap into the queue's meta hash and the last writer wins, so
    // the fleet's queues all pass the configured cap, or write nothing (shared/jobs/job-options.ts).
    files: ['packages/{planner,worker,cli,board,providers}/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Queue']:not(:has(Property[key.name=/^(streams|skipMetasUpdate)$/]))",
          message: 'Pass streams: queueStreams(config) (or skipMetasUpdate: true where the process only reads the queue).',
        },
      ],
    },
  },
);
