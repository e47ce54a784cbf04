/**
 * The runbook of docs/operations.md ("Runbook: the primary region ... is lost"), step by step:
 * a primary repository (a folder) is replicated with `snapfleet copy` to a bucket on the S3
 * test server, then deleted; a fresh environment that knows only the replica's location, its
 * password and the store's credentials (an empty cache folder, no fleet configuration) lists,
 * verifies and restores every volume byte-identically, and goes on archiving into the replica.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createImage, describeRun, makeTempDir, mutateImage, parseJson, removeDir, runCli, sha256File, type CliEnv } from '../support/cli.js';
import { archiveImage, createRepoTarget, timeAt } from '../support/gc.js';

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('replica-recovery');
});

afterAll(async () => {
  await removeDir(dir);
});

it('restores every volume from the replica alone after the primary is deleted', { timeout: 300_000 }, async () => {
  const primary = await createRepoTarget('folder', join(dir, 'primary'), 'primary-pw-7$');
  const images = [join(dir, 'db.img'), join(dir, 'web.img')];
  const newest = new Map<string, string>();
  for (const [v, image] of images.entries()) {
    await createImage(image, 12, 80 + v);
    for (let day = 0; day < 2; day++) {
      if (day > 0) await mutateImage(image, 0.05, 90 + v * 10 + day);
      await archiveImage(primary.env, image, `vol-${v}`, timeAt(24 * day));
    }
    newest.set(`vol-${v}`, await sha256File(image));
  }

  // Set up once: the replica with its own password, sharing the primary's id key; then copy.
  const replica = await createRepoTarget('s3', join(dir, 'replica'), 'replica-pw-9%', { init: false });
  const both: CliEnv = { ...replica.env, SNAPFLEET_FROM_PASSWORD: 'primary-pw-7$' };
  const init = await runCli(['init', '--copy-id-key-from', primary.repoUrl], both);
  expect(init.code, describeRun(init)).toBe(0);
  const copy = await runCli(['copy', '--from', primary.repoUrl, '--to', replica.repoUrl, '--json'], both);
  expect(copy.code, describeRun(copy)).toBe(0);
  expect(parseJson<{ copied: number }>(copy).copied).toBe(4);

  // The primary is lost.
  await rm(primary.repoUrl, { recursive: true, force: true });

  // Step 1: a fresh environment: the replica's location, its password, the store's credentials.
  const cache = join(dir, 'fresh-cache');
  await mkdir(cache);
  const fresh: CliEnv = {
    ...replica.storeEnv,
    SNAPFLEET_REPOSITORY: replica.repoUrl,
    SNAPFLEET_PASSWORD: 'replica-pw-9%',
    SNAPFLEET_CACHE_DIR: cache,
    NODE_NO_WARNINGS: '1',
  };
  // Step 2: what it holds, and checked.
  const listed = await runCli(['snapshots', '--json'], fresh);
  expect(listed.code, describeRun(listed)).toBe(0);
  expect(
    parseJson<{ volumeId: string }[]>(listed)
      .map((s) => s.volumeId)
      .sort(),
  ).toEqual(['vol-0', 'vol-0', 'vol-1', 'vol-1']);
  for (const volume of newest.keys()) {
    const verify = await runCli(['verify', '--snapshot', 'latest', '--volume-id', volume, '--json'], fresh);
    expect(verify.code, describeRun(verify)).toBe(0);
    expect(parseJson<{ problems: unknown[] }>(verify).problems).toEqual([]);
  }
  // Step 3: restore each volume's newest snapshot.
  for (const [volume, sha256] of newest) {
    const to = join(dir, `${volume}.restored`);
    const restore = await runCli(['restore', '--snapshot', 'latest', '--volume-id', volume, '--to', to], fresh);
    expect(restore.code, describeRun(restore)).toBe(0);
    expect(await sha256File(to)).toBe(sha256);
  }
  // Step 4: archives go on into the replica, continuing each volume's lineage.
  await mutateImage(images[0]!, 0.05, 200);
  const next = await runCli(['archive', images[0]!, '--volume-id', 'vol-0', '--time', timeAt(72), '--json'], fresh);
  expect(next.code, describeRun(next)).toBe(0);
  const archived = parseJson<{ parent: string | null; newBlobs: number }>(next);
  expect(archived.parent).not.toBeNull();
  const whole = (12 * 1024 * 1024) / 4096;
  expect(archived.newBlobs).toBeLessThan(whole / 4);
  const verifyAll = await runCli(['verify', '--json'], fresh);
  expect(verifyAll.code, describeRun(verifyAll)).toBe(0);
});
