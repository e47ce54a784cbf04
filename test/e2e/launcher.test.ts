/**
 * The `snapfleet` launcher (packages/cli/bin/snapfleet), as the README's quickstart runs it: it
 * starts Node with its own flags (a small V8 young generation, two malloc arenas), which every
 * codec thread must accept. An archive and a restore through it round-trip an image byte for byte.
 * It runs the bundled CLI (packages/cli/scripts/bundle.mjs): a command loads its bundle files, not
 * the workspace packages' module trees. It asks glibc for transparent huge pages under what malloc
 * maps: first touches of big buffers cost a fault per 2 MiB instead of per 4 KiB.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, createImage, makeTempDir, removeDir, REPO_ROOT, sha256File } from '../support/cli.js';
import { LAUNCHER_MALLOC_ENV, LAUNCHER_NODE_FLAGS } from '../support/launcher-env.mjs';

const run = promisify(execFile);
const LAUNCHER = join(REPO_ROOT, 'packages/cli/bin/snapfleet');

describe('the snapfleet launcher', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('launcher');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('archives and restores through its codec threads under its own node flags', async () => {
    const image = join(dir, 'image');
    await createImage(image, 8, 11);
    await writeFile(join(dir, 'password'), 'launcher-pass-Vq3!\n');
    const repo = ['--repo', join(dir, 'repo'), '--password-file', join(dir, 'password')];
    // No SNAPFLEET_NODE_OPTIONS: the launcher's own flags; a codec thread per core.
    const env = childEnv({});
    await run(LAUNCHER, ['init', ...repo], { env });
    const archived = await run(LAUNCHER, ['archive', ...repo, '--volume-id', 'v1', '--json', image], { env });
    const id = (JSON.parse(archived.stdout) as { snapshot: string }).snapshot;
    const out = join(dir, 'restored');
    await run(LAUNCHER, ['restore', ...repo, '--snapshot', id, '--to', out], { env });
    expect(await sha256File(out)).toBe(await sha256File(image));
  });

  /** Every file a node process loads (from a loader hook) running `args`, or importing a file. */
  async function modulesLoadedBy(args: { launcher: string[] } | { importing: string }): Promise<string[]> {
    const hooks = join(dir, 'hooks.mjs');
    await writeFile(hooks, `export async function load(url, context, next) { process.stderr.write('loaded ' + url + '\\n'); return next(url, context); }\n`);
    const register = pathToFileURL(join(dir, 'register.mjs')).href;
    await writeFile(fileURLToPath(register), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const { stderr } =
      'launcher' in args
        ? await run(LAUNCHER, args.launcher, { env: childEnv({ SNAPFLEET_NODE_OPTIONS: `--import ${register}` }) }).catch((err: { stderr: string }) => err)
        : await run(process.execPath, [
            '--import',
            register,
            '--input-type=module',
            '-e',
            `await import(${JSON.stringify(pathToFileURL(args.importing).href)});`,
          ]);
    return stderr
      .split('\n')
      .filter((l) => l.startsWith('loaded file:'))
      .map((l) => fileURLToPath(l.slice('loaded '.length)));
  }

  const bundle = join(REPO_ROOT, 'packages/cli/dist/bundle/');

  it('runs a command from the bundle: a few files, none of the workspace module trees', async () => {
    const loaded = await modulesLoadedBy({ launcher: ['snapshots', '--repo', join(dir, 'no-such-repo')] });
    expect(loaded).toContain(join(bundle, 'main.mjs'));
    // Unbundled, this loaded ~260 modules: the workspace packages' dist/ file by file, zod's 95.
    const unbundled = loaded.filter((f) => /\/packages\/(shared|providers|cli|worker|planner|board)\/dist\//.test(f) && !f.startsWith(bundle));
    expect(unbundled, 'workspace modules loaded outside the bundle').toEqual([]);
    expect(loaded.filter((f) => /\/zod[@/]/.test(f))).toEqual([]);
    expect(loaded.length).toBeLessThan(60);
  });

  it('answers --version without loading any command', async () => {
    const { stdout } = await run(LAUNCHER, ['--version'], { env: childEnv({}) });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const all = await modulesLoadedBy({ launcher: ['--help'] });
    const version = await modulesLoadedBy({ launcher: ['--version'] });
    expect(version.length).toBeLessThan(all.length / 2);
  });

  /**
   * What a process started by the launcher sees before the CLI runs: `body`, a module given
   * through NODE_OPTIONS (so the launcher's own node flags stay as they are), declares what it saw
   * as `seen`. The launcher's settings are unset unless `env` sets them.
   */
  let probes = 0;
  async function launchedProbe<T>(body: string, env: Record<string, string> = {}): Promise<T> {
    const probe = join(dir, `probe-${++probes}.mjs`);
    await writeFile(probe, `${body}\nprocess.stderr.write('probe ' + JSON.stringify(seen) + '\\n');\nprocess.exit(0);\n`);
    const launched = childEnv({ ...env, NODE_OPTIONS: `--import ${pathToFileURL(probe).href}` });
    // childEnv passes the launcher's own settings on; here the launcher must find them unset.
    for (const k of Object.keys(LAUNCHER_MALLOC_ENV)) if (!(k in env)) delete launched[k];
    const { stderr } = await run(LAUNCHER, ['--version'], { env: launched });
    const line = stderr.split('\n').find((l) => l.startsWith('probe '));
    if (!line) throw new Error(`the probe printed nothing: ${stderr}`);
    return JSON.parse(line.slice('probe '.length)) as T;
  }

  /** GLIBC_TUNABLES, and the kB of anonymous huge pages after touching a 32 MiB buffer. */
  const pagesProbe = (env: Record<string, string>) =>
    launchedProbe<{ tunables: string | null; hugeKiB: number }>(
      `import { readFileSync } from 'node:fs';
const b = Buffer.alloc(32 * 1024 * 1024);
b.fill(1);
const huge = /AnonHugePages:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
const seen = { tunables: process.env.GLIBC_TUNABLES ?? null, hugeKiB: huge ? Number(huge[1]) : -1 };`,
      env,
    );

  it("adds glibc's huge-page tunable, keeping the environment's own", async () => {
    expect((await pagesProbe({})).tunables).toBe('glibc.malloc.hugetlb=1');
    expect((await pagesProbe({ GLIBC_TUNABLES: 'glibc.malloc.arena_test=4' })).tunables).toBe('glibc.malloc.arena_test=4:glibc.malloc.hugetlb=1');
    expect((await pagesProbe({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' })).tunables).toBe('glibc.malloc.hugetlb=0');
  });

  it('gives the CLI the settings tests and benchmarks copy (test/support/launcher-env.mjs)', async () => {
    // process.execArgv holds the launcher's node flags alone: the probe came through NODE_OPTIONS.
    const seen = await launchedProbe<{ env: Record<string, string | null>; execArgv: string[] }>(
      `const keys = ${JSON.stringify(Object.keys(LAUNCHER_MALLOC_ENV))};
const seen = { env: Object.fromEntries(keys.map((k) => [k, process.env[k] ?? null])), execArgv: process.execArgv };`,
    );
    expect(seen.env).toEqual({ ...LAUNCHER_MALLOC_ENV });
    expect(seen.execArgv).toEqual([...LAUNCHER_NODE_FLAGS]);
  });

  // Only where the kernel gives huge pages to regions that ask for them: with "always" every
  // region gets them anyway, with "never" none does.
  const thp = (() => {
    try {
      return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
    } catch {
      return undefined;
    }
  })();
  it.skipIf(thp !== 'madvise')('maps big buffers in huge pages, and none without the tunable', async () => {
    expect((await pagesProbe({})).hugeKiB).toBeGreaterThanOrEqual(16 * 1024);
    expect((await pagesProbe({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' })).hugeKiB).toBe(0);
  });

  it("the bundle's codec thread entry loads the codecs and none of the schemas", async () => {
    // What each of a command's codec threads imports (thread-codec-pool.ts picks this file when
    // it runs bundled). zod is bundled, so its code, not its files, is what must stay out.
    const loaded = await modulesLoadedBy({ importing: join(bundle, 'codec-worker.mjs') });
    const chunks = loaded.filter((f) => f.startsWith(bundle));
    expect(chunks.length).toBeGreaterThan(1);
    expect(loaded.some((f) => f.includes('zstd-napi'))).toBe(true);
    for (const file of chunks) expect((await readFile(file, 'utf8')).includes('"$ZodType"'), `${file} holds zod`).toBe(false);
    // The check can fail: the CLI's own chunks do hold zod.
    const cli = await modulesLoadedBy({ launcher: ['snapshots', '--repo', join(dir, 'no-such-repo')] });
    const texts = await Promise.all(cli.filter((f) => f.startsWith(bundle)).map((f) => readFile(f, 'utf8')));
    expect(texts.some((t) => t.includes('"$ZodType"'))).toBe(true);
  });
});
