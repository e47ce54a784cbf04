/**
 * Regression tests for a race that gc-concurrency.test.ts hit by chance: an archive that commits
 * its snapshot while a prune runs made that prune fail with exit 4 ("manifest node ... is
 * missing from the index": corrupt data!) although the repository was fine.
 *
 * Cause (packages/shared/src/engine/prune.ts before 0f34ffd): the live set was computed by
 * walking the snapshots listed *now* with the index loaded *earlier*:
 * - step 2 loaded the 'read' index, then computeLiveSet listed snapshots: a snapshot committed in
 *   between has manifest nodes in packs that index does not know;
 * - step 5 ("with no archive running, delete at once") called repo.loadIndex({view: 'read'})
 *   again, which returned the index cached by step 2, so every snapshot committed during the
 *   whole repack + marker write by an archive that had released its lease by the lease check was
 *   walked with a stale index.
 * The snapshot cannot simply be skipped either: its archive's lease is gone, so only the live set
 * protects its data. The walk needs an index read after the snapshot listing (what
 * computeLiveSet now does).
 *
 * Both tests run prune in-process over a store wrapper that, at the chosen moment, runs a whole
 * `snapfleet archive` (a separate process: lease taken, snapshot stored, lease released) before
 * letting prune continue; then the new snapshot must restore and verify must be clean.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createInlineCodecPool, openRepository, pruneRepository, type PruneReport } from '@snapfleet/shared';
import { FolderBlobStore } from '@snapfleet/providers';
import { createImage, describeRun, makeTempDir, mutateImage, removeDir, runCli } from '../support/cli.js';
import { archiveImage, createRepoTarget, HookedStore, expectAllRestore, expectVerifyClean, listObjects, timeAt, type ArchivedSnapshot } from '../support/gc.js';

const PASSWORD = 'gc-race-pw-Lm3#';
const IMAGE_MIB = 8;

let dir: string;
let baseImage: string;

beforeAll(async () => {
  dir = await makeTempDir('gc-race');
  baseImage = join(dir, 'base.img');
  await createImage(baseImage, IMAGE_MIB, 77);
});

afterAll(async () => {
  await removeDir(dir);
});

/**
 * A repository with garbage to collect: three snapshots of a heavily changing volume, the oldest
 * two forgotten. Returns the env, the image path (to archive again) and what was archived.
 */
async function repoWithGarbage(name: string) {
  const work = join(dir, name);
  await mkdir(work, { recursive: true });
  const target = await createRepoTarget('folder', work, PASSWORD);
  const image = join(work, 'vol.img');
  await copyFile(baseImage, image);
  const recorded = new Map<string, ArchivedSnapshot>();
  for (let i = 0; i < 3; i++) {
    if (i > 0) await mutateImage(image, 0.5, 500 + i);
    const s = await archiveImage(target.env, image, 'vol', timeAt(i));
    recorded.set(s.id, s);
  }
  const forget = await runCli(['forget', '--volume-id', 'vol', '--keep-last', '1', '--json'], target.env);
  expect(forget.code, describeRun(forget)).toBe(0);
  return { work, target, image, recorded };
}

async function pruneWithHook(repoDir: string, hook: (op: 'put' | 'list', key: string) => Promise<void>): Promise<PruneReport> {
  const store = new HookedStore(new FolderBlobStore(repoDir), hook);
  const repo = await openRepository(store, { password: PASSWORD });
  return pruneRepository(repo, createInlineCodecPool(repo.keys), { clock: { now: () => new Date() }, repackBelow: 0.9 });
}

it('a snapshot committed while prune writes its deletion marker does not make prune fail (stale cached index in step 5)', async () => {
  const { work, target, image, recorded } = await repoWithGarbage('step5');
  let fired = false;
  const report = pruneWithHook(join(work, 'repo'), async (op, key) => {
    // The first marker write: condemnation is decided, the lease check and fresh live set follow.
    if (fired || op !== 'put' || !key.startsWith('prune/')) return;
    fired = true;
    await mutateImage(image, 0.5, 600);
    const s = await archiveImage(target.env, image, 'vol', timeAt(10));
    recorded.set(s.id, s);
  });
  await expect(report).resolves.toMatchObject({ waiting: [] });
  expect(fired, 'prune never wrote a deletion marker: the setup made no garbage').toBe(true);
  expect((await report).freedBytes).toBeGreaterThan(0);
  expect(await listObjects(target, 'prune/')).toEqual([]);
  await expectVerifyClean(target.env, 'after prune');
  expect(await expectAllRestore(target.env, recorded, work, 'after prune')).toHaveLength(2);
});

it('a snapshot committed between prune loading the index and listing the snapshots does not make prune fail (step 2)', async () => {
  const { work, target, image, recorded } = await repoWithGarbage('step2');
  let indexListed = false;
  let fired = false;
  const report = pruneWithHook(join(work, 'repo'), async (op, key) => {
    if (op !== 'list') return;
    if (key === 'index/') indexListed = true;
    // The first snapshot listing after an index load is computeLiveSet's.
    if (fired || !indexListed || key !== 'snapshots/') return;
    fired = true;
    await mutateImage(image, 0.5, 700);
    const s = await archiveImage(target.env, image, 'vol', timeAt(10));
    recorded.set(s.id, s);
  });
  await expect(report).resolves.toMatchObject({ waiting: [] });
  expect(fired).toBe(true);
  expect(await listObjects(target, 'prune/')).toEqual([]);
  await expectVerifyClean(target.env, 'after prune');
  expect(await expectAllRestore(target.env, recorded, work, 'after prune')).toHaveLength(2);
});
