/**
 * Round trips through the real CLI, one process per command, for both stores (folder and the
 * test S3 server) and both encryption modes: init, a full archive, an incremental archive of the
 * mutated image, restores of the latest and the first snapshot (by id prefix), snapshots, verify.
 * Restores must be byte-identical (sha256) to the image as it was when each snapshot was taken.
 */
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBucket } from '../setup/s3.js';
import {
  createImage,
  describeRun,
  makeTempDir,
  MiB,
  mutateImage,
  parseJson,
  removeDir,
  runCli,
  sha256File,
  snapfleetStderr,
  STACK_FRAME,
  type CliEnv,
  type CliResult,
} from '../support/cli.js';

/** Small enough that the four round trips take seconds; big enough for two packs. */
const IMAGE_MIB = 32;
const PASSWORD = 'rt-pass-Zq8!vN3#kd';
/** mkimage mutate rewrites 3% of the 4 KiB blocks: the incremental archive stores about that. */
const MUTATE_FRACTION = 0.03;

interface ArchiveJson {
  snapshot: string;
  volumeId: string;
  parent: string | null;
  sizeBytes: number;
  readBytes: number;
  newBlobs: number;
  newBytes: number;
  storedBytes: number;
  holeChunks: number;
  seconds: number;
}

let work: string;
let image1: string;
let image2: string;
let sha1: string;
let sha2: string;

beforeAll(async () => {
  work = await makeTempDir('roundtrip');
  image1 = join(work, 'v1.img');
  image2 = join(work, 'v2.img');
  await createImage(image1, IMAGE_MIB, 11);
  await copyFile(image1, image2);
  await mutateImage(image2, MUTATE_FRACTION, 12);
  [sha1, sha2] = await Promise.all([sha256File(image1), sha256File(image2)]);
  expect(sha1).not.toBe(sha2);
});

afterAll(async () => {
  await removeDir(work);
});

type StoreKind = 'folder' | 's3';

async function repositoryFor(kind: StoreKind, dir: string): Promise<{ repo: string; env: CliEnv }> {
  if (kind === 'folder') return { repo: join(dir, 'repo'), env: {} };
  const bucket = await createTestBucket({ prefix: 'backups/e2e' });
  return { repo: bucket.repoUrl, env: bucket.env };
}

function expectClean(r: CliResult, what: string): void {
  expect(r.code, `${what}: ${describeRun(r)}`).toBe(0);
  expect(r.stdout + r.stderr, `${what}: the password leaked`).not.toContain(PASSWORD);
  expect(r.stderr, `${what}: stack trace`).not.toMatch(STACK_FRAME);
  // stderr is a pipe here: no progress bar, and nothing else from snapfleet on success.
  expect(snapfleetStderr(r.stderr), `${what}: stderr`).toBe('');
}

describe.each([
  { kind: 'folder' as const, encrypted: true },
  { kind: 'folder' as const, encrypted: false },
  { kind: 's3' as const, encrypted: true },
  { kind: 's3' as const, encrypted: false },
])('round trip: $kind store, encrypted=$encrypted', ({ kind, encrypted }) => {
  it('archives full and incremental, restores both snapshots byte-identically, verifies', async () => {
    const dir = await makeTempDir(`rt-${kind}`);
    try {
      const { repo, env: storeEnv } = await repositoryFor(kind, dir);
      const passwordFile = join(dir, 'password.txt');
      await writeFile(passwordFile, `${PASSWORD}\n`);
      // Encrypted folder repos take the password from a file, encrypted S3 ones from the
      // environment, so both ways of giving it are covered. Plain repos get no password at all.
      const usePasswordFile = encrypted && kind === 'folder';
      const env: CliEnv = { ...storeEnv, SNAPFLEET_REPOSITORY: repo, ...(encrypted && !usePasswordFile ? { SNAPFLEET_PASSWORD: PASSWORD } : {}) };
      const pw = usePasswordFile ? ['--password-file', passwordFile] : [];
      const cli = (...args: string[]) => runCli([...args, ...pw], env);

      const init = await cli('init', '--json', ...(encrypted ? [] : ['--no-encryption']));
      expectClean(init, 'init');
      expect(parseJson(init)).toMatchObject({ repository: repo, encrypted, chunkSize: 4096 });

      const full = await cli('archive', image1, '--volume-id', 'vol-a', '--json');
      expectClean(full, 'archive full');
      const first = parseJson<ArchiveJson>(full);
      expect(first.parent).toBeNull();
      expect(first.sizeBytes).toBe(IMAGE_MIB * MiB);
      expect(first.readBytes).toBe(IMAGE_MIB * MiB);
      expect(first.snapshot).toMatch(/^[0-9a-f]{64}$/);
      expect(first.newBytes).toBeGreaterThan(0);

      const incr = await cli('archive', image2, '--volume-id', 'vol-a', '--json');
      expectClean(incr, 'archive incremental');
      const second = parseJson<ArchiveJson>(incr);
      expect(second.parent).toBe(first.snapshot);
      expect(second.snapshot).not.toBe(first.snapshot);
      // Only the rewritten blocks are new: 3% of the image, give or take, never a large share.
      expect(second.newBytes).toBeGreaterThan(0);
      expect(second.newBytes).toBeLessThan(IMAGE_MIB * MiB * MUTATE_FRACTION * 1.5);
      expect(second.newBytes).toBeLessThan(first.newBytes / 5);
      expect(second.storedBytes).toBeLessThan(first.storedBytes / 5);

      const latestPath = join(dir, 'latest.img');
      const restoreLatest = await cli('restore', '--snapshot', 'latest', '--to', latestPath, '--json');
      expectClean(restoreLatest, 'restore latest');
      expect(parseJson(restoreLatest)).toMatchObject({ snapshot: second.snapshot, volumeId: 'vol-a', sizeBytes: IMAGE_MIB * MiB });
      expect(await sha256File(latestPath)).toBe(sha2);

      const firstPath = join(dir, 'first.img');
      const restoreFirst = await cli('restore', '--snapshot', first.snapshot.slice(0, 8), '--volume-id', 'vol-a', '--to', firstPath);
      expectClean(restoreFirst, 'restore first by prefix');
      expect(restoreFirst.stdout).toContain(`restored snapshot ${first.snapshot.slice(0, 8)} of vol-a`);
      expect(await sha256File(firstPath)).toBe(sha1);
      // Restore writes a temp file and renames it: nothing else is left beside the results.
      expect((await readdir(dir)).filter((n) => n.includes('.restore-'))).toEqual([]);

      const list = await cli('snapshots', '--json');
      expectClean(list, 'snapshots');
      const entries = parseJson<Array<{ id: string; volumeId: string; parent?: string; sizeBytes: number }>>(list);
      expect(entries.map((e) => e.id)).toEqual([first.snapshot, second.snapshot]);
      expect(entries[1]!.parent).toBe(first.snapshot);
      expect(entries.every((e) => e.volumeId === 'vol-a' && e.sizeBytes === IMAGE_MIB * MiB)).toBe(true);

      const verify = await cli('verify', '--json');
      expectClean(verify, 'verify');
      const report = parseJson<{ snapshots: number; packsRead: number; packsTotal: number; problems: unknown[] }>(verify);
      expect(report.snapshots).toBe(2);
      expect(report.problems).toEqual([]);
      expect(report.packsRead).toBe(report.packsTotal);
      expect(report.packsTotal).toBeGreaterThan(0);
    } finally {
      await removeDir(dir);
    }
  });
});
