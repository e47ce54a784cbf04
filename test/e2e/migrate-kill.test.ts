/**
 * `snapfleet migrate` killed with SIGKILL at random points never loses a snapshot, never hides
 * one, and the next run completes (docs/format.md, changes log for version 2;
 * packages/shared/src/engine/migrate.ts).
 *
 * A format-1 repository (`init --format-version 1`: flat snapshot keys, as snapfleet wrote
 * before format 2) with snapshots of three volumes: two archives of each through the CLI, and
 * copies of those (same tree, other times and tags, stored through the engine, as a format-1
 * writer stores them) so that migrate has ~50 objects to move and its moves last long enough to
 * be hit. Then, repeatedly: start `migrate`, SIGKILL it (every other kill after a seeded random
 * delay spread over the time an unkilled run takes, the others a seeded random time within the
 * moves after its first visible change under snapshots/), and check that the repository lists
 * every snapshot, whole and per volume. One archive goes into the repository while a killed
 * migration is half done. When a run got to finish, the repository is put back into the
 * format-1 layout first, so that every kill has work to interrupt. Finally an unkilled run
 * completes; verify is clean and every snapshot restores to the exact bytes it was taken of.
 *
 * SNAPFLEET_MIGRATE_KILL_SEED replays a run (the seed is printed).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createInlineCodecPool, openRepository, restoreSnapshot, type Repository } from '@snapfleet/shared';
import { MemoryVolumeTarget, sha256Hex } from '@snapfleet/shared/testing';
import { FolderBlobStore } from '@snapfleet/providers';
import { createImage, describeRun, makeTempDir, parseJson, removeDir, runCli, sha256File, spawnCli, type CliEnv } from '../support/cli.js';
import { changeBlocks } from '../support/change-blocks.js';
import {
  archiveImage,
  copyRepository,
  createRepoTarget,
  expectVerifyClean,
  listObjects,
  randomInt,
  seededRandom,
  timeAt,
  type ArchivedSnapshot,
  type RepoTarget,
  type SnapshotJson,
} from '../support/gc.js';

const PASSWORD = 'migrate-kill-pw-Tz8&';
const IMAGE_MIB = 4;
const VOLUMES = ['vol-a', 'vol-b', 'vol-c'];
const ARCHIVES_PER_VOLUME = 2;
/** Copies stored of each archived snapshot: 6 archives become 48 snapshot objects to move. */
const COPIES = 7;
const KILLS = 8;
/** How often the snapshots folder is looked at while migrate runs. */
const POLL_MS = 2;
const SEED = Number(process.env.SNAPFLEET_MIGRATE_KILL_SEED) || 20261204;

const FLAT_KEY = /^snapshots\/[0-9a-f]{64}$/;
const VOLUME_KEY = /^snapshots\/[0-9a-f]{32}\/[0-9a-f]{64}$/;

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('migrate-kill');
});

afterAll(async () => {
  await removeDir(dir);
});

interface MigrateJson {
  fromVersion: number;
  version: number;
  moved: number;
  runningArchives: number;
}

interface Layout {
  version: number;
  flat: number;
  perVolume: number;
}

async function layout(target: RepoTarget): Promise<Layout> {
  const keys = (await listObjects(target, 'snapshots/')).map((o) => o.key);
  const version = (JSON.parse(await readFile(join(target.repoUrl, 'config'), 'utf8')) as { version: number }).version;
  expect(
    keys.filter((k) => !FLAT_KEY.test(k) && !VOLUME_KEY.test(k)),
    'foreign objects under snapshots/',
  ).toEqual([]);
  return { version, flat: keys.filter((k) => FLAT_KEY.test(k)).length, perVolume: keys.filter((k) => VOLUME_KEY.test(k)).length };
}

/** Everything the snapshots folder holds, folders and files: cheap enough to poll while migrate runs. */
async function snapshotsFolder(target: RepoTarget): Promise<string[]> {
  return (await readdir(join(target.repoUrl, 'snapshots'), { recursive: true })).sort();
}

const hasFlat = (entries: string[]) => entries.some((e) => /^[0-9a-f]{64}$/.test(e));

/** Puts a migrated repository back into the format-1 layout, as snapfleet before format 2 left it. */
async function backToFormat1(target: RepoTarget): Promise<void> {
  const store = new FolderBlobStore(target.repoUrl);
  for (const o of await listObjects(target, 'snapshots/')) {
    if (!VOLUME_KEY.test(o.key)) continue;
    await store.put(`snapshots/${o.key.slice(-64)}`, await store.get(o.key));
    await store.delete(o.key);
  }
  const config = JSON.parse(Buffer.from(await store.get('config')).toString()) as Record<string, unknown>;
  await store.put('config', Buffer.from(JSON.stringify({ ...config, version: 1 }, null, 2) + '\n'));
}

const openRepo = (target: RepoTarget) => openRepository(new FolderBlobStore(target.repoUrl), { password: PASSWORD });

async function snapshotsJson(env: CliEnv, volumeId?: string): Promise<string[]> {
  const r = await runCli(['snapshots', '--json', ...(volumeId ? ['--volume-id', volumeId] : [])], env);
  expect(r.code, describeRun(r)).toBe(0);
  return parseJson<SnapshotJson[]>(r)
    .map((s) => s.id)
    .sort();
}

const idsOf = (recorded: ReadonlyMap<string, ArchivedSnapshot>, volumeId?: string) =>
  [...recorded.values()]
    .filter((s) => !volumeId || s.volumeId === volumeId)
    .map((s) => s.id)
    .sort();

/**
 * Every recorded snapshot is listed, once, by the whole listing and by its volume's: through the
 * engine (whole, every volume) and the CLI (one volume; whole too with `cliWhole`, which costs
 * another process start).
 */
async function expectAllListed(
  target: RepoTarget,
  recorded: ReadonlyMap<string, ArchivedSnapshot>,
  cliVolume: string,
  context: string,
  cliWhole = false,
): Promise<void> {
  if (cliWhole) expect(await snapshotsJson(target.env), context).toEqual(idsOf(recorded));
  expect(await snapshotsJson(target.env, cliVolume), `${context}: snapshots --volume-id ${cliVolume}`).toEqual(idsOf(recorded, cliVolume));
  const repo = await openRepo(target);
  expect((await repo.listSnapshots()).map((e) => e.id).sort(), context).toEqual(idsOf(recorded));
  for (const volumeId of VOLUMES)
    expect((await repo.listVolumeSnapshots(volumeId)).map((e) => e.id).sort(), `${context}: ${volumeId}`).toEqual(idsOf(recorded, volumeId));
}

/** Stores COPIES copies of each snapshot (the same tree at other times), as a format-1 writer does. */
async function storeCopies(repo: Repository, recorded: Map<string, ArchivedSnapshot>): Promise<void> {
  for (const entry of await repo.listSnapshots()) {
    const source = recorded.get(entry.id)!;
    for (let c = 1; c <= COPIES; c++) {
      const time = new Date(Date.parse(entry.snapshot.time) + c * 60_000).toISOString();
      const id = await repo.saveSnapshot({ ...entry.snapshot, time, tags: [`copy-${c}`] });
      recorded.set(id, { ...source, id, time });
    }
  }
}

/** Restores every snapshot through the engine (48 CLI processes would take half a minute). */
async function expectAllRestoreInProcess(target: RepoTarget, recorded: ReadonlyMap<string, ArchivedSnapshot>): Promise<void> {
  const repo = await openRepo(target);
  const pool = createInlineCodecPool(repo.keys);
  for (const entry of await repo.listSnapshots()) {
    const to = new MemoryVolumeTarget();
    await restoreSnapshot(repo, pool, { snapshot: entry, target: to });
    expect(sha256Hex(to.data), `snapshot ${entry.id} (${entry.snapshot.volumeId} @ ${entry.snapshot.time}) restored to different bytes`).toBe(
      recorded.get(entry.id)?.sha256,
    );
  }
}

/** How long the moves of an unkilled migrate last: from its first change under snapshots/ to the last flat key gone. */
async function timeMoves(target: RepoTarget): Promise<{ totalMs: number; movesMs: number }> {
  const quiet = await snapshotsFolder(target);
  const t0 = performance.now();
  const { done } = spawnCli(['migrate', '--json'], target.env);
  let exited = false;
  void done.then(() => (exited = true));
  let first: number | undefined;
  let last: number | undefined;
  while (!exited && last === undefined) {
    const now = await snapshotsFolder(target);
    if (first === undefined && now.join() !== quiet.join()) first = performance.now();
    if (first !== undefined && !hasFlat(now)) last = performance.now();
    await sleep(POLL_MS);
  }
  const r = await done;
  expect(r.code, describeRun(r)).toBe(0);
  expect(parseJson<MigrateJson>(r)).toMatchObject({ fromVersion: 1, version: 2, runningArchives: 0 });
  return { totalMs: performance.now() - t0, movesMs: first !== undefined && last !== undefined ? last - first : 0 };
}

it(`migrate killed ${KILLS} times at random points loses nothing; the next run completes`, async () => {
  const target = await createRepoTarget('folder', dir, PASSWORD, { init: false });
  const { env } = target;
  const init = await runCli(['init', '--format-version', '1', '--json'], env);
  expect(init.code, describeRun(init)).toBe(0);
  expect(parseJson(init).formatVersion).toBe(1);

  const recorded = new Map<string, ArchivedSnapshot>();
  const images = new Map<string, string>();
  let archives = 0;
  const archiveNext = async (volumeId: string) => {
    const image = images.get(volumeId)!;
    if ([...recorded.values()].some((s) => s.volumeId === volumeId)) await changeBlocks(image, 0.05, 500 + archives);
    const s = await archiveImage(env, image, volumeId, timeAt(24 * archives++));
    recorded.set(s.id, s);
    return s;
  };
  for (const [v, volumeId] of VOLUMES.entries()) {
    const image = join(dir, `${volumeId}.img`);
    await createImage(image, IMAGE_MIB, 300 + v);
    images.set(volumeId, image);
    for (let i = 0; i < ARCHIVES_PER_VOLUME; i++) await archiveNext(volumeId);
  }
  await storeCopies(await openRepo(target), recorded);
  const total = VOLUMES.length * ARCHIVES_PER_VOLUME * (1 + COPIES);
  expect(await layout(target)).toEqual({ version: 1, flat: total, perVolume: 0 });

  // An unkilled migrate of a copy: how long the whole run takes, and its moves.
  const probe = await createRepoTarget('folder', join(dir, 'probe'), PASSWORD, { init: false });
  await copyRepository(target, probe);
  const timing = await timeMoves(probe);
  expect(await layout(probe)).toEqual({ version: 2, flat: 0, perVolume: total });
  await removeDir(join(dir, 'probe'));
  const movesMs = Math.max(5, Math.round(timing.movesMs));

  const rng = seededRandom(SEED);
  const outcomes: string[] = [];
  let midWork = 0;
  let archivedMidMigration = false;
  for (let k = 0; k < KILLS; k++) {
    let before = await layout(target);
    if (before.version === 2 && before.flat === 0) {
      await backToFormat1(target);
      before = await layout(target);
    }
    const onMoves = k % 2 === 1;
    const delay = onMoves ? randomInt(rng, 0, movesMs) : randomInt(rng, 0, Math.round(timing.totalMs * 1.1));
    const started = performance.now();
    const quiet = (await snapshotsFolder(target)).join();
    const { child, done } = spawnCli(['migrate', '--json'], env);
    let exited = false;
    void done.then(() => (exited = true));
    let timer: NodeJS.Timeout | undefined;
    if (onMoves) {
      while (!exited && (await snapshotsFolder(target)).join() === quiet) await sleep(POLL_MS);
      if (!exited) timer = setTimeout(() => child.kill('SIGKILL'), delay);
    } else {
      timer = setTimeout(() => child.kill('SIGKILL'), delay);
    }
    const r = await done;
    clearTimeout(timer);
    const atMs = Math.round(performance.now() - started);
    const after = await layout(target);
    const how = onMoves ? `${delay} ms after its first change` : `after ${delay} ms`;
    const context = `kill #${k + 1} (seed ${SEED}, ${how}; unkilled: ${Math.round(timing.totalMs)} ms, moves ${movesMs} ms): ${JSON.stringify(after)}`;
    const volume = VOLUMES[k % VOLUMES.length]!;
    if (r.signal === 'SIGKILL') {
      const finished = after.version === 2 && after.flat === 0;
      const half = !finished && JSON.stringify(after) !== JSON.stringify(before);
      if (half) midWork++;
      outcomes.push(
        `${how} (at ${atMs} ms): ${half ? 'killed mid-work' : finished ? 'killed after finishing' : 'killed before any move'} ${JSON.stringify(after)}`,
      );
    } else {
      expect(r.code, `${context}: migrate failed on its own\n${describeRun(r)}`).toBe(0);
      outcomes.push(`${how}: completed in ${atMs} ms`);
    }
    expect(after.flat + after.perVolume, `${context}: snapshot objects missing`).toBeGreaterThanOrEqual(recorded.size);
    await expectAllListed(target, recorded, volume, context, k === 0);
    if (!archivedMidMigration && after.perVolume > 0 && !(after.version === 2 && after.flat === 0)) {
      // Archives keep working in a half-migrated repository, incremental on the volume's latest.
      const latest = idsOf(recorded, 'vol-b')
        .map((id) => recorded.get(id)!)
        .sort((a, b) => a.time.localeCompare(b.time))
        .at(-1)!;
      const s = await archiveNext('vol-b');
      const parent = (await (await openRepo(target)).loadSnapshot(s.id, 'vol-b')).parent;
      expect(parent, `${context}: the archive's parent`).toBe(latest.id);
      archivedMidMigration = true;
      await expectAllListed(target, recorded, 'vol-b', `${context}, then an archive`, true);
    }
  }
  console.log(
    `[migrate-kill] seed ${SEED}, ${total} snapshot objects; unkilled migrate ${Math.round(timing.totalMs)} ms, its moves ${movesMs} ms: ` +
      `${midWork} of ${KILLS} kills mid-work; archive into a half-migrated repository: ${archivedMidMigration}\n  ${outcomes.join('\n  ')}`,
  );
  // Half of the kills aim at the moves; a run may still finish first now and then.
  expect(midWork, 'no kill landed while migrate was moving objects').toBeGreaterThanOrEqual(1);
  expect(archivedMidMigration, 'no kill left a half-migrated repository to archive into').toBe(true);

  // Finally an unkilled run completes whatever the kills left, and a second one has nothing to do.
  const final = await runCli(['migrate', '--json'], env);
  expect(final.code, describeRun(final)).toBe(0);
  expect(parseJson<MigrateJson>(final)).toMatchObject({ version: 2, runningArchives: 0 });
  expect(await layout(target)).toEqual({ version: 2, flat: 0, perVolume: recorded.size });
  expect(await listObjects(target, 'locks/'), 'leases left by the final run or the killed ones').toEqual([]);
  const again = await runCli(['migrate'], env);
  expect(again.code, describeRun(again)).toBe(0);
  expect(again.stdout).toMatch(/already at format version 2/);

  await expectVerifyClean(env, 'after the final migrate');
  await expectAllListed(target, recorded, 'vol-a', 'after the final migrate', true);
  await expectAllRestoreInProcess(target, recorded);
  // And through the CLI, per volume: each volume's latest restores to its image as it is now.
  for (const volumeId of VOLUMES) {
    const to = join(dir, `restore-${volumeId}.img`);
    const r = await runCli(['restore', '--volume-id', volumeId, '--snapshot', 'latest', '--to', to, '--json'], env);
    expect(r.code, describeRun(r)).toBe(0);
    expect(await sha256File(to), `${volumeId} latest`).toBe(await sha256File(images.get(volumeId)!));
  }
});
