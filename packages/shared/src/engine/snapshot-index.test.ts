import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, MemoryVolumeSource, MemoryVolumeTarget, RecordingBlobStore, sha256Hex } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { DATA_PREFIX, INDEX_PREFIX } from '../format/layout.js';
import { decodeEnvelope } from '../format/envelope.js';
import { decodePackList, packListKey, PACK_LISTS_PREFIX } from '../format/pack-list.js';
import { LAYOUTS_PREFIX } from '../format/layout-list.js';
import { collect } from '../content/map-limit.js';
import type { Clock } from '../ports/clock.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { archiveVolume } from './archive.js';
import { restoreSnapshot } from './restore.js';
import { planForget, removeSnapshots } from './forget.js';
import { pruneRepository } from './prune.js';
import { loadSnapshotIndex } from './snapshot-index.js';
import type { Repository } from './repository.js';
import { initRepository, openRepository } from './repository-open.js';
import { makeVolume, mutate } from './test-volume.js';

const clock: Clock = { now: () => new Date('2026-03-01T00:00:00Z') };
const pool = (repo: Repository) => createInlineCodecPool(repo.keys);
const BLOCK = 64 * 1024;
const PACK_SIZE = 64 * 1024;

async function archive(repo: Repository, volume: Buffer, volumeId: string, day: number, extra: { parent?: SnapshotEntry; source?: MemoryVolumeSource } = {}) {
  const source = extra.source ?? new MemoryVolumeSource(volume, { blockSize: BLOCK });
  const { id, snapshot } = await archiveVolume(repo, pool(repo), {
    volumeId,
    source,
    clock,
    packSize: PACK_SIZE,
    time: new Date(Date.UTC(2026, 0, 1 + day)),
    ...(extra.parent ? { parent: extra.parent } : {}),
  });
  return { id, snapshot } as SnapshotEntry;
}

async function restoreHash(repo: Repository, entry: SnapshotEntry): Promise<string> {
  const target = new MemoryVolumeTarget();
  await restoreSnapshot(repo, pool(repo), { snapshot: entry, target });
  return sha256Hex(target.data);
}

async function packList(store: BlobStore, repo: Repository, entry: SnapshotEntry) {
  const key = packListKey(entry.snapshot.packList!);
  return decodePackList(decodeEnvelope(await store.get(key), repo.keys.enc, key), key);
}

describe('snapshot-scoped index', () => {
  it('a restore reads only the packs its snapshot names, never the repository index', async () => {
    const inner = new MemoryBlobStore();
    const repo = await initRepository(inner, { encrypted: true, password: 'pw' });
    const volumes = [0, 1, 2].map((v) => makeVolume(1024 * 1024, 60 + v));
    const entries = [];
    for (let v = 0; v < 3; v++) entries.push(await archive(repo, volumes[v]!, `vol-${v}`, 0));
    const allPacks = (await collect(inner.list(DATA_PREFIX))).length;

    const counting = new RecordingBlobStore(inner);
    const reader = await openRepository(counting, { password: 'pw' });
    counting.clear();
    expect(await restoreHash(reader, entries[1]!)).toBe(sha256Hex(volumes[1]!));
    const listed = await packList(inner, repo, entries[1]!);
    expect(counting.keys('get', INDEX_PREFIX).length).toBe(0);
    // One ranged read of each listed pack's tail (its header), the rest are frame reads.
    expect(listed.length).toBeLessThan(allPacks);
    expect(counting.keys('get', PACK_LISTS_PREFIX).length).toBe(1);

    const scoped = await loadSnapshotIndex(reader, entries[1]!);
    expect(scoped.stats).toEqual({ listedPacks: listed.length, fallbackBlobs: 0 });

    // What the restore says it read: every frame read counted once, against the data it wrote.
    counting.clear();
    const target = new MemoryVolumeTarget();
    const read = await restoreSnapshot(reader, pool(reader), { snapshot: entries[1]!, target });
    expect(read.dataReads).toBeGreaterThan(0);
    // The other pack reads are the listed packs' headers (and manifest nodes, read as frames too).
    expect(read.dataReads).toBeLessThanOrEqual(counting.keys('get', DATA_PREFIX).length - listed.length);
    const zero = Buffer.alloc(4096);
    let holes = 0;
    for (let at = 0; at < volumes[1]!.byteLength; at += 4096) if (volumes[1]!.subarray(at, at + 4096).equals(zero)) holes++;
    expect(read.dataBytesRestored).toBe(volumes[1]!.byteLength - holes * 4096);
    expect(sha256Hex(target.data)).toBe(sha256Hex(volumes[1]!));
    expect(read.readAmplification).toBeCloseTo(read.dataBytesRead / read.dataBytesRestored, 10);
    expect(read.dataBytesDecoded).toBeGreaterThan(0);
    expect(read.decodeAmplification).toBeCloseTo(read.dataBytesDecoded / read.dataBytesRestored, 10);
    expect(read).toMatchObject({ listedPacks: listed.length, fallbackBlobs: 0 });
  });

  it("names the packs of blobs deduplicated from other volumes and of a parent's unchanged blocks", async () => {
    const inner = new MemoryBlobStore();
    const repo = await initRepository(inner, { encrypted: false });
    const base = makeVolume(1024 * 1024, 70);
    const first = await archive(repo, base, 'vol-a', 0);
    // A clone of vol-a with a few blocks changed: most of its chunks are vol-a's.
    const clone = Buffer.from(base);
    mutate(clone, 20, 71);
    const cloned = await archive(repo, clone, 'vol-b', 0);
    const aPacks = new Set((await packList(inner, repo, first)).map((p) => p.packId));
    const bPacks = (await packList(inner, repo, cloned)).map((p) => p.packId);
    expect(bPacks.filter((p) => aPacks.has(p)).length).toBeGreaterThan(0);
    expect(cloned.snapshot.stats.newBlobs).toBeLessThan(first.snapshot.stats.newBlobs);

    // An incremental from a changed-block list copies unchanged blocks' ids from the parent.
    const parentEntry = await archive(repo, base, 'vol-c', 1, { source: new MemoryVolumeSource(base, { blockSize: BLOCK, sourceRef: 'snap-1' }) });
    const next = Buffer.from(base);
    const changedChunks = mutate(next, 3, 72);
    const changedBlocks = [...new Set(changedChunks.map((c) => Math.floor((c * 4096) / BLOCK)))];
    const source = new MemoryVolumeSource(next, { blockSize: BLOCK, sourceRef: 'snap-2', changedSince: { 'snap-1': changedBlocks } });
    const incremental = await archive(repo, next, 'vol-c', 2, { parent: parentEntry, source });
    expect(source.reads).toBe(changedBlocks.length);

    const reader = await openRepository(inner);
    for (const [entry, data] of [
      [first, base],
      [cloned, clone],
      [incremental, next],
    ] as const) {
      const scoped = await loadSnapshotIndex(reader, entry);
      expect(await restoreHash(reader, entry)).toBe(sha256Hex(data));
      expect(scoped.stats.fallbackBlobs).toBe(0);
    }
  });

  it('after prune repacked and deleted listed packs, the kept snapshots get lists naming where their blobs are now', async () => {
    const inner = new MemoryBlobStore();
    const repo = await initRepository(inner, { encrypted: true, password: 'pw' });
    const volume = makeVolume(1024 * 1024, 80);
    const hashes = new Map<string, string>();
    let parent: SnapshotEntry | undefined;
    for (let d = 0; d < 5; d++) {
      if (d > 0) mutate(volume, 120, 80 + d);
      parent = await archive(repo, volume, 'vol', d, parent ? { parent } : {});
      hashes.set(parent.id, sha256Hex(volume));
    }
    const plans = planForget(await repo.listSnapshots(), { keepLast: 2 }, clock.now());
    await removeSnapshots(
      repo,
      plans.flatMap((p) => p.remove),
    );
    const report = await pruneRepository(await openRepository(inner, { password: 'pw' }), pool(repo), { clock, repackBelow: 0.95 });
    expect(report.repackedPacks).toBeGreaterThan(0);
    expect(report.deletedPacks).toBeGreaterThan(0);
    // The forgotten snapshots' pack lists went with them.
    expect(report.deletedPackLists).toBe(3);
    expect((await collect(inner.list(PACK_LISTS_PREFIX))).length).toBe(2);
    // Both kept snapshots' lists named a repacked pack: each got a layout list in its place.
    expect(report.refreshedLists).toBe(2);
    expect((await collect(inner.list(LAYOUTS_PREFIX))).length).toBe(2);

    // Their blobs were moved out of packs their own lists name, but each restore reads only its
    // new list: no index object, no blob beyond the list, exactly what was archived.
    const counting = new RecordingBlobStore(inner);
    const reader = await openRepository(counting, { password: 'pw' });
    const kept = await reader.listSnapshots();
    expect(kept).toHaveLength(2);
    for (const entry of kept) {
      counting.clear();
      const target = new MemoryVolumeTarget();
      const stats = await restoreSnapshot(reader, pool(reader), { snapshot: entry, target });
      expect(sha256Hex(target.data)).toBe(hashes.get(entry.id));
      expect(stats.fallbackBlobs).toBe(0);
      expect(counting.keys('get', INDEX_PREFIX)).toEqual([]);
    }
  });

  it('restores through the whole index when its listed packs are gone', async () => {
    const inner = new MemoryBlobStore();
    const repo = await initRepository(inner, { encrypted: true, password: 'pw' });
    const volume = makeVolume(1024 * 1024, 81);
    const first = await archive(repo, volume, 'vol', 0);
    mutate(volume, 120, 82);
    const second = await archive(repo, volume, 'vol', 1, { parent: first });
    // The first snapshot's packs, moved by hand into a pack no list names (as a prune of an
    // older release would leave them): the second's list now names a missing pack.
    await removeSnapshots(repo, [first]);
    const report = await pruneRepository(await openRepository(inner, { password: 'pw' }), pool(repo), { clock, repackBelow: 0.95 });
    expect(report.deletedPacks).toBeGreaterThan(0);
    for (const key of (await collect(inner.list(LAYOUTS_PREFIX))).map((o) => o.key)) await inner.delete(key);
    const counting = new RecordingBlobStore(inner);
    const reader = await openRepository(counting, { password: 'pw' });
    const target = new MemoryVolumeTarget();
    const stats = await restoreSnapshot(reader, pool(reader), { snapshot: second, target });
    expect(sha256Hex(target.data)).toBe(sha256Hex(volume));
    expect(stats.fallbackBlobs).toBeGreaterThan(0);
    expect(counting.keys('get', INDEX_PREFIX).length).toBeGreaterThan(0);
  });

  it('restores through the whole index when the pack list is gone', async () => {
    const inner = new MemoryBlobStore();
    const repo = await initRepository(inner, { encrypted: false });
    const volume = makeVolume(512 * 1024, 90);
    const entry = await archive(repo, volume, 'vol', 0);
    await inner.delete(packListKey(entry.snapshot.packList!));
    const counting = new RecordingBlobStore(inner);
    const reader = await openRepository(counting);
    expect(await restoreHash(reader, entry)).toBe(sha256Hex(volume));
    expect(counting.keys('get', INDEX_PREFIX).length).toBeGreaterThan(0);
  });
});
