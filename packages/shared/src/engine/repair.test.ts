import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { collect } from '../content/map-limit.js';
import { INDEX_PREFIX, idFromKey } from '../format/layout.js';
import { MemoryVolumeTarget } from '../testing/memory-volume-target.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { PermanentError } from '../errors.js';
import type { Repository } from './repository.js';
import { initRepository, openRepository } from './repository-open.js';
import { copySnapshots } from './copy.js';
import { MemoryBlobStore } from '../testing/memory-blob-store.js';
import { MemoryVolumeSource } from '../testing/memory-volume-source.js';
import { restoreSnapshot } from './restore.js';
import { repairIndex } from './repair-index.js';
import { compactIndex } from './index-compaction.js';
import { repairPacks } from './repair-packs.js';
import { repairSnapshots, REPAIRED_TAG } from './repair-snapshots.js';
import { damageFixture, fixtureVolume, FIXTURE_VOLUMES, flipByte, ownPackKey, truncate, type DamageFixture } from './test-damage.js';
import { expectedHashes, restoreAll, testClock } from './test-snapshots.js';
import { verifyRepository } from './verify.js';

const options = { clock: testClock };
const verify = (repo: Repository) => verifyRepository(repo, createInlineCodecPool(repo.keys), { recordAt: testClock.now() });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** What a repaired snapshot must restore to: the archived bytes with the declared runs zeroed. */
function expectedRepaired(f: DamageFixture, entry: SnapshotEntry): string {
  const { seed } = FIXTURE_VOLUMES.find((v) => v.volumeId === entry.snapshot.volumeId)!;
  const version = (entry.snapshot.volumeId === 'vol-a' ? f.ids.a : f.ids.b).indexOf(entry.snapshot.repairedFrom!);
  const volume = fixtureVolume(seed, version);
  for (const [first, count] of entry.snapshot.damaged ?? []) volume.fill(0, first * 4096, (first + count) * 4096);
  return sha(volume);
}

async function restoreOne(repo: Repository, entry: SnapshotEntry): Promise<string> {
  const target = new MemoryVolumeTarget();
  await restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot: entry, target });
  return sha(target.data);
}

/** Every snapshot restores: the intact ones as archived, the repaired ones with zeros where declared. */
async function expectEverythingRestores(f: DamageFixture, repo: Repository): Promise<void> {
  const want = expectedHashes(f.archived);
  for (const entry of await repo.listSnapshots()) {
    const expected = entry.snapshot.repairedFrom ? expectedRepaired(f, entry) : want.get(entry.id);
    expect(await restoreOne(repo, entry)).toBe(expected);
  }
}

/** verify, then the three repairs in order, the originals forgotten. */
async function repairAll(repo: Repository) {
  const pool = createInlineCodecPool(repo.keys);
  const index = await repairIndex(repo, options);
  const packs = await repairPacks(repo, pool, options);
  const snapshots = await repairSnapshots(repo, pool, { ...options, forget: true });
  return { index, packs, snapshots };
}

describe('repair', () => {
  it('index: a damaged index object is replaced from the pack headers; verify is clean after', async () => {
    const f = await damageFixture();
    const keys = (await collect(f.store.list(INDEX_PREFIX))).map((o) => o.key);
    await flipByte(f.store, keys[0]!);
    const repo = await openRepository(f.store, { password: 'pw' });
    const report = await repairIndex(repo, options);
    expect(report.damagedObjects).toEqual([keys[0]]);
    expect(report.adoptedPacks).toBe(1);
    expect((await verify(repo)).problems).toEqual([]);
    expect(await restoreAll(repo)).toEqual(expectedHashes(f.archived));
  });

  it('a missing pack: index dropped, snapshots rewritten with the lost blocks declared, verify clean', async () => {
    const f = await damageFixture();
    const key = await ownPackKey(f.repo, f.ids.a[0]!);
    await f.store.delete(key);
    const repo = await openRepository(f.store, { password: 'pw' });
    const before = await verify(repo);
    const lostBefore = new Map(before.summary!.damaged.map((d) => [d.snapshotId, d.damagedChunks]));
    const { index, packs, snapshots } = await repairAll(repo);
    expect(index.droppedPacks).toEqual([idFromKey(key)]);
    expect(packs.packs.map((p) => p.packId)).toEqual([idFromKey(key)]);
    expect(packs.salvagedBlobs).toBe(0);
    expect(new Set(snapshots.repaired.map((r) => r.originalId))).toEqual(new Set(f.ids.a));
    for (const r of snapshots.repaired) {
      expect(r.damagedChunks).toBe(lostBefore.get(r.originalId));
      expect(r.forgotten).toBe(true);
    }
    const after = await verify(repo);
    expect(after.problems).toEqual([]);
    expect(after.summary!.restorable).toBe(4);
    const repaired = (await repo.listSnapshots()).filter((e) => e.snapshot.repairedFrom);
    expect(repaired).toHaveLength(2);
    for (const e of repaired) expect(e.snapshot.tags).toContain(REPAIRED_TAG);
    await expectEverythingRestores(f, repo);
  });

  it('a pack cut short: the frames before the cut are salvaged, the rest declared lost', async () => {
    const f = await damageFixture();
    const key = await ownPackKey(f.repo, f.ids.a[0]!);
    await truncate(f.store, key);
    const repo = await openRepository(f.store, { password: 'pw' });
    await verify(repo);
    const { packs, snapshots } = await repairAll(repo);
    expect(packs.salvagedBlobs).toBeGreaterThan(0);
    expect(packs.lostBlobs).toBeGreaterThan(0);
    expect(packs.packs[0]!.deleted).toBe(true);
    expect(await f.store.stat(key)).toBeUndefined();
    expect(snapshots.repaired.length).toBeGreaterThan(0);
    const lost = snapshots.repaired.find((r) => r.originalId === f.ids.a[0])!;
    expect(lost.damagedChunks).toBeLessThanOrEqual(packs.lostBlobs);
    expect((await verify(repo)).problems).toEqual([]);
    await expectEverythingRestores(f, repo);
  });

  it('a flipped byte in a frame: the other frames are salvaged, verify clean after', async () => {
    const f = await damageFixture();
    const key = await ownPackKey(f.repo, f.ids.a[0]!);
    await flipByte(f.store, key, () => 100);
    const repo = await openRepository(f.store, { password: 'pw' });
    expect((await verify(repo)).summary!.recordedPacks).toBe(1);
    const { packs } = await repairAll(repo);
    expect(packs.salvagedBlobs).toBeGreaterThan(0);
    expect(packs.lostBlobs).toBeGreaterThan(0);
    expect((await verify(repo)).problems).toEqual([]);
    await expectEverythingRestores(f, repo);
  });

  it('snapshots refuses while damaged packs wait for repair packs, and runs again without repeating itself', async () => {
    const f = await damageFixture();
    await f.store.delete(await ownPackKey(f.repo, f.ids.a[0]!));
    const repo = await openRepository(f.store, { password: 'pw' });
    await verify(repo);
    const pool = createInlineCodecPool(repo.keys);
    await expect(repairSnapshots(repo, pool, options)).rejects.toBeInstanceOf(PermanentError);
    await repairPacks(repo, pool, options);
    const first = await repairSnapshots(repo, pool, options);
    expect(first.repaired).toHaveLength(2);
    const second = await repairSnapshots(repo, pool, options);
    expect(second.repaired).toEqual([]);
    expect(new Set(second.alreadyRepaired)).toEqual(new Set(f.ids.a));
    // The originals were kept: they still report their damage; the copies do not.
    const report = await verify(repo);
    expect(new Set(report.summary!.damaged.map((d) => d.snapshotId))).toEqual(new Set(f.ids.a));
    expect(report.summary!.restorable).toBe(4);
  });

  it('packs --from a replica: blobs that do not read here come from the replica, nothing is lost', async () => {
    const f = await damageFixture();
    const replicaStore = new MemoryBlobStore();
    const replica = await initRepository(replicaStore, { encrypted: true, password: 'other', copyIdKeyFrom: f.repo });
    const pool = createInlineCodecPool(f.repo.keys);
    const replicaPool = createInlineCodecPool(replica.keys);
    await copySnapshots(f.repo, pool, replica, replicaPool, await f.repo.listSnapshots(), options);
    const key = await ownPackKey(f.repo, f.ids.a[0]!);
    await truncate(f.store, key);
    const repo = await openRepository(f.store, { password: 'pw' });
    await verify(repo);
    const report = await repairPacks(repo, createInlineCodecPool(repo.keys), { ...options, replica: { repo: replica, pool: replicaPool } });
    expect(report.fromReplica).toBeGreaterThan(0);
    expect(report.lostBlobs).toBe(0);
    expect((await repairSnapshots(repo, createInlineCodecPool(repo.keys), options)).repaired).toEqual([]);
    expect((await verify(repo)).problems).toEqual([]);
    expect(await restoreAll(repo)).toEqual(expectedHashes(f.archived));
  });

  it('snapshots: lost blocks still on the volume are read back (checked against their ids) instead of declared lost', async () => {
    const f = await damageFixture();
    await f.store.delete(await ownPackKey(f.repo, f.ids.a[0]!));
    const repo = await openRepository(f.store, { password: 'pw' });
    const lostBefore = new Map((await verify(repo)).summary!.damaged.map((d) => [d.snapshotId, d.damagedChunks!]));
    const pool = createInlineCodecPool(repo.keys);
    await repairIndex(repo, options);
    await repairPacks(repo, pool, options);
    // The volume as it is now: the second archive's bytes (8 blocks differ from the first's).
    const now = fixtureVolume(3, 1);
    const opened: string[] = [];
    const report = await repairSnapshots(repo, pool, {
      ...options,
      forget: true,
      blocksFrom: async (entry) => {
        opened.push(entry.id);
        return entry.snapshot.volumeId === 'vol-a' ? new MemoryVolumeSource(now, { blockSize: 64 * 1024 }) : undefined;
      },
    });
    expect(report.recoveredChunks).toBeGreaterThan(0);
    // The newest snapshot is the volume as it is: every lost block comes back, no rewrite.
    expect(report.repaired.map((r) => r.originalId)).not.toContain(f.ids.a[1]);
    // The first keeps as lost only blocks that changed since (at most the 8 mutated).
    const first = report.repaired.find((r) => r.originalId === f.ids.a[0]);
    expect(first?.damagedChunks ?? 0).toBeLessThanOrEqual(8);
    expect(first?.damagedChunks ?? 0).toBeLessThan(lostBefore.get(f.ids.a[0]!)!);
    expect((await verify(repo)).problems).toEqual([]);
    await expectEverythingRestores(f, repo);
  });

  it('a damaged pack Object Lock keeps stored after repair packs is never adopted back into the index', async () => {
    const f = await damageFixture();
    const key = await ownPackKey(f.repo, f.ids.a[0]!);
    await flipByte(f.store, key, () => 100);
    const repo = await openRepository(f.store, { password: 'pw' });
    await verify(repo);
    const kept = await f.store.get(key);
    await repairAll(repo);
    // As if retention had refused the delete: the pack is still there, out of the index.
    await f.store.put(key, kept);
    expect((await compactIndex(repo, { clock: testClock })).adoptedPacks).toBe(0);
    expect((await repairIndex(repo, options)).adoptedPacks).toBe(0);
    expect((await verify(repo)).problems).toEqual([]);
  });
});
