/**
 * The damage sweep: for every object class of a folder repository, a flipped byte, a cut and a
 * deletion, one at a time on a copy of the same repository. `verify` must name the right class
 * (and exit with that class's code) and the snapshots the damage costs; every snapshot the
 * damage does not touch must restore byte-identical; after the matching repair, verify must be
 * clean and every snapshot must restore what survived (a repaired one: zeros exactly in the
 * runs it declares).
 */
import { cp, mkdir, open, readdir, readFile, rm, truncate as truncateFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository, readPackList, type Repository } from '@snapfleet/shared';
import { FolderBlobStore } from '@snapfleet/providers';
import { createImage, describeRun, makeTempDir, mutateImage, parseJson, removeDir, runCli, sha256File, type CliEnv } from '../support/cli.js';

const IMAGE_MIB = 8;
const PASSWORD = 'sweep-pass-Q4v!';
const SECOND_PASSWORD = 'sweep-second-Zt8#';

type Damage = 'flip' | 'truncate' | 'delete';
type ObjectClass = 'pack' | 'index' | 'snapshot' | 'packlist' | 'key';

interface Snap {
  id: string;
  volumeId: string;
  image: string;
  damaged?: [number, number][];
  repairedFrom?: string;
}

interface Problem {
  kind: string;
  severity: string;
  object?: string;
  affected: { snapshotId: string }[];
}

interface Report {
  problems: Problem[];
  summary?: { restorable: number; damaged: { snapshotId: string }[] };
}

let work: string;
let pristine: string;
/** Snapshot ids: a1, a2 of vol-a (a2 with 5% of blocks changed), b1 of vol-b. */
const ids: Record<'a1' | 'a2' | 'b1', string> = { a1: '', a2: '', b1: '' };
const images: Record<string, string> = {};
/** Where each class's target object lies in the pristine repository (relative paths). */
const targets: Partial<Record<ObjectClass, string>> = {};

const envFor = (repo: string): CliEnv => ({ SNAPFLEET_REPOSITORY: repo, SNAPFLEET_PASSWORD: PASSWORD });

async function cli(args: string[], env: CliEnv, code = 0) {
  const r = await runCli(args, env);
  expect(r.code, describeRun(r)).toBe(code);
  return r;
}

beforeAll(async () => {
  work = await makeTempDir('sweep');
  images.a1 = join(work, 'a1.img');
  images.a2 = join(work, 'a2.img');
  images.b1 = join(work, 'b1.img');
  await createImage(images.a1, IMAGE_MIB, 41);
  await cp(images.a1, images.a2);
  await mutateImage(images.a2, 0.05, 42);
  await createImage(images.b1, IMAGE_MIB, 43);
  pristine = join(work, 'pristine');
  const env = envFor(pristine);
  await cli(['init'], env);
  await cli(['key', 'add'], { ...env, SNAPFLEET_NEW_PASSWORD: SECOND_PASSWORD });
  for (const [name, volumeId] of [
    ['a1', 'vol-a'],
    ['a2', 'vol-a'],
    ['b1', 'vol-b'],
  ] as const) {
    const r = await cli(['archive', images[name]!, '--volume-id', volumeId, '--pack-size', '1', '--json'], env);
    ids[name] = parseJson<{ snapshot: string }>(r).snapshot;
  }
  // The targets: a pack only vol-a uses (the largest of a1's), its index object, a2's snapshot
  // object, b1's pack list, and the key file of the second password.
  const repo = await openRepository(new FolderBlobStore(pristine), { password: PASSWORD });
  const a1 = await repo.loadSnapshot(ids.a1);
  const b1 = await repo.loadSnapshot(ids.b1);
  const bPacks = new Set((await listOf(repo, b1.packList!)).map((p) => p.packId));
  const aPack = (await listOf(repo, a1.packList!)).filter((p) => !bPacks.has(p.packId)).sort((x, y) => y.packLength - x.packLength)[0]!;
  targets.pack = `data/${aPack.packId.slice(0, 2)}/${aPack.packId}`;
  targets.index = `index/${aPack.packId}`;
  targets.snapshot = (await repo.snapshotKeysOf(ids.a2))[0]!;
  targets.packlist = `packlists/${b1.packList}`;
  const keys = parseJson<{ id: string; current: boolean }[]>(await cli(['key', 'list', '--json'], env));
  targets.key = `keys/${keys.find((k) => !k.current)!.id}`;
}, 180_000);

afterAll(async () => {
  await removeDir(work);
});

async function listOf(repo: Repository, id: string) {
  const list = await readPackList(repo, id);
  if (!list) throw new Error(`pack list ${id} is missing from the pristine repository`);
  return list;
}

async function damage(repoDir: string, key: string, how: Damage): Promise<void> {
  const path = join(repoDir, key);
  if (how === 'delete') return rm(path);
  const size = (await readFile(path)).length;
  if (how === 'truncate') return truncateFile(path, Math.floor(size / 2));
  const handle = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    const at = Math.floor(size / 2);
    await handle.read(byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0x40;
    await handle.write(byte, 0, 1, at);
  } finally {
    await handle.close();
  }
}

async function copyOfPristine(label: string): Promise<string> {
  const dir = join(work, label);
  await cp(pristine, dir, { recursive: true });
  return dir;
}

async function verify(env: CliEnv, code: number): Promise<Report> {
  return parseJson<Report>(await cli(['verify', '--json'], env, code));
}

/** Restores a snapshot and returns the sha256 of what was written. */
async function restoreSha(env: CliEnv, id: string, label: string): Promise<string> {
  const out = join(work, `${label}-${id.slice(0, 8)}.img`);
  await cli(['restore', '--snapshot', id, '--to', out, '-q'], env);
  try {
    return await sha256File(out);
  } finally {
    await rm(out, { force: true });
  }
}

/** The sha256 of an archived image with the declared runs of 4 KiB blocks zeroed. */
async function zeroedSha(image: string, runs: [number, number][], label: string): Promise<string> {
  const bytes = await readFile(image);
  for (const [first, count] of runs) bytes.fill(0, first * 4096, (first + count) * 4096);
  const path = join(work, `${label}-expected.img`);
  await writeFile(path, bytes);
  try {
    return await sha256File(path);
  } finally {
    await rm(path, { force: true });
  }
}

/** Every listed snapshot restores: whole ones as archived, repaired ones with zeros where declared. */
async function expectAllRestore(env: CliEnv, label: string): Promise<void> {
  const snaps = parseJson<Snap[]>(await cli(['snapshots', '--json'], env));
  expect(snaps.length).toBeGreaterThan(0);
  const byId = new Map(Object.entries(ids).map(([name, id]) => [id, images[name]!]));
  for (const s of snaps) {
    const image = byId.get(s.repairedFrom ?? s.id)!;
    const want = s.damaged ? await zeroedSha(image, s.damaged, label) : await sha256File(image);
    expect(await restoreSha(env, s.id, label), `snapshot ${s.id.slice(0, 8)}${s.repairedFrom ? ` (repaired from ${s.repairedFrom.slice(0, 8)})` : ''}`).toBe(
      want,
    );
  }
}

/** What verify must say of each damage, and the repair that makes it clean again. */
interface Case {
  cls: ObjectClass;
  how: Damage;
  /** verify's exit code and the problem kinds it reports (empty: none). */
  code: number;
  kinds: string[];
  /** Snapshots that lose blocks (the others must restore byte-identical). */
  costs: ('a1' | 'a2' | 'b1')[];
  /** The repair commands, in order. */
  repair: (env: CliEnv) => Promise<void>;
}

const repairAll = async (env: CliEnv) => {
  await cli(['repair', 'index'], env);
  await cli(['repair', 'packs'], env);
  await cli(['repair', 'snapshots', '--forget'], env);
};
const repairIndex = async (env: CliEnv) => void (await cli(['repair', 'index'], env));
const forgetA2 = async (env: CliEnv) => void (await cli(['forget', ids.a2], env));
const removeSecondKey = async (env: CliEnv) => void (await cli(['key', 'remove', targets.key!.slice('keys/'.length)], env));
const nothing = async () => {};

const CASES: Case[] = [
  { cls: 'pack', how: 'flip', code: 3, kinds: ['corrupt-blob'], costs: ['a1'], repair: repairAll },
  { cls: 'pack', how: 'truncate', code: 3, kinds: ['truncated-pack'], costs: ['a1'], repair: repairAll },
  { cls: 'pack', how: 'delete', code: 3, kinds: ['missing-pack'], costs: ['a1'], repair: repairAll },
  { cls: 'index', how: 'flip', code: 5, kinds: ['corrupt-index', 'unindexed-pack'], costs: [], repair: repairIndex },
  { cls: 'index', how: 'truncate', code: 5, kinds: ['corrupt-index', 'unindexed-pack'], costs: [], repair: repairIndex },
  { cls: 'index', how: 'delete', code: 0, kinds: ['unindexed-pack'], costs: [], repair: repairIndex },
  { cls: 'snapshot', how: 'flip', code: 3, kinds: ['corrupt-snapshot'], costs: ['a2'], repair: forgetA2 },
  { cls: 'snapshot', how: 'truncate', code: 3, kinds: ['corrupt-snapshot'], costs: ['a2'], repair: forgetA2 },
  { cls: 'snapshot', how: 'delete', code: 0, kinds: [], costs: [], repair: nothing },
  { cls: 'packlist', how: 'flip', code: 5, kinds: ['corrupt-packlist'], costs: [], repair: repairIndex },
  { cls: 'packlist', how: 'truncate', code: 5, kinds: ['corrupt-packlist'], costs: [], repair: repairIndex },
  { cls: 'packlist', how: 'delete', code: 0, kinds: [], costs: [], repair: nothing },
  { cls: 'key', how: 'flip', code: 5, kinds: ['corrupt-key'], costs: [], repair: removeSecondKey },
  { cls: 'key', how: 'truncate', code: 5, kinds: ['corrupt-key'], costs: [], repair: removeSecondKey },
  { cls: 'key', how: 'delete', code: 0, kinds: [], costs: [], repair: nothing },
];

describe('damage sweep', () => {
  it.each(CASES)(
    '$cls, $how: verify says $kinds (exit $code); after repair verify is clean',
    async (c) => {
      const label = `${c.cls}-${c.how}`;
      const repoDir = await copyOfPristine(label);
      const env = envFor(repoDir);
      const target = targets[c.cls]!;
      await damage(repoDir, target, c.how);

      const report = await verify(env, c.code);
      expect([...new Set(report.problems.map((p) => p.kind))].sort()).toEqual([...c.kinds].sort());
      // The damaged object is named (a deleted pack list or key file is simply gone: nothing to name).
      if (c.kinds.length > 0 && c.cls !== 'index') expect(report.problems.map((p) => p.object)).toContain(target);
      // The snapshots it costs: those named, and a2 when it shares the lost blocks with a1.
      const costs = new Set(report.summary!.damaged.map((d) => d.snapshotId));
      for (const name of c.costs) expect(costs.has(ids[name]), `${name} loses blocks`).toBe(true);
      expect(costs.has(ids.b1), 'b1 is untouched').toBe(false);
      for (const [name, id] of Object.entries(ids)) {
        if (costs.has(id) || (c.cls === 'snapshot' && name === 'a2')) continue;
        expect(await restoreSha(env, id, label), `${name} restores byte-identical`).toBe(await sha256File(images[name]!));
      }

      await c.repair(env);
      const after = await verify(env, 0);
      expect(after.problems).toEqual([]);
      await expectAllRestore(env, label);
      await removeDir(repoDir);
    },
    120_000,
  );

  it('a deleted pack, repaired reading the volume as it is now: only blocks that changed since are declared lost', async () => {
    const repoDir = await copyOfPristine('from-volume');
    const env = envFor(repoDir);
    await damage(repoDir, targets.pack!, 'delete');
    const lost = new Map((await verify(env, 3)).summary!.damaged.map((d) => [d.snapshotId, d]));
    expect(lost.has(ids.a1)).toBe(true);
    await cli(['repair', 'index'], env);
    await cli(['repair', 'packs'], env);
    // vol-a's disk now holds a2's bytes.
    const r = parseJson<{ recoveredChunks: number; repaired: { originalId: string; damagedChunks: number }[] }>(
      await cli(['repair', 'snapshots', '--forget', '--volume-id', 'vol-a', '--from-volume', images.a2!, '--json'], env),
    );
    expect(r.recoveredChunks).toBeGreaterThan(0);
    expect(r.repaired.map((x) => x.originalId)).not.toContain(ids.a2);
    expect((await verify(env, 0)).problems).toEqual([]);
    await expectAllRestore(env, 'from-volume');
    await removeDir(repoDir);
  }, 120_000);

  it('a lease, a deletion marker and the config: junk is named by class, and removed by unlock and repair index', async () => {
    const repoDir = await copyOfPristine('small');
    const env = envFor(repoDir);
    for (const dir of ['locks', 'prune']) await mkdir(join(repoDir, dir), { recursive: true });
    await writeFile(join(repoDir, 'locks', 'ab'.repeat(16)), 'junk');
    await writeFile(join(repoDir, 'prune', 'cd'.repeat(16)), 'junk');
    const report = await verify(env, 5);
    expect(report.problems.map((p) => p.kind).sort()).toEqual(['corrupt-lease', 'corrupt-marker']);
    await cli(['unlock', '--remove-all'], env);
    await cli(['repair', 'index'], env);
    expect((await verify(env, 0)).problems).toEqual([]);
    expect(await readdir(join(repoDir, 'locks'))).toEqual([]);

    // A damaged config: nothing opens, every command says so (the damage exit code), naming it.
    await damage(repoDir, 'config', 'flip');
    const r = await runCli(['verify'], env);
    expect(r.code, describeRun(r)).toBe(4);
    expect(r.stderr).toMatch(/config/);
  }, 120_000);
});
