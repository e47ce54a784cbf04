/**
 * Helpers for the end-to-end tests: run the built `snapfleet` CLI as a separate process (the way
 * a user or a script does), make test images with ../shared/bench/mkimage.py, and look at a
 * folder repository's files. The CLI is the built dist/ (`pnpm build` first), never the sources:
 * these tests exercise exactly what ships.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAUNCHER_MALLOC_ENV } from './launcher-env.mjs';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI_PATH = join(REPO_ROOT, 'packages/cli/dist/bundle/main.mjs');
/** CI clones the repository with shared/ beside it; SNAPFLEET_MKIMAGE overrides for other layouts. */
export const MKIMAGE_PATH = resolve(process.env.SNAPFLEET_MKIMAGE || join(REPO_ROOT, '../shared/bench/mkimage.py'));
export const MiB = 1024 * 1024;
/** Writers target 16 MiB packs (docs/format.md). */
export const PACK_TARGET_BYTES = 16 * MiB;
/** A CLI run on a test image takes about a second; a minute means it hangs. */
const CLI_TIMEOUT_MS = 60_000;
/** A 256 MiB image takes ~1.5 s to make; generous for a loaded CI machine. */
const MKIMAGE_TIMEOUT_MS = 120_000;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export type CliEnv = Record<string, string | undefined>;

function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`pnpm build\` before the e2e tests`);
}

/**
 * The child's environment: only what a shell user would have, the launcher's malloc settings
 * (launcher-env.mjs: a CLI the tests start directly runs as it does for users; with huge pages a
 * CLI-heavy test file took 12% less CPU here), plus `env`. The test runner's own environment is left out so that a SNAPFLEET_* or AWS_*
 * variable of the developer's shell (or NODE_OPTIONS set by the runner) cannot change what a test
 * sees. The index cache is off unless `env` names its folder (createTestBucket's env does, per
 * bucket): by default it would live in the developer's ~/.cache.
 */
export function childEnv(env: CliEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    LANG: 'C.UTF-8',
    SNAPFLEET_CACHE_DIR: 'off',
    ...LAUNCHER_MALLOC_ENV,
  };
  const out: NodeJS.ProcessEnv = { ...base };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Runs `snapfleet ARGS` to completion; stdout and stderr are pipes (not TTYs). */
export function runCli(args: string[], env: CliEnv = {}, options: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { env: childEnv(env), cwd: options.cwd ?? REPO_ROOT, timeout: options.timeoutMs ?? CLI_TIMEOUT_MS, maxBuffer: 64 * MiB, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(err); // could not start at all (ENOENT, ...), not a non-zero exit
          return;
        }
        const e = err as (Error & { code?: number; signal?: NodeJS.Signals | null; killed?: boolean }) | null;
        if (e?.killed) {
          reject(new Error(`snapfleet ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
          return;
        }
        resolvePromise({ code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Starts `snapfleet ARGS` in the background (for tests that kill it); output is collected. */
export function spawnCli(args: string[], env: CliEnv = {}): { child: ChildProcess; done: Promise<CliResult>; stderrSoFar: () => string } {
  assertBuilt();
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env: childEnv(env), cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
  return { child, done, stderrSoFar: () => stderr };
}

/** Formats a result for assertion messages, so a failing test shows what the CLI said. */
export function describeRun(r: CliResult): string {
  return `exit ${r.code ?? r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Parses the single JSON document a `--json` command prints on stdout. */
export function parseJson<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch (err) {
    throw new Error(`stdout is not JSON (${(err as Error).message})\n${describeRun(r)}`);
  }
}

/** A V8 stack frame line ("    at fn (file.js:1:2)"): the CLI must never print one by default. */
export const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;

/**
 * stderr without Node's own runtime warnings. The AWS SDK prints a multi-line
 * NodeVersionSupportWarning on Node < 22 whenever the S3 client loads; it is not snapfleet's
 * output, so tests about snapfleet's messages look past it.
 */
export function snapfleetStderr(stderr: string): string {
  return stderr
    .replace(/\(node:\d+\) Warning: NodeVersionSupportWarning:[\s\S]*?\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)\n?/g, '')
    .trim();
}

export async function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `snapfleet-e2e-${label}-`));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

function runPython(args: string[]): Promise<void> {
  if (!existsSync(MKIMAGE_PATH)) throw new Error(`mkimage.py not found at ${MKIMAGE_PATH}: clone shared/ beside the repository or set SNAPFLEET_MKIMAGE`);
  return new Promise((resolvePromise, reject) => {
    execFile('python3', [MKIMAGE_PATH, ...args], { timeout: MKIMAGE_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`mkimage.py ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolvePromise();
    });
  });
}

/** A deterministic synthetic disk image (~35% zero, 25% text-like, 25% random, 15% duplicates). */
export function createImage(path: string, sizeMiB: number, seed: number): Promise<void> {
  return runPython(['create', path, String(sizeMiB), String(seed)]);
}

/** Rewrites `fraction` of the image's 4 KiB blocks in place (size unchanged). */
export function mutateImage(path: string, fraction: number, seed: number): Promise<void> {
  return runPython(['mutate', path, String(fraction), String(seed)]);
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (b) => hash.update(b))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

export interface PackFile {
  /** The pack id: the file name, 64 hex digits. */
  id: string;
  path: string;
  size: number;
}

const OBJECT_NAME = /^[0-9a-f]{64}$/;

/**
 * The finished packs of a folder repository: `data/xx/<64 hex>`. Temp files (`.tmp-...`) that a
 * writer has not renamed into place yet are not packs and are left out.
 */
export async function listPacks(repoDir: string): Promise<PackFile[]> {
  const dataDir = join(repoDir, 'data');
  let shards: string[];
  try {
    shards = await readdir(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: PackFile[] = [];
  for (const shard of shards) {
    let names: string[];
    try {
      names = await readdir(join(dataDir, shard));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      throw err;
    }
    for (const name of names) {
      if (!OBJECT_NAME.test(name)) continue;
      const path = join(dataDir, shard, name);
      try {
        out.push({ id: name, path, size: (await stat(path)).size });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Every file under `dir`, recursively, as paths relative to it. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
