/**
 * Bundles the compiled CLI (dist/main.js, from tsc) and the codec threads' entry into
 * dist/bundle/, which bin/snapfleet runs. Unbundled, every process loaded ~260 ES modules
 * (the workspace packages file by file, zod's 95) before doing anything: about a third of a
 * second of CPU per command, paid again by every process a fleet, a cron job or a script starts.
 * Split per command (dynamic imports stay chunk boundaries), a command loads a handful of files.
 *
 * External, loaded from node_modules as before: native addons (zstd-napi, @snapfleet/native),
 * packages that start threads or serve files by their own paths (piscina, pino, the board's
 * UI), the fleet's Redis stack, which must stay one copy of ioredis for bullmq to recognise
 * its connections, and the AWS SDK, whose client classes a process preload may replace (the
 * tests' simulated AWS world does, through aws-sdk-client-mock). Each is a dependency of this
 * package so that it resolves from dist/bundle/.
 */
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
const providers = dirname(fileURLToPath(import.meta.resolve('@snapfleet/providers')));

// Chunk names carry content hashes: a rebuild would otherwise leave the last build's beside them.
await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    main: join(root, 'dist', 'main.js'),
    // thread-codec-pool.js looks for this name beside itself when it runs bundled.
    'codec-worker': join(providers, 'codec', 'codec-worker.js'),
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  external: [
    '@aws-sdk/*',
    '@bull-board/*',
    '@snapfleet/native',
    'bullmq',
    'express',
    'ioredis',
    'piscina',
    'pino',
    'prom-client',
    'rate-limiter-flexible',
    'zstd-napi',
  ],
  // CommonJS dependencies inside an ES module bundle still call require() and read __dirname.
  banner: {
    js: [
      "import { createRequire as __bundleCreateRequire } from 'node:module';",
      "import { fileURLToPath as __bundleFileURLToPath } from 'node:url';",
      "import { dirname as __bundleDirname } from 'node:path';",
      'const require = __bundleCreateRequire(import.meta.url);',
      'const __filename = __bundleFileURLToPath(import.meta.url);',
      'const __dirname = __bundleDirname(__filename);',
    ].join('\n'),
  },
  // Maps back through tsc's own maps to the TypeScript sources: with NODE_OPTIONS=--enable-source-maps
  // a stack trace (SNAPFLEET_DEBUG=1) names src/ files and lines. Unused, they cost nothing at run time.
  sourcemap: 'linked',
  logLevel: 'warning',
});
