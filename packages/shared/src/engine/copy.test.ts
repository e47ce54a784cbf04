import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { FaultyBlobStore, MemoryBlobStore, MemoryVolumeSource, MemoryVolumeTarget, sha256Hex } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { DATA_PREFIX, INDEX_PREFIX } from '../format/layout.js';
import { collect } from '../content/map-limit.js';
import type { Clock } from '../ports/clock.js';
import { archiveVolume } from './archive.js';
import { restoreSnapshot } from './restore.js';
import { verifyRepository } from './verify.js';
import { copySnapshots } from './copy.js';
import { compactIndex } from './index-compaction.js';
import type { Repository } from './repository.js';
import { initRepository, openRepository } from './repository-open.js';
import { makeVolume, mutate } from './test-volume.js';

const clock: Clock = { now: () => new Date('2026-06-01T00:00:00Z') };
const pool = (repo: Repository) => createInlineCodecPool(repo.keys);

async function archiveDays(repo: Repository, volume: Buffer, days: number, first = 0): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (let d = first; d < first + days; d++) {
    if (d > 0) mutate(volume, 40, 500 + d);
    const parent = (await repo.listVolumeSnapshots('vol')).at(-1);
    const r = await archiveVolume(repo, pool(repo), {
      volumeId: 'vol',
      source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
      clock,
      time: new Date(Date.UTC(2026, 4, 1 + d, 2)),
      ...(parent ? { parent } : {}),
    });
    hashes.set(r.id, sha256Hex(volume));
  }
  return hashes;
}

async function restoresAll(repo: Repository, hashes: Map<string, string>): Promise<void> {
  const entries = await repo.listSnapshots();
  expect(entries.map((e) => e.id).sort()).toEqual([...hashes.keys()].sort());
  for (const snapshot of entries) {
    const target = new MemoryVolumeTarget();
    await restoreSnapshot(repo, pool(repo), { snapshot, target });
    expect(sha256Hex(target.data)).toBe(hashes.get(snapshot.id));
  }
}

describe('copy', () => {
  it('copies snapshots with their ids and times into a repository of its own password, then only what is new', async () => {
    const src = await initRepository(new MemoryBlobStore('src'), { encrypted: true, password: 'one' });
    const volume = makeVolume(2 * 1024 * 1024, 41);
    const hashes = await archiveDays(src, volume, 3);
    const dstStore = new MemoryBlobStore('dst');
    const dst = await initRepository(dstStore, { encrypted: true, password: 'two', copyIdKeyFrom: src });

    const first = await copySnapshots(src, pool(src), dst, pool(dst), await src.listSnapshots(), { clock });
    expect(first).toMatchObject({ snapshots: 3, copied: 3, skipped: 0 });
    expect(first.blobs).toBeGreaterThan(0);
    const reopened = await openRepository(dstStore, { password: 'two' });
    await expect(openRepository(dstStore, { password: 'one' })).rejects.toThrow();
    await restoresAll(reopened, hashes);
    const times = new Map((await src.listSnapshots()).map((e) => [e.id, e.snapshot.time]));
    for (const e of await reopened.listSnapshots()) expect(e.snapshot.time).toBe(times.get(e.id));
    expect((await verifyRepository(reopened, pool(reopened), { readDataFraction: 1 })).problems).toEqual([]);

    // Nothing new: nothing is read or stored.
    const packsBefore = (await collect(dstStore.list(DATA_PREFIX))).length;
    const again = await copySnapshots(src, pool(src), reopened, pool(reopened), await src.listSnapshots(), { clock });
    expect(again).toMatchObject({ copied: 0, skipped: 3, blobs: 0, bytes: 0, packs: 0 });
    expect((await collect(dstStore.list(DATA_PREFIX))).length).toBe(packsBefore);

    // One more day: only its changed chunks (and the manifest nodes above them) travel.
    for (const [id, hash] of await archiveDays(src, volume, 1, 3)) hashes.set(id, hash);
    const next = await copySnapshots(src, pool(src), reopened, pool(reopened), await src.listSnapshots(), { clock });
    expect(next).toMatchObject({ copied: 1, skipped: 3 });
    expect(next.bytes).toBeLessThan(first.bytes / 4);
    await restoresAll(reopened, hashes);
  });

  it('resumes after a copy that failed midway, without copying twice what it stored', async () => {
    const src = await initRepository(new MemoryBlobStore('src'), { encrypted: true, password: 'one' });
    const hashes = await archiveDays(src, makeVolume(3 * 1024 * 1024, 42), 2);
    const faulty = new FaultyBlobStore(new MemoryBlobStore('dst'));
    const dst = await initRepository(faulty, { encrypted: true, password: 'two', copyIdKeyFrom: src });
    // Packs of 16 MiB would hold everything at once: fail the put of the first snapshot object
    // instead, after its packs are stored.
    faulty.failPutsWithPrefix('snapshots/');
    await expect(copySnapshots(src, pool(src), dst, pool(dst), await src.listSnapshots(), { clock })).rejects.toThrow();
    faulty.clearRules();
    const resumed = await copySnapshots(src, pool(src), dst, pool(dst), await src.listSnapshots(), { clock });
    expect(resumed.copied).toBe(2);
    // The first snapshot's blobs were stored by the failed run: the resumed one copied only
    // what the second snapshot changed.
    expect(resumed.bytes).toBeLessThan(1024 * 1024);
    await restoresAll(dst, hashes);
    expect((await verifyRepository(dst, pool(dst), { readDataFraction: 1 })).problems).toEqual([]);
  });

  it('a copy stopped between a pack and its index object leaves an orphan that maintenance adopts; nothing is lost', async () => {
    const src = await initRepository(new MemoryBlobStore('src'), { encrypted: true, password: 'one' });
    const hashes = await archiveDays(src, makeVolume(3 * 1024 * 1024, 43), 2);
    const faulty = new FaultyBlobStore(new MemoryBlobStore('dst'));
    const dst = await initRepository(faulty, { encrypted: true, password: 'two', copyIdKeyFrom: src });
    // The pack is stored, its index object is not: what a kill between the two puts leaves.
    faulty.failPutsWithPrefix(INDEX_PREFIX);
    await expect(copySnapshots(src, pool(src), dst, pool(dst), await src.listSnapshots(), { clock })).rejects.toThrow();
    faulty.clearRules();
    const orphans = (await collect(faulty.list(DATA_PREFIX))).length;
    expect(orphans).toBeGreaterThan(0);

    // The next copy does not know the orphan's blobs: it stores them again and completes.
    const resumed = await copySnapshots(src, pool(src), dst, pool(dst), await src.listSnapshots(), { clock });
    expect(resumed.copied).toBe(2);
    await restoresAll(dst, hashes);
    const before = await verifyRepository(dst, pool(dst), { readDataFraction: 1 });
    expect(before.problems.map((p) => [p.kind, p.severity])).toEqual(Array(orphans).fill(['unindexed-pack', 'notice']));

    const maintenance = await compactIndex(dst, { clock });
    expect(maintenance.adoptedPacks).toBe(orphans);
    expect((await verifyRepository(dst, pool(dst), { readDataFraction: 1 })).problems).toEqual([]);
    await restoresAll(dst, hashes);
  });

  it('refuses a target that does not share the id key', async () => {
    const src = await initRepository(new MemoryBlobStore('src'), { encrypted: true, password: 'one' });
    await archiveDays(src, makeVolume(512 * 1024, 43), 1);
    const other = await initRepository(new MemoryBlobStore('dst'), { encrypted: true, password: 'two' });
    await expect(copySnapshots(src, pool(src), other, pool(other), await src.listSnapshots(), { clock })).rejects.toThrow(InvalidInputError);
    await expect(copySnapshots(src, pool(src), other, pool(other), await src.listSnapshots(), { clock })).rejects.toThrow(/copy-id-key-from/);
  });
});
