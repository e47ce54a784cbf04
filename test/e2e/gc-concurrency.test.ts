/**
 * Garbage collection while archives run (docs/format.md, "Garbage collection"; prune.ts and
 * leases.ts): two CLI processes keep archiving their own volume while a third keeps running
 * `forget --all --keep-last 2 --prune`. Prune may condemn packs at any moment, and deletes them
 * only once no archive that might have missed the deletion marker is alive. What must hold at
 * the end, on a folder and on S3:
 * - every snapshot still listed restores byte-identically to the image it was taken of;
 * - verify is clean;
 * - prune did free space (the forgotten snapshots' data is gone, not just hidden);
 * - no forget/prune run failed while archives ran.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImage, describeRun, makeTempDir, mutateImage, parseJson, removeDir, runCli } from '../support/cli.js';
import {
  createRepoTarget,
  expectAllRestore,
  runArchive,
  expectVerifyClean,
  listObjects,
  listSnapshots,
  packStats,
  timeAt,
  type ArchivedSnapshot,
  type ForgetJson,
  type PruneJson,
  type StoreKind,
} from '../support/gc.js';

const PASSWORD = 'gc-concurrency-pw-7Qz!';
const IMAGE_MIB = 16;
/** Archives per archiver: enough for several forget/prune rounds to overlap them. */
const ARCHIVES = 6;
/**
 * A quarter of the blocks change between archives, so a snapshot two archives old has lost about
 * half of its data to newer ones: its packs become mostly garbage once it is forgotten.
 */
const MUTATE_FRACTION = 0.25;
/** Repack generously so that prune copies and condemns packs while the archives run. */
const REPACK_BELOW = '90%';
const KEEP_LAST = 2;
const VOLUMES = ['vol-a', 'vol-b'] as const;

let dir: string;
/** Per volume, the image at each archive: version i is version i-1 after `mkimage.py mutate`. */
const versions = new Map<string, string[]>();

beforeAll(async () => {
  dir = await makeTempDir('gc-conc');
  // Made once for both stores: mkimage costs ~1 s of CPU per call whatever the image size, and
  // the concurrent phase should be archives against prune, not Python start-ups.
  await Promise.all(
    VOLUMES.map(async (v, i) => {
      const paths = [join(dir, `${v}.v0.img`)];
      await createImage(paths[0]!, IMAGE_MIB, 300 + i);
      for (let k = 1; k < ARCHIVES; k++) {
        paths.push(join(dir, `${v}.v${k}.img`));
        await copyFile(paths[k - 1]!, paths[k]!);
        await mutateImage(paths[k]!, MUTATE_FRACTION, 1000 * (i + 1) + k);
      }
      versions.set(v, paths);
    }),
  );
});

afterAll(async () => {
  await removeDir(dir);
});

describe.each<StoreKind>(['folder', 's3'])('garbage collection during concurrent archives (%s)', (kind) => {
  it(`${ARCHIVES} archives on each of 2 volumes while forget --prune loops: nothing lost, space freed`, { timeout: 240_000 }, async () => {
    const work = await makeTempDir(`gc-conc-${kind}`);
    try {
      const target = await createRepoTarget(kind, work, PASSWORD);
      const { env } = target;
      const recorded = new Map<string, ArchivedSnapshot>();
      let archiversDone = false;

      // One archiver per volume: the volume's image (one path, rewritten between archives as a
      // mutated volume would be) archived again and again, with capture times an hour apart (the
      // two volumes interleave: vol-a at even hours, vol-b at odd ones).
      const archiver = async (volumeId: string, v: number): Promise<ArchivedSnapshot[]> => {
        const image = join(work, `${volumeId}.img`);
        const made: ArchivedSnapshot[] = [];
        for (let i = 0; i < ARCHIVES; i++) {
          await copyFile(versions.get(volumeId)![i]!, image);
          const { run, snapshot } = await runArchive(env, image, volumeId, timeAt(2 * i + v));
          expect(run.code, `archive ${volumeId} #${i + 1}\n${describeRun(run)}`).toBe(0);
          recorded.set(snapshot!.id, snapshot!);
          made.push(snapshot!);
        }
        return made;
      };

      // The collector: forget by retention and prune, over and over, until the archivers stop.
      const reports: PruneJson[] = [];
      const failures: string[] = [];
      let removed = 0;
      const collector = async (): Promise<void> => {
        while (!archiversDone) {
          const r = await runCli(['forget', '--all', '--keep-last', String(KEEP_LAST), '--prune', '--repack-below', REPACK_BELOW, '--json'], env);
          if (r.code !== 0) {
            failures.push(`forget --prune (round ${reports.length + failures.length + 1}): ${describeRun(r)}`);
            continue;
          }
          const json = parseJson<ForgetJson>(r);
          removed += json.volumes.reduce((a, vol) => a + vol.remove.length, 0);
          reports.push(json.prune!);
        }
      };

      const started = Date.now();
      const collecting = collector();
      let archived: ArchivedSnapshot[][];
      try {
        archived = await Promise.all(VOLUMES.map((v, i) => archiver(v, i)));
      } finally {
        archiversDone = true;
        await collecting;
      }
      const loopSeconds = (Date.now() - started) / 1000;
      // The loop must really have overlapped the archives, several times.
      expect(reports.length + failures.length, 'forget --prune rounds while archives ran').toBeGreaterThanOrEqual(3);

      // With the archivers gone, one more forget + prune: nothing can block its markers now.
      const last = await runCli(['forget', '--all', '--keep-last', String(KEEP_LAST), '--json'], env);
      expect(last.code, describeRun(last)).toBe(0);
      removed += parseJson<ForgetJson>(last).volumes.reduce((a, vol) => a + vol.remove.length, 0);
      const prune = await runCli(['prune', '--repack-below', REPACK_BELOW, '--json'], env);
      expect(prune.code, describeRun(prune)).toBe(0);
      const final = parseJson<PruneJson>(prune);
      reports.push(final);
      expect(final.waiting, 'no archive runs: nothing may wait').toEqual([]);
      expect(await listObjects(target, 'prune/'), 'deletion markers left after a prune with no archive running').toEqual([]);
      expect(await listObjects(target, 'locks/'), 'leases left after every archive ended').toEqual([]);

      // Exactly the newest KEEP_LAST snapshots of each volume remain, and each restores exactly.
      const remaining = await listSnapshots(env);
      const expectedIds = archived.flatMap((made) => made.slice(-KEEP_LAST).map((s) => s.id)).sort();
      expect(remaining.map((s) => s.id).sort()).toEqual(expectedIds);
      // (A failed forget --prune has removed its snapshots before its prune failed: count them here.)
      removed = recorded.size - remaining.length;
      const restored = await expectAllRestore(env, recorded, work, `${kind} after concurrent gc`);
      expect(restored).toHaveLength(VOLUMES.length * KEEP_LAST);
      const verify = await expectVerifyClean(env, `${kind} after concurrent gc`);
      expect(verify.packsRead).toBe(verify.packsTotal);

      // Space: prune deleted packs, and the repository holds less than everything ever stored.
      const freed = reports.reduce((a, r) => a + r.freedBytes, 0);
      const deletedPacks = reports.reduce((a, r) => a + r.deletedPacks, 0);
      const storedTotal = [...recorded.values()].reduce((a, s) => a + s.storedBytes, 0);
      const packs = await packStats(target);
      const waitedRounds = reports.filter((r) => r.waiting.length > 0).length;
      const freedWhileArchiving = reports.slice(0, -1).reduce((a, r) => a + r.freedBytes, 0);
      console.log(
        `[gc-concurrency ${kind}] ${loopSeconds.toFixed(1)} s, ${reports.length} prune runs ok, ${failures.length} failed (${waitedRounds} waited for archives), ` +
          `${removed} snapshots forgotten, ${deletedPacks} packs deleted, freed ${freed} B (${freedWhileArchiving} B while archiving), ` +
          `repacked ${reports.reduce((a, r) => a + r.repackedPacks, 0)} packs, reprieved ${reports.reduce((a, r) => a + r.reprievedPacks, 0)}; ` +
          `stored by archives ${storedTotal} B, packs now ${packs.bytes} B in ${packs.packs}`,
      );
      expect(freed, 'prune never freed anything').toBeGreaterThan(0);
      expect(deletedPacks).toBeGreaterThan(0);
      expect(packs.bytes, 'the repository is not smaller than without prune').toBeLessThan(storedTotal);
      // And nothing collectable is left: every pack that stays is at least 90% needed.
      const dry = await runCli(['prune', '--dry-run', '--repack-below', REPACK_BELOW, '--json'], env);
      expect(dry.code, describeRun(dry)).toBe(0);
      expect(parseJson<PruneJson>(dry)).toMatchObject({ condemnedPacks: 0, waiting: [] });

      // Last, because the data checks above say more: no forget/prune run may have failed while
      // the archives ran. (Before 0f34ffd about one run in five failed here with everything above
      // passing: the live-set race gc-live-set-race.test.ts reproduces deterministically, exit 4
      // "manifest node ... is missing from the index" on an intact repository.)
      expect(failures, `${failures.length} of ${failures.length + reports.length - 1} forget --prune runs failed:\n${failures.join('\n\n')}`).toEqual([]);
    } finally {
      await removeDir(work);
    }
  });
});
