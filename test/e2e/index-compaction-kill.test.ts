/**
 * Index compaction and prune killed with SIGKILL at random points while three archives run
 * (docs/format.md, "Index compaction" and "Garbage collection"): every round starts three
 * archives of changed volumes at once (small packs, so that each stores many packs and index
 * objects), runs `maintenance` (compaction) or `forget` + `prune` beside them, and kills that
 * after a seeded random delay, from its start or from its first visible write. The archives
 * share one host index table (one cache folder, as processes on one host do). Every archive
 * must succeed, verify must be clean after every round, and at the end every snapshot the
 * repository lists restores byte-identically.
 *
 * SNAPFLEET_COMPACT_KILL_SEED replays a run (the seed is printed); SNAPFLEET_COMPACT_KILL_ROUNDS
 * changes the number of rounds.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository } from '@snapfleet/shared';
import { FolderBlobStore } from '@snapfleet/providers';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import { changeBlocks } from '../support/change-blocks.js';
import {
  archiveVolumeImages,
  createRepoTarget,
  createVolumeImages,
  expectAllRestore,
  expectVerifyClean,
  listObjects,
  packStats,
  randomInt,
  runArchive,
  runKilled,
  seededRandom,
  timeAt,
  type PruneJson,
} from '../support/gc.js';

const PASSWORD = 'compact-kill-pw-3#x';
const VOLUMES = 3;
const IMAGE_MIB = 8;
const ROUNDS = Number(process.env.SNAPFLEET_COMPACT_KILL_ROUNDS) || 20;
const SEED = Number(process.env.SNAPFLEET_COMPACT_KILL_SEED) || 20261204;
/** A tenth of the blocks change per round: every archive stores new packs. */
const MUTATE_FRACTION = 0.1;
/** 1 MiB packs: each archive writes several packs and index objects for compaction to merge. */
const PACK_ARGS = ['--pack-size', '1'];
/**
 * Kill delays: a CLI process takes ~0.3 s to start and open the repository, and a compaction
 * or prune of this repository a few hundred ms more; this spread covers before, during and
 * (sometimes) after the work.
 */
const KILL_MIN_MS = 200;
const KILL_MAX_MS = 1200;
/** A compaction's writes (merged objects, then deletes) take tens of milliseconds here. */
const AFTER_FIRST_WRITE_MS = 40;
/** How often the repository is looked at for the op's first write. */
const POLL_MS = 5;

let dir: string;
let images: string[] = [];

beforeAll(async () => {
  dir = await makeTempDir('compact-kill');
  images = await createVolumeImages(dir, VOLUMES, IMAGE_MIB, 300);
});

afterAll(async () => {
  await removeDir(dir);
});

describe('index compaction and prune killed while archives run', () => {
  it(`${ROUNDS} rounds of kills lose nothing; every snapshot restores`, { timeout: 900_000 }, async () => {
    const target = await createRepoTarget('folder', dir, PASSWORD);
    // One cache folder for every process, as on one host: the three archives of a round look
    // blobs up in one host index table, refreshing it at once while compaction and prune
    // replace the index objects it was built from.
    const env = { ...target.env, SNAPFLEET_CACHE_DIR: join(dir, 'host-cache') };
    const recorded = await archiveVolumeImages(env, images, PACK_ARGS);
    const rng = seededRandom(SEED);
    const outcomes: string[] = [];
    let killed = 0;
    let midWork = 0;
    // Archives only add index objects, each named after a pack they stored first. An index
    // object that vanished, or one named after no pack (a merged object), or a new deletion
    // marker is the op's work.
    const opState = async () => new Set([...(await listObjects(target, 'index/')), ...(await listObjects(target, 'prune/'))].map((o) => o.key));
    const opWorked = async (before: Set<string>): Promise<boolean> => {
      const after = await opState();
      if ([...before].some((k) => !after.has(k))) return true;
      const packs = (await packStats(target)).ids;
      return [...after].some((k) => !before.has(k) && (k.startsWith('prune/') || !packs.has(k.slice('index/'.length))));
    };
    for (let round = 1; round <= ROUNDS; round++) {
      const compaction = round % 2 === 1;
      if (!compaction) {
        const f = await runCli(['forget', '--all', '--keep-last', '2', '--json'], env);
        expect(f.code, describeRun(f)).toBe(0);
      }
      await Promise.all(images.map((img, v) => changeBlocks(img, MUTATE_FRACTION, 1000 * round + v)));
      const archives = images.map((img, v) => runArchive(env, img, `vol-${v}`, timeAt(24 * round), PACK_ARGS));
      const before = await opState();
      // Every other kill strikes a random 0-40 ms after the op's first visible write (its
      // writes are the short last part of its run); the others after a random delay from start.
      const onWrites = Math.floor(round / 2) % 2 === 1;
      const delay = onWrites ? randomInt(rng, 0, AFTER_FIRST_WRITE_MS) : randomInt(rng, KILL_MIN_MS, KILL_MAX_MS);
      const op = compaction ? ['maintenance', '--json'] : ['prune', '--repack-below', '50%', '--json'];
      const { result: r, how } = await runKilled(op, env, { onWrites, delayMs: delay, worked: () => opWorked(before), pollMs: POLL_MS });
      const context = `round ${round} (${op[0]} killed ${how}, seed ${SEED})`;
      if (r.signal === 'SIGKILL') {
        killed++;
        const changed = await opWorked(before);
        if (changed) midWork++;
        outcomes.push(`${op[0]}: killed ${how}${changed ? ', mid-work' : ''}`);
      } else {
        // A prune may find the last round's killed prune still holding the repository only if
        // its holder looked alive; on one machine a dead holder's lease is taken over.
        expect(r.code, `${context}: ${op[0]} failed on its own\n${describeRun(r)}`).toBe(0);
        outcomes.push(`${op[0]}: completed (kill planned ${how})`);
      }
      for (const a of await Promise.all(archives)) {
        expect(a.run.code, `${context}: an archive beside it failed\n${describeRun(a.run)}`).toBe(0);
        recorded.set(a.snapshot!.id, a.snapshot!);
      }
      await expectVerifyClean(env, context);
    }
    console.log(`[compact-kill] seed ${SEED}: ${killed} of ${ROUNDS} killed, ${midWork} of them mid-work\n  ${outcomes.join('\n  ')}`);
    expect(midWork, 'too few kills landed while compaction or prune was changing the repository').toBeGreaterThanOrEqual(Math.floor(ROUNDS / 5));

    // Unkilled, compaction and prune finish whatever the kills left.
    const m = await runCli(['maintenance', '--json'], env);
    expect(m.code, describeRun(m)).toBe(0);
    const p = await runCli(['prune', '--repack-below', '50%', '--json'], env);
    expect(p.code, describeRun(p)).toBe(0);
    expect(parseJson<PruneJson>(p).waiting).toEqual([]);
    expect(await listObjects(target, 'prune/')).toEqual([]);
    await expectVerifyClean(env, 'after the final maintenance and prune');
    const restored = await expectAllRestore(env, recorded, dir, 'after the final maintenance and prune');
    expect(restored.length).toBeGreaterThanOrEqual(VOLUMES * 2);

    // Every pack is indexed, every indexed pack exists, and the index is a few objects again.
    const repo = await openRepository(new FolderBlobStore(target.repoUrl), { password: PASSWORD });
    const indexed = new Set<string>();
    for await (const pack of repo.indexedPacks()) indexed.add(pack.packId);
    const packs = (await packStats(target)).ids;
    expect(
      [...indexed].filter((id) => !packs.has(id)),
      'index entries for missing packs',
    ).toEqual([]);
    // Packs a killed repack stored without their index object wait for the next maintenance or
    // prune to adopt them (docs/format.md, ordering invariant 3): reported, not judged.
    console.log(`[compact-kill] packs without an index entry at the end: ${[...packs].filter((id) => !indexed.has(id)).length}`);
    expect((await listObjects(target, 'index/')).length).toBeLessThanOrEqual(3);
  });
});
