/**
 * An archive killed with SIGKILL part-way through (a crashed worker, an OOM kill). What must hold
 * (docs/format.md, ordering invariants 1 and 3):
 * - the repository stays consistent: verify passes and no snapshot appears;
 * - the next archive of the same image succeeds and restores byte-identically;
 * - every pack the killed run finished storing is adopted (by `maintenance`, which a fleet runs
 *   on a schedule; an archive's open does not list every pack), so nothing is stored twice: the
 *   packs that survived the kill plus what the second run stores hold exactly the data one clean
 *   archive stores. A pack still being written (or filled) at the kill is lost, and its blobs are
 *   stored again by the second run; that costs time, not space, because the lost pack never
 *   became an object.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BlobType, openRepository } from '@snapfleet/shared';
import { FolderBlobStore } from '@snapfleet/providers';
import {
  createImage,
  describeRun,
  listFiles,
  listPacks,
  makeTempDir,
  MiB,
  PACK_TARGET_BYTES,
  parseJson,
  removeDir,
  runCli,
  sha256File,
  spawnCli,
  sum,
  type CliEnv,
  type PackFile,
} from '../support/cli.js';

/** Large enough that the archive runs for a while after its first pack lands (~6 packs). */
const IMAGE_MIB = 256;
const PASSWORD = 'kill-pass-Hj4^sD8';
/** How often the test looks for the first pack: a few ms keeps the kill early in the run. */
const POLL_MS = 3;
/** The first pack lands within a second or two; 60 s means the archive is stuck. */
const FIRST_PACK_TIMEOUT_MS = 60_000;

interface ArchiveJson {
  snapshot: string;
  parent: string | null;
  newBlobs: number;
  newBytes: number;
  storedBytes: number;
}

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await makeTempDir('killed');
  image = join(dir, 'big.img');
  await createImage(image, IMAGE_MIB, 41);
});

afterAll(async () => {
  await removeDir(dir);
});

async function freshRepo(name: string): Promise<CliEnv> {
  const env = { SNAPFLEET_REPOSITORY: join(dir, name), SNAPFLEET_PASSWORD: PASSWORD };
  const init = await runCli(['init'], env);
  expect(init.code, describeRun(init)).toBe(0);
  return env;
}

/** Blob ids (hex) and data-blob plaintext totals of the given packs, from their headers. */
async function packContents(repoDir: string, packs: PackFile[]) {
  const repo = await openRepository(new FolderBlobStore(repoDir), { password: PASSWORD });
  const ids = new Map<string, string>(); // blob id -> pack id
  const duplicates: string[] = [];
  let dataBlobs = 0;
  let dataBytes = 0;
  for (const pack of packs) {
    for (const frame of await repo.readPackHeader(`data/${pack.id.slice(0, 2)}/${pack.id}`, pack.size)) {
      for (let i = 0; i < frame.lengths.length; i++) {
        const id = Buffer.from(frame.ids.subarray(i * 32, (i + 1) * 32)).toString('hex');
        if (ids.has(id)) duplicates.push(`${id} in packs ${ids.get(id)} and ${pack.id}`);
        ids.set(id, pack.id);
        if (frame.type === BlobType.Data) {
          dataBlobs++;
          dataBytes += frame.lengths[i]!;
        }
      }
    }
  }
  return { ids, duplicates, dataBlobs, dataBytes };
}

it('an archive killed mid-run leaves a consistent repository, and the next archive reuses what it stored', async () => {
  // The reference: one clean archive of the same image into a repository of its own.
  const cleanEnv = await freshRepo('clean');
  const cleanRun = await runCli(['archive', image, '--volume-id', 'vol-k', '--json'], cleanEnv);
  expect(cleanRun.code, describeRun(cleanRun)).toBe(0);
  const clean = parseJson<ArchiveJson>(cleanRun);
  expect(sum((await listPacks(join(dir, 'clean'))).map((p) => p.size))).toBe(clean.storedBytes);

  // Start the archive, wait for its first finished pack, kill it without warning.
  const env = await freshRepo('killed');
  const repoDir = join(dir, 'killed');
  const { child, done } = spawnCli(['archive', image, '--volume-id', 'vol-k', '--json'], env);
  const started = Date.now();
  let exited = false;
  void done.then(() => (exited = true));
  while ((await listPacks(repoDir)).length === 0) {
    if (exited) throw new Error(`the archive ended before any pack appeared:\n${describeRun(await done)}`);
    if (Date.now() - started > FIRST_PACK_TIMEOUT_MS) throw new Error('no pack appeared in time');
    await sleep(POLL_MS);
  }
  child.kill('SIGKILL');
  const killed = await done;
  expect(killed.signal, `the archive finished before it could be killed: ${describeRun(killed)}`).toBe('SIGKILL');
  expect(killed.stdout).toBe(''); // it never reported a snapshot

  const survivors = await listPacks(repoDir);
  const survivorBytes = sum(survivors.map((p) => p.size));
  expect(survivors.length).toBeGreaterThan(0);
  // It was really killed part-way: far from everything was stored.
  expect(survivorBytes).toBeLessThan(clean.storedBytes);
  const leftovers = (await listFiles(repoDir)).filter((f) => f.split('/').pop()!.startsWith('.'));
  // A pack is stored before its index object; the kill may land between the two. Make that the
  // case for every surviving pack (a legal crash state), so maintenance must adopt them by
  // reading their headers, the path that matters (docs/format.md, ordering invariant 3).
  let indexedAtKill = 0;
  for (const p of survivors) {
    const indexPath = join(repoDir, 'index', p.id);
    if (existsSync(indexPath)) indexedAtKill++;
    await rm(indexPath, { force: true });
  }

  // Consistent: verify passes (temp files are not objects), no snapshot exists; the packs
  // without an index object are notices for maintenance, not damage.
  const verify = await runCli(['verify', '--json'], env);
  expect(verify.code, describeRun(verify)).toBe(0);
  const report = parseJson<{ snapshots: number; problems: { kind: string; severity: string }[] }>(verify);
  expect(report.snapshots).toBe(0);
  expect(report.problems).toHaveLength(survivors.length);
  for (const p of report.problems) expect(p).toMatchObject({ kind: 'unindexed-pack', severity: 'notice' });
  const listed = await runCli(['snapshots', '--json'], env);
  expect(listed.code, describeRun(listed)).toBe(0);
  expect(parseJson<unknown[]>(listed)).toEqual([]);
  const table = await runCli(['snapshots'], env);
  expect(table.stdout).toContain('0 snapshot(s)');

  // Maintenance adopts every surviving pack: it writes the index objects the killed run did not.
  const maintenance = await runCli(['maintenance', '--json'], env);
  expect(maintenance.code, describeRun(maintenance)).toBe(0);
  expect(parseJson<{ adoptedPacks: number }>(maintenance).adoptedPacks).toBe(survivors.length);

  // The same archive again: it succeeds, as a full archive (there is no parent to build on).
  const againRun = await runCli(['archive', image, '--volume-id', 'vol-k', '--json'], env);
  expect(againRun.code, describeRun(againRun)).toBe(0);
  const again = parseJson<ArchiveJson>(againRun);
  expect(again.parent).toBeNull();

  const restored = join(dir, 'restored.img');
  const restore = await runCli(['restore', '--snapshot', 'latest', '--to', restored], env);
  expect(restore.code, describeRun(restore)).toBe(0);
  expect(await sha256File(restored)).toBe(await sha256File(image));

  // Adopted: every surviving pack is still there and indexed again (maintenance merged the
  // index objects it wrote with the rest, so they are read through the repository).
  const packsAfter = await listPacks(repoDir);
  const reader = await openRepository(new FolderBlobStore(repoDir), { password: PASSWORD });
  const indexedNow = new Set<string>();
  for await (const pack of reader.indexedPacks()) indexedNow.add(pack.packId);
  for (const p of survivors) {
    expect(packsAfter.some((q) => q.id === p.id)).toBe(true);
    expect(indexedNow.has(p.id), `pack ${p.id} is indexed`).toBe(true);
  }
  const newPacks = packsAfter.filter((p) => !survivors.some((s) => s.id === p.id));
  expect(sum(newPacks.map((p) => p.size))).toBe(again.storedBytes);

  // Nothing stored twice: no blob id is in two packs, so no blob of a surviving pack was
  // stored again by the second run.
  const contents = await packContents(repoDir, packsAfter);
  expect(contents.duplicates).toEqual([]);
  // Exactly the clean archive's data, split between the survivors and the second run. Blob ids
  // are keyed per repository, but the set of distinct chunk contents is the image's own, so the
  // counts and plaintext bytes must match exactly.
  const survived = await packContents(repoDir, survivors);
  expect(survived.dataBlobs + again.newBlobs).toBe(clean.newBlobs);
  expect(survived.dataBytes + again.newBytes).toBe(clean.newBytes);
  // In stored bytes: the survivors plus the second run's packs exceed one clean archive only by
  // framing differences (frames group other neighbours, so compression differs slightly), far
  // less than one pack.
  expect(survivorBytes + again.storedBytes).toBeLessThanOrEqual(clean.storedBytes + PACK_TARGET_BYTES);
  expect(again.storedBytes).toBeLessThan(clean.storedBytes);

  // For the record (visible with --reporter=verbose): how far the killed run got.
  console.log(
    `killed after ${survivors.length} pack(s), ${(survivorBytes / MiB).toFixed(1)} MiB; ` +
      `second run stored ${(again.storedBytes / MiB).toFixed(1)} MiB; clean ${(clean.storedBytes / MiB).toFixed(1)} MiB; ` +
      `overhead ${((survivorBytes + again.storedBytes - clean.storedBytes) / 1024).toFixed(0)} KiB; indexed at the kill: ${indexedAtKill}; ` +
      `leftover temp files: ${leftovers.length}; ` +
      `dirs: ${(await readdir(repoDir)).join(',')}`,
  );
});
