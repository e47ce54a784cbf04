import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { MemoryBlobStore, MemoryVolumeSource, MemoryVolumeTarget, sha256Hex } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { DATA_PREFIX } from '../format/layout.js';
import { LAYOUTS_PREFIX } from '../format/layout-list.js';
import { collect } from '../content/map-limit.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import type { Clock } from '../ports/clock.js';
import { archiveVolume } from './archive.js';
import { restoreSnapshot, type RestoreStats } from './restore.js';
import { verifyRepository } from './verify.js';
import { removeSnapshots } from './forget.js';
import { pruneRepository } from './prune.js';
import { compactIndex } from './index-compaction.js';
import { maintainLocality } from './locality.js';
import type { Repository } from './repository.js';
import { initRepository } from './repository-open.js';
import { makeVolume, mutate } from './test-volume.js';

const clock: Clock = { now: () => new Date('2026-03-01T00:00:00Z') };
const MIB = 1024 * 1024;
/** Small packs, so that a 16 MiB volume spans many, as a large volume spans many 16 MiB ones. */
const PACK_SIZE = MIB;

async function archiveDay(repo: Repository, volume: Buffer, day: number): Promise<SnapshotEntry> {
  const parent = (await repo.listVolumeSnapshots('vol')).at(-1);
  const { id } = await archiveVolume(repo, createInlineCodecPool(repo.keys), {
    volumeId: 'vol',
    source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
    clock,
    packSize: PACK_SIZE,
    time: new Date(Date.UTC(2026, 0, 1 + day, 2)),
    ...(parent ? { parent } : {}),
  });
  return (await repo.listVolumeSnapshots('vol')).find((e) => e.id === id)!;
}

async function restore(repo: Repository, entry: SnapshotEntry): Promise<{ sha: string; stats: RestoreStats }> {
  const target = new MemoryVolumeTarget();
  const stats = await restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot: entry, target });
  return { sha: sha256Hex(target.data), stats };
}

/**
 * A 128 MiB volume, 16 restore windows, holding 1 MiB of data in each 8 MiB (the rest free space,
 * zeros: cheap to archive), and `days` daily archives, each after 64 blocks changed at scattered
 * places: each day's pack is read by nearly every window.
 */
function sparseVolume(): Buffer {
  const volume = Buffer.alloc(128 * MIB);
  const data = makeVolume(16 * MIB, 41);
  for (let i = 0; i < 16; i++) data.copy(volume, i * 8 * MIB, i * MIB, (i + 1) * MIB);
  return volume;
}

/** Days that also write a marker block, which the next day frees again: it lives in that day's pack alone. */
const MARKER_DAYS = [3, 4, 5, 6, 7, 8];
const markerAt = (day: number) => day * 8 * MIB + 2 * MIB;
const marker = (day: number) => makeVolume(4096, 700 + day);

async function history(days: number) {
  const store = new MemoryBlobStore();
  const repo = await initRepository(store, { encrypted: true, password: 'pw' });
  const volume = sparseVolume();
  const hashes = new Map<string, string>();
  let newest!: SnapshotEntry;
  for (let d = 0; d < days; d++) {
    if (d > 0) mutate(volume, 64, 500 + d);
    if (MARKER_DAYS.includes(d)) marker(d).copy(volume, markerAt(d));
    if (MARKER_DAYS.includes(d - 1)) volume.fill(0, markerAt(d - 1), markerAt(d - 1) + 4096);
    newest = await archiveDay(repo, volume, d);
    hashes.set(newest.id, sha256Hex(volume));
  }
  return { store, repo, volume, hashes, newest };
}

async function expectAllRestore(repo: Repository, hashes: Map<string, string>): Promise<void> {
  for (const entry of await repo.listSnapshots()) expect((await restore(repo, entry)).sha, `snapshot ${entry.id}`).toBe(hashes.get(entry.id));
}

const layoutKeys = async (store: MemoryBlobStore) => (await collect(store.list(LAYOUTS_PREFIX))).map((o) => o.key);
const packBytes = async (store: MemoryBlobStore) => (await collect(store.list(DATA_PREFIX))).reduce((n, o) => n + o.size, 0);

describe('locality maintenance', () => {
  it('predicts the restore, relocates a scattered newest snapshot into fewer reads, and every snapshot still restores', async () => {
    const { store, repo, volume, hashes, newest } = await history(12);
    const pool = createInlineCodecPool(repo.keys);
    const before = await restore(repo, newest);
    expect(before.sha).toBe(hashes.get(newest.id));

    // Thresholds no scattered snapshot passes: assessed, nothing written.
    const lax = await maintainLocality(repo, pool, { clock, maxDecodeAmplification: 100, maxReadsPerGiB: 1e9 });
    expect(lax.volumes).toHaveLength(1);
    const seen = lax.volumes[0]!;
    expect(seen).toMatchObject({ volumeId: 'vol', snapshotId: newest.id, relocated: false, copiedBytes: 0 });
    // The prediction is the restore's own count: same windows, same merged reads, same frames.
    expect(seen.reads).toBe(before.stats.dataReads);
    expect(seen.decodeAmplification).toBeCloseTo(before.stats.decodeAmplification, 9);
    expect(seen.dataBytes).toBe(before.stats.dataBytesRestored);
    expect(seen.scatteredBytes).toBeGreaterThan(0);
    expect(await layoutKeys(store)).toEqual([]);

    const report = await maintainLocality(repo, pool, { clock, maxDecodeAmplification: 1, maxReadsPerGiB: 1 });
    const v = report.volumes[0]!;
    expect(v.relocated).toBe(true);
    expect(v.copiedBytes).toBeGreaterThan(0);
    expect(v.copiedBytes).toBeLessThanOrEqual(seen.scatteredBytes);
    expect(v.packsWritten).toBeGreaterThan(0);
    expect(report.storedBytes).toBe(v.storedBytes);
    expect(await layoutKeys(store)).toHaveLength(1);

    const after = await restore(repo, newest);
    expect(after.sha).toBe(hashes.get(newest.id));
    expect(after.stats.dataReads).toBeLessThan(before.stats.dataReads / 2);
    expect(after.stats.listedPacks).toBeLessThan(before.stats.listedPacks);
    // The gain was predicted before anything was copied.
    expect(Math.abs(after.stats.dataReads - seen.relocatedReads)).toBeLessThanOrEqual(3 + seen.relocatedReads / 5);
    expect(after.stats.decodeAmplification).toBeCloseTo(seen.relocatedDecodeAmplification, 1);
    expect(after.stats.fallbackBlobs).toBe(0);
    expect((await verifyRepository(repo, createInlineCodecPool(repo.keys))).problems).toEqual([]);
    await expectAllRestore(repo, hashes);

    // A second run finds the newest snapshot laid out and leaves it (one layout list still).
    const again = await maintainLocality(repo, pool, { clock });
    expect(again.volumes[0]).toMatchObject({ relocated: false });
    expect(again.volumes[0]!.reads).toBe(after.stats.dataReads);
    expect(await layoutKeys(store)).toHaveLength(1);

    // The next archive takes the layout list over for what it shares with its parent. It also
    // writes the old markers back: deduplication finds each in an old daily pack, which joins the
    // child's pack list, though the relocated copies of that pack's other blobs are listed too.
    // The child reads those from the layout (listed first), not from the old packs: beyond its
    // parent, one read per window for its own changes and one per marker.
    mutate(volume, 64, 900);
    for (const d of MARKER_DAYS) marker(d).copy(volume, markerAt(d));
    const child = await archiveDay(repo, volume, 12);
    hashes.set(child.id, sha256Hex(volume));
    const c = await restore(repo, child);
    expect(c.sha).toBe(hashes.get(child.id));
    expect(c.stats.listedPacks).toBeGreaterThanOrEqual(after.stats.listedPacks + MARKER_DAYS.length);
    expect(c.stats.dataReads).toBeLessThanOrEqual(after.stats.dataReads + 16 + MARKER_DAYS.length);

    // Prune keeps the relocated copies (restores of the newest read nothing beyond its layout)
    // and drains the old copies of what no snapshot needs twice.
    const bytesBefore = await packBytes(store);
    const pruned = await pruneRepository(repo, pool, { clock });
    expect(pruned.freedBytes).toBeGreaterThan(0);
    expect(await packBytes(store)).toBeLessThan(bytesBefore);
    const afterPrune = await restore(repo, newest);
    expect(afterPrune.stats).toMatchObject({ dataReads: after.stats.dataReads, fallbackBlobs: 0 });
    expect((await verifyRepository(repo, createInlineCodecPool(repo.keys))).problems).toEqual([]);
    await expectAllRestore(repo, hashes);

    // A forgotten snapshot's layout list goes with the next prune.
    await removeSnapshots(repo, [newest]);
    hashes.delete(newest.id);
    const second = await pruneRepository(repo, pool, { clock });
    expect(second.deletedLayoutLists).toBe(1);
    expect((await layoutKeys(store)).filter((k) => k.includes(newest.id))).toEqual([]);
    await expectAllRestore(repo, hashes);
  });

  it("prune keeps the newest relocation's copies, drains an older one's, and the older snapshot still reads only its list", async () => {
    const { store, repo, volume, hashes, newest } = await history(12);
    const pool = createInlineCodecPool(repo.keys);
    const force = { clock, force: true };
    const first = await maintainLocality(repo, pool, force);
    expect(first.volumes[0]).toMatchObject({ snapshotId: newest.id, relocated: true });
    await pruneRepository(repo, pool, { clock });
    const settled = await packBytes(store);

    // The next day's relocation copies the same scattered blocks again (the first relocation's
    // packs hold them scattered over the whole volume, never dense): they are in two layouts now.
    mutate(volume, 64, 950);
    const next = await archiveDay(repo, volume, 12);
    hashes.set(next.id, sha256Hex(volume));
    const second = await maintainLocality(repo, pool, force);
    expect(second.volumes[0]).toMatchObject({ snapshotId: next.id, relocated: true });
    const relocated = await restore(repo, next);

    // Prune keeps the newest layout's copies and drains the first relocation's duplicates: the
    // repository grows by about one relocation, not two.
    const pruned = await pruneRepository(repo, pool, { clock });
    expect(pruned.refreshedLists).toBeGreaterThan(0);
    expect(await packBytes(store)).toBeLessThan(settled + 0.5 * first.storedBytes);
    // The newest restores as relocated; the older relocated snapshot, whose layout named the
    // drained packs, reads its refreshed list and nothing beyond it.
    expect((await restore(repo, next)).stats).toMatchObject({ dataReads: relocated.stats.dataReads, fallbackBlobs: 0 });
    const older = await restore(repo, newest);
    expect(older.sha).toBe(hashes.get(newest.id));
    expect(older.stats.fallbackBlobs).toBe(0);
    expect((await verifyRepository(repo, pool)).problems).toEqual([]);
    await expectAllRestore(repo, hashes);
  });

  it('leaves a fresh full alone, and runs inside maintenance when given a codec pool', async () => {
    const { store, repo, newest } = await history(1);
    const report = await compactIndex(repo, { clock, pool: createInlineCodecPool(repo.keys) });
    expect(report.locality?.volumes).toEqual([expect.objectContaining({ snapshotId: newest.id, relocated: false, copiedBytes: 0 })]);
    expect(report.locality!.volumes[0]!.decodeAmplification).toBeLessThan(1.35);
    expect(await layoutKeys(store)).toEqual([]);
  });

  it('refuses thresholds that make no sense, naming the field, before it takes the lease', async () => {
    const { repo } = await history(1);
    const pool = createInlineCodecPool(repo.keys);
    await expect(maintainLocality(repo, pool, { clock, maxDecodeAmplification: 0.5 })).rejects.toThrow(InvalidInputError);
    await expect(maintainLocality(repo, pool, { clock, maxReadsPerGiB: -1 })).rejects.toMatchObject({ field: 'maxReadsPerGiB' });
    expect(await collect(repo.store.list('locks/'))).toEqual([]);
  });
});
