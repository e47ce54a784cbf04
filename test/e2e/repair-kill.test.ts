/**
 * The repair commands killed with SIGKILL at random points, 10 rounds each, while an archive of
 * another volume runs beside them: nothing that was intact is lost. After every round the
 * snapshots verify calls damaged are only those the damage cost at the start, the untouched
 * volume and the newest archive restore byte-identical, and the archive that ran beside the
 * killed repair succeeded. Then each repair runs to the end, and finally verify is clean and
 * every snapshot restores (the repaired ones with zeros exactly where they declare).
 *
 * SNAPFLEET_REPAIR_KILL_SEED replays a run (the seed is printed).
 */
import { open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository, readPackList } from '@snapfleet/shared';
import { FolderBlobStore } from '@snapfleet/providers';
import { createImage, describeRun, makeTempDir, parseJson, removeDir, runCli, sha256File, spawnCli, type CliEnv } from '../support/cli.js';
import { changeBlocks } from '../support/change-blocks.js';
import { archiveImage, randomInt, runKilled, seededRandom, timeAt, type ArchivedSnapshot } from '../support/gc.js';

const ROUNDS = 10;
const SEED = Number(process.env.SNAPFLEET_REPAIR_KILL_SEED) || 20261206;
const IMAGE_MIB = 16;
/** The volume archived beside each killed repair: small, so thirty rounds stay cheap. */
const SIDE_IMAGE_MIB = 4;
const PASSWORD = 'repair-kill-pw-4%';
/**
 * Kill windows: `repair index` and `repair packs` take about a second here with start-up, `repair
 * snapshots` (which loads the index and writes manifests) about three; kills land before, in and
 * after their work.
 */
const KILL_MIN_MS = 100;
const KILL_MAX_MS: Record<string, number> = { index: 1200, packs: 1500, snapshots: 3500 };

interface VerifyJson {
  problems: { kind: string }[];
  summary: { damaged: { snapshotId: string }[] };
}

interface SnapshotJson {
  id: string;
  volumeId: string;
  damaged?: [number, number][];
  repairedFrom?: string;
}

let dir: string;
let repoDir: string;
let env: CliEnv;
const images: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
/** Every snapshot archived, with the sha256 of its image then. */
const recorded = new Map<string, ArchivedSnapshot>();
/** vol-a's snapshots' images, for the repaired copies' expected bytes. */
const imageBytes = new Map<string, Buffer>();
/** The snapshots the damage costs at the start: verify may never name another. */
let damagedAtStart: Set<string>;
let hour = 0;

async function flip(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const size = (await handle.stat()).size;
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, Math.floor(size / 2));
    byte[0] = byte[0]! ^ 0x40;
    await handle.write(byte, 0, 1, Math.floor(size / 2));
  } finally {
    await handle.close();
  }
}

/** Verify; between rounds a share of the packs is read back (the manifests and index always in full). */
async function verifyJson(readShare = '100%'): Promise<VerifyJson> {
  const r = await runCli(['verify', '--json', '--read-data-subset', readShare], env);
  expect([0, 3, 5], describeRun(r)).toContain(r.code);
  return parseJson<VerifyJson>(r);
}

async function restoreSha(id: string): Promise<string> {
  const to = join(dir, `restore-${id.slice(0, 12)}.img`);
  const r = await runCli(['restore', '--snapshot', id, '--to', to, '-q'], env);
  expect(r.code, describeRun(r)).toBe(0);
  try {
    return await sha256File(to);
  } finally {
    await rm(to, { force: true });
  }
}

beforeAll(async () => {
  dir = await makeTempDir('repair-kill');
  repoDir = join(dir, 'repo');
  env = { SNAPFLEET_REPOSITORY: repoDir, SNAPFLEET_PASSWORD: PASSWORD };
  for (const [name, seed] of [
    ['a', 81],
    ['b', 82],
    ['c', 83],
  ] as const) {
    images[name] = join(dir, `${name}.img`);
    await createImage(images[name], name === 'c' ? SIDE_IMAGE_MIB : IMAGE_MIB, seed);
  }
  expect((await runCli(['init'], env)).code).toBe(0);
  for (let day = 0; day < 2; day++) {
    if (day > 0) await changeBlocks(images.a, 0.05, 90);
    const s = await archiveImage(env, images.a, 'vol-a', timeAt(hour++), ['--pack-size', '1']);
    recorded.set(s.id, s);
    imageBytes.set(s.id, await readFile(images.a));
  }
  const b = await archiveImage(env, images.b, 'vol-b', timeAt(hour++), ['--pack-size', '1']);
  recorded.set(b.id, b);

  // Damage to vol-a's first snapshot's packs: one cut, one flipped, one deleted, and the index
  // objects of two others flipped.
  const repo = await openRepository(new FolderBlobStore(repoDir), { password: PASSWORD });
  const first = await repo.loadSnapshot([...recorded.keys()][0]!);
  const bPacks = new Set((await readPackList(repo, (await repo.loadSnapshot(b.id)).packList!))!.map((p) => p.packId));
  const aPacks = (await readPackList(repo, first.packList!))!.filter((p) => !bPacks.has(p.packId)).sort((x, y) => y.packLength - x.packLength);
  expect(aPacks.length).toBeGreaterThanOrEqual(5);
  const packPath = (id: string) => join(repoDir, 'data', id.slice(0, 2), id);
  await truncate(packPath(aPacks[0]!.packId), Math.floor(aPacks[0]!.packLength / 2));
  await flip(packPath(aPacks[1]!.packId));
  await rm(packPath(aPacks[2]!.packId));
  await flip(join(repoDir, 'index', aPacks[3]!.packId));
  await writeFile(join(repoDir, 'index', aPacks[4]!.packId), 'junk');

  const report = await verifyJson();
  damagedAtStart = new Set(report.summary.damaged.map((d) => d.snapshotId));
  expect(damagedAtStart.size).toBeGreaterThan(0);
  expect(damagedAtStart.has(b.id)).toBe(false);
}, 180_000);

afterAll(async () => {
  await removeDir(dir);
});

/** Archives vol-c (changed each time) while `repair` runs and is killed; checks what must hold. */
async function killedRound(repair: string[], rng: () => number, round: number): Promise<boolean> {
  await changeBlocks(images.c, 0.05, 1000 + hour);
  const sha256 = await sha256File(images.c);
  const time = timeAt(hour++);
  const archive = spawnCli(['archive', images.c, '--volume-id', 'vol-c', '--time', time, '--json', '--pack-size', '1'], env);
  const delayMs = randomInt(rng, KILL_MIN_MS, KILL_MAX_MS[repair[1]!]!);
  const { result, how } = await runKilled(repair, env, { delayMs, onWrites: false, worked: async () => true, pollMs: 5 });
  const context = `${repair.join(' ')} round ${round}, killed ${how}`;
  expect(result.code === 0 || result.signal === 'SIGKILL', `${context}\n${describeRun(result)}`).toBe(true);
  const archived = await archive.done;
  expect(archived.code, `the archive beside ${context}\n${describeRun(archived)}`).toBe(0);
  const id = parseJson<{ snapshot: string }>(archived).snapshot;
  recorded.set(id, { id, volumeId: 'vol-c', time, sha256, storedBytes: 0 });

  // Nothing that was intact is lost: verify names no new damage; b and the new archive restore.
  const report = await verifyJson('10%');
  for (const d of report.summary.damaged) expect(damagedAtStart.has(d.snapshotId), `${context}: verify calls ${d.snapshotId} damaged`).toBe(true);
  const b = [...recorded.values()].find((s) => s.volumeId === 'vol-b')!;
  expect(await restoreSha(b.id), context).toBe(b.sha256);
  expect(await restoreSha(id), context).toBe(sha256);
  return result.signal === 'SIGKILL';
}

describe('repair commands killed at random points beside a running archive', () => {
  const commands = [
    ['repair', 'index'],
    ['repair', 'packs'],
    ['repair', 'snapshots', '--forget'],
  ];
  it.each(commands.map((c) => [c.join(' '), c] as const))(
    '%s',
    async (_name, repair) => {
      const seed = SEED + commands.findIndex((c) => c.join(' ') === repair.join(' '));
      console.log(`${repair.join(' ')}: SNAPFLEET_REPAIR_KILL_SEED=${seed}`);
      const rng = seededRandom(seed);
      let killed = 0;
      for (let round = 0; round < ROUNDS; round++) if (await killedRound([...repair], rng, round)) killed++;
      console.log(`${repair.join(' ')}: ${killed} of ${ROUNDS} runs killed`);
      expect(killed).toBeGreaterThan(0);
      const done = await runCli([...repair], env);
      expect(done.code, describeRun(done)).toBe(0);
    },
    600_000,
  );

  it('after all three: verify is clean and every snapshot restores what survived', async () => {
    const r = await runCli(['verify', '--json'], env);
    expect(r.code, describeRun(r)).toBe(0);
    expect(parseJson<VerifyJson>(r).problems).toEqual([]);
    const snapshots = parseJson<SnapshotJson[]>(await runCli(['snapshots', '--json'], env));
    // vol-c's snapshots were each restored in their round; the newest stands for them here.
    const newestC = snapshots.filter((s) => s.volumeId === 'vol-c').at(-1);
    for (const s of snapshots) {
      if (s.volumeId === 'vol-c' && s !== newestC) continue;
      if (s.repairedFrom) {
        const bytes = Buffer.from(imageBytes.get(s.repairedFrom)!);
        for (const [first, count] of s.damaged ?? []) bytes.fill(0, first * 4096, (first + count) * 4096);
        const path = join(dir, 'expected.img');
        await writeFile(path, bytes);
        expect(await restoreSha(s.id), `repaired ${s.id}`).toBe(await sha256File(path));
      } else {
        expect(recorded.has(s.id), `snapshot ${s.id} was archived by this test`).toBe(true);
        expect(await restoreSha(s.id), `snapshot ${s.id} (${s.volumeId})`).toBe(recorded.get(s.id)!.sha256);
      }
    }
    // The originals the damage cost were forgotten; their repaired copies stand in for them.
    expect(
      snapshots
        .filter((s) => s.repairedFrom)
        .map((s) => s.repairedFrom)
        .sort(),
    ).toEqual([...damagedAtStart].sort());
  }, 300_000);
});
