/**
 * Locality maintenance killed with SIGKILL at random points while three archives run, with
 * prunes in between (docs/format.md, "Locality"): every round starts three archives of changed
 * volumes at once and, beside them, `maintenance` with thresholds that relocate every volume's
 * newest snapshot, or `forget` + `prune`, and kills it after a seeded random delay, from its start
 * or from its first visible write. Every archive must succeed, verify must be clean after every
 * round, and at the end every snapshot the repository lists restores byte-identically, the newest
 * ones from their layout lists.
 *
 * SNAPFLEET_LOCALITY_KILL_SEED replays a run (the seed is printed); SNAPFLEET_LOCALITY_KILL_ROUNDS
 * changes the number of rounds.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import { changeBlocks } from '../support/change-blocks.js';
import {
  archiveVolumeImages,
  createRepoTarget,
  createVolumeImages,
  expectAllRestore,
  expectVerifyClean,
  listObjects,
  listSnapshots,
  randomInt,
  runArchive,
  runKilled,
  seededRandom,
  timeAt,
  type PruneJson,
} from '../support/gc.js';

const PASSWORD = 'locality-kill-pw-7#q';
const VOLUMES = 3;
/**
 * Sixteen restore windows of 8 MiB: a day's changes are read by most of them, a full archive's
 * packs by a few, so relocation has work (in a volume of a few windows every pack is dense).
 */
const IMAGE_MIB = 128;
const ROUNDS = Number(process.env.SNAPFLEET_LOCALITY_KILL_ROUNDS) || 10;
const SEED = Number(process.env.SNAPFLEET_LOCALITY_KILL_SEED) || 20261205;
const MUTATE_FRACTION = 0.05;
/** 1 MiB packs: each day's changes spread over packs, as a large volume's over 16 MiB ones. */
const PACK_ARGS = ['--pack-size', '1'];
/** Each maintenance relocates what lies outside dense packs, whatever the thresholds. */
const RELOCATE_ALWAYS = ['--force-relocation'];
/** A CLI process takes ~0.3 s to start; relocating three volumes a few seconds more. */
const KILL_MIN_MS = 200;
const KILL_MAX_MS = 3000;
const AFTER_FIRST_WRITE_MS = 60;
const POLL_MS = 5;

interface MaintenanceJson {
  locality?: { volumes: { volumeId: string; relocated: boolean; copiedBytes: number }[] };
}

let dir: string;
let images: string[] = [];

beforeAll(async () => {
  dir = await makeTempDir('locality-kill');
  images = await createVolumeImages(dir, VOLUMES, IMAGE_MIB, 400);
});

afterAll(async () => {
  await removeDir(dir);
});

describe('locality maintenance killed while archives and prunes run', () => {
  it(`${ROUNDS} rounds of kills lose nothing; every snapshot restores`, { timeout: 900_000 }, async () => {
    const target = await createRepoTarget('folder', dir, PASSWORD);
    const env = { ...target.env, SNAPFLEET_CACHE_DIR: join(dir, 'host-cache') };
    const recorded = await archiveVolumeImages(env, images, PACK_ARGS);
    const rng = seededRandom(SEED);
    const outcomes: string[] = [];
    let killed = 0;
    let relocations = 0;
    // Archives add packs and index objects named after them; layout lists and deletion markers
    // are only ever the op's.
    const opState = async () => new Set([...(await listObjects(target, 'layouts/')), ...(await listObjects(target, 'prune/'))].map((o) => o.key));
    const opWorked = async (before: Set<string>): Promise<boolean> => {
      const after = await opState();
      return [...before].some((k) => !after.has(k)) || [...after].some((k) => !before.has(k));
    };
    for (let round = 1; round <= ROUNDS; round++) {
      // Two rounds of locality for each prune: prune must keep what relocations wrote.
      const locality = round % 3 !== 0;
      if (!locality) {
        const f = await runCli(['forget', '--all', '--keep-last', '3', '--json'], env);
        expect(f.code, describeRun(f)).toBe(0);
      }
      await Promise.all(images.map((img, v) => changeBlocks(img, MUTATE_FRACTION, 2000 * round + v)));
      const archives = images.map((img, v) => runArchive(env, img, `vol-${v}`, timeAt(24 * round), PACK_ARGS));
      // Let the archives start first, so that the op runs beside them.
      await sleep(randomInt(rng, 0, 300));
      const before = await opState();
      const onWrites = Math.floor(round / 2) % 2 === 1;
      const delay = onWrites ? randomInt(rng, 0, AFTER_FIRST_WRITE_MS) : randomInt(rng, KILL_MIN_MS, KILL_MAX_MS);
      const op = locality ? ['maintenance', ...RELOCATE_ALWAYS, '--json'] : ['prune', '--repack-below', '50%', '--json'];
      const { result: r, how } = await runKilled(op, env, { onWrites, delayMs: delay, worked: () => opWorked(before), pollMs: POLL_MS });
      const context = `round ${round} (${op[0]} killed ${how}, seed ${SEED})`;
      if (r.signal === 'SIGKILL') {
        killed++;
        outcomes.push(`${op[0]}: killed ${how}${(await opWorked(before)) ? ', mid-work' : ''}`);
      } else {
        expect(r.code, `${context}: ${op[0]} failed on its own\n${describeRun(r)}`).toBe(0);
        if (locality) relocations += (parseJson<MaintenanceJson>(r).locality?.volumes ?? []).filter((v) => v.relocated).length;
        outcomes.push(`${op[0]}: completed (kill planned ${how})`);
      }
      for (const a of await Promise.all(archives)) {
        expect(a.run.code, `${context}: an archive beside it failed\n${describeRun(a.run)}`).toBe(0);
        recorded.set(a.snapshot!.id, a.snapshot!);
      }
      await expectVerifyClean(env, context);
    }
    console.log(`[locality-kill] seed ${SEED}: ${killed} of ${ROUNDS} killed, ${relocations} relocations completed\n  ${outcomes.join('\n  ')}`);
    expect(killed, 'too few kills landed').toBeGreaterThanOrEqual(Math.floor(ROUNDS / 3));

    // Unkilled, maintenance relocates every volume's newest snapshot, and prune keeps those copies.
    const m = await runCli(['maintenance', ...RELOCATE_ALWAYS, '--json'], env);
    expect(m.code, describeRun(m)).toBe(0);
    const relocated = (parseJson<MaintenanceJson>(m).locality?.volumes ?? []).filter((v) => v.relocated).map((v) => v.volumeId);
    expect(relocated.length, 'the final maintenance relocated no volume').toBeGreaterThan(0);
    const p = await runCli(['prune', '--repack-below', '50%', '--json'], env);
    expect(p.code, describeRun(p)).toBe(0);
    expect(parseJson<PruneJson>(p).waiting).toEqual([]);
    await expectVerifyClean(env, 'after the final maintenance and prune');
    // One layout list per relocated snapshot (a killed run's older one is replaced), and only for
    // snapshots that exist (prune removed those of forgotten ones).
    const owners = (await listObjects(target, 'layouts/')).map((o) => o.key.split('/')[2]!);
    expect(new Set(owners).size, 'a snapshot with two layout lists').toBe(owners.length);
    const listed = new Set((await listSnapshots(env)).map((s) => s.id));
    expect(
      owners.filter((id) => !listed.has(id)),
      'layout lists of snapshots that are gone',
    ).toEqual([]);
    expect(owners.length).toBeGreaterThanOrEqual(VOLUMES);
    const restored = await expectAllRestore(env, recorded, dir, 'after the final maintenance and prune');
    expect(restored.length).toBeGreaterThanOrEqual(VOLUMES * 3);
    // The newest snapshot of each volume relocated just now restores from its layout list, with
    // nothing looked up beyond it: the prune after the relocation kept the copies it names. (One
    // not relocated may read some blobs through the index: its own list can name old copies
    // that prune drained in favour of another snapshot's layout.)
    for (const volumeId of relocated) {
      const out = join(dir, `newest-${volumeId}.img`);
      const res = await runCli(['restore', '--volume-id', volumeId, '--snapshot', 'latest', '--to', out, '--json', '-q'], env);
      expect(res.code, describeRun(res)).toBe(0);
      expect(parseJson<{ read: { fallbackBlobs: number } }>(res).read.fallbackBlobs).toBe(0);
      await removeDir(out);
    }
  });
});
