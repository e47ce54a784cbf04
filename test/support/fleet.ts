/**
 * Helpers for the fleet end-to-end tests: a unique Redis prefix per test (and removing its keys
 * afterwards; never FLUSHALL), fleet configs, volumes, spawned `snapfleet planner/worker`
 * processes, and reading queues and repositories back. Real Redis on 127.0.0.1:6379 unless a
 * test passes its own REDIS_URL.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { createImage, describeRun, parseJson, runCli, sha256File, spawnCli, type CliEnv, type CliResult } from './cli.js';
import type { ChildProcess } from 'node:child_process';

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

export function uniquePrefix(label: string): string {
  return `sf-e2e-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Removes every key of one test's prefix (SCAN, never KEYS or FLUSHALL on the shared server). */
export async function deletePrefix(prefix: string, url = SHARED_REDIS_URL): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface FleetFixture {
  dir: string;
  repo: string;
  passwordFile: string;
  config: string;
  volumes: { id: string; path: string }[];
}

export const TEST_PASSWORD = 'fleet-test-password';

/** Volumes (mkimage.py, deterministic), an encrypted folder repository, and fleet.yaml. */
export async function makeFleet(
  dir: string,
  options: { volumes: number; sizeMiB: number; config: (f: Omit<FleetFixture, 'config'>) => object },
): Promise<FleetFixture> {
  const repo = join(dir, 'repo');
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, TEST_PASSWORD + '\n');
  const volumes = Array.from({ length: options.volumes }, (_, i) => ({ id: `vol-${String(i + 1).padStart(2, '0')}`, path: join(dir, `vol-${i + 1}.img`) }));
  // Eight images at a time: mkimage.py is one Python process each.
  for (let i = 0; i < volumes.length; i += 8) await Promise.all(volumes.slice(i, i + 8).map((v, j) => createImage(v.path, options.sizeMiB, i + j + 1)));
  const init = await runCli(['init', '--repo', repo, '--password-file', passwordFile]);
  if (init.code !== 0) throw new Error(describeRun(init));
  const config = join(dir, 'fleet.yaml');
  const fixture = { dir, repo, passwordFile, volumes };
  await writeFile(config, JSON.stringify(options.config(fixture), null, 2));
  return { ...fixture, config };
}

/** The usual test config around a fixture: one policy over every volume. */
export function fleetConfig(f: Omit<FleetFixture, 'config'>, overrides: { fleet?: object; policy?: object } = {}): object {
  return {
    fleet: { worker: { codecThreads: 1, shutdownTimeout: '10s' }, jobs: { attempts: 3, backoff: '500ms' }, ...overrides.fleet },
    repositories: { main: { url: f.repo, passwordFile: f.passwordFile } },
    volumes: Object.fromEntries(f.volumes.map((v) => [v.id, { path: v.path, tags: ['test'] }])),
    policies: [{ name: 'every', selector: { tags: ['test'] }, schedules: [{ every: '1h' }], repository: 'main', ...overrides.policy }],
  };
}

export interface SnapshotJson {
  id: string;
  volumeId: string;
  time: string;
  tags: string[];
  tree: { root: string };
}

export async function listSnapshots(f: FleetFixture): Promise<SnapshotJson[]> {
  const r = await runCli(['snapshots', '--repo', f.repo, '--password-file', f.passwordFile, '--json']);
  if (r.code !== 0) throw new Error(describeRun(r));
  return parseJson<SnapshotJson[]>(r);
}

/** Restores `snapshot` and compares it with the volume's image. */
export async function restoresIdentical(f: FleetFixture, snapshot: string, volumePath: string): Promise<boolean> {
  const to = join(f.dir, `restored-${snapshot.slice(0, 12)}.img`);
  const r = await runCli(['restore', '--repo', f.repo, '--password-file', f.passwordFile, '--snapshot', snapshot, '--to', to]);
  if (r.code !== 0) throw new Error(describeRun(r));
  const same = (await sha256File(to)) === (await sha256File(volumePath));
  await rm(to, { force: true }); // restore refuses an existing file: the next check of this snapshot needs the name
  return same;
}

export interface FleetProcess {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** What the process has written to stderr so far (for a timed-out test's report). */
  stderrSoFar: () => string;
}

export function spawnFleet(args: string[], env: CliEnv): FleetProcess {
  return spawnCli(args, env);
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopFleet(p: FleetProcess, graceMs = 15_000): Promise<CliResult> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  try {
    return await p.done;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The first capture of `pattern` in what the process writes to stderr (a URL it listens on, for
 * instance). Call it right after the spawn, before the line can have been written.
 */
export function stderrMatch(p: FleetProcess, pattern: RegExp, what: string, timeoutMs = 30_000): Promise<string> {
  let seen = '';
  p.child.stderr!.on('data', (c: Buffer) => (seen += c.toString()));
  return waitFor(
    what,
    async () => {
      if (p.child.exitCode !== null) throw new Error(`exited before ${what}:\n${seen}`);
      return pattern.exec(seen)?.[1];
    },
    timeoutMs,
    50,
  );
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A test's handle on a fleet queue; like status, it leaves the queue's meta (its events cap) to the fleet's processes. */
export function openQueue(name: string, prefix: string, url = SHARED_REDIS_URL): Queue {
  const u = new URL(url);
  return new Queue(name, { connection: { host: u.hostname, port: Number(u.port || 6379), enableOfflineQueue: false }, prefix, skipMetasUpdate: true });
}

/** Jobs not yet finished in the work queues (waiting, active, delayed, waiting for children). */
export async function unfinishedJobs(prefix: string, url = SHARED_REDIS_URL): Promise<number> {
  let n = 0;
  for (const name of ['snapshot', 'archive', 'retention']) {
    const q = openQueue(name, prefix, url);
    try {
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'waiting-children', 'prioritized');
      n += Object.values(c).reduce((a, b) => a + b, 0);
    } finally {
      await q.close();
    }
  }
  return n;
}
