import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, MemoryVolumeSource, MemoryVolumeTarget, sha256Hex } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { DATA_PREFIX, INDEX_PREFIX, idFromKey } from '../format/layout.js';
import { collect } from '../content/map-limit.js';
import { NotFoundError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { BlobData, BlobStore, ByteRange, ObjectInfo, PutOptions } from '../ports/blob-store.js';
import { archiveVolume } from './archive.js';
import { restoreSnapshot } from './restore.js';
import { verifyRepository } from './verify.js';
import { planForget, removeSnapshots } from './forget.js';
import { pruneRepository } from './prune.js';
import { compactIndex, compactIndexUnderLease, dropPacksFromIndex } from './index-compaction.js';
import { listIndexObjects, readIndexObject } from './index-objects.js';
import type { Repository } from './repository.js';
import { initRepository, openRepository } from './repository-open.js';
import { makeVolume, mutate } from './test-volume.js';

const clock: Clock = { now: () => new Date('2026-03-01T00:00:00Z') };
const pool = (repo: Repository) => createInlineCodecPool(repo.keys);
/** Small packs, so that a few MiB of volumes make dozens of packs and index objects. */
const PACK_SIZE = 16 * 1024;

async function archiveVolumes(repo: Repository, volumes: number, days: number, first = 0): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (let v = first; v < first + volumes; v++) {
    const volume = makeVolume(2 * 1024 * 1024, 40 + v);
    for (let d = 0; d < days; d++) {
      if (d > 0) mutate(volume, 40, 7 * v + d);
      const volumeId = `vol-${v}`;
      const parent = (await repo.listSnapshots()).filter((e) => e.snapshot.volumeId === volumeId).at(-1);
      const { id } = await archiveVolume(repo, pool(repo), {
        volumeId,
        source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
        clock,
        packSize: PACK_SIZE,
        time: new Date(Date.UTC(2026, 0, 1 + d, 2, v)),
        ...(parent ? { parent } : {}),
      });
      hashes.set(id, sha256Hex(volume));
    }
  }
  return hashes;
}

async function restoreEvery(repo: Repository): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const snapshot of await repo.listSnapshots()) {
    const target = new MemoryVolumeTarget();
    await restoreSnapshot(repo, pool(repo), { snapshot, target });
    out.set(snapshot.id, sha256Hex(target.data));
  }
  return out;
}

/** Every pack listed by the index objects, with how many objects list it. */
async function indexedPackCounts(repo: Repository): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const o of await listIndexObjects(repo)) {
    for (const p of (await readIndexObject(repo, o.key)) ?? []) counts.set(p.packId, (counts.get(p.packId) ?? 0) + 1);
  }
  return counts;
}

async function packIds(store: BlobStore): Promise<string[]> {
  return (await collect(store.list(DATA_PREFIX))).map((o) => idFromKey(o.key)!).sort();
}

describe('index compaction', () => {
  it('merges per-pack index objects into few; the same packs stay indexed; snapshots restore and verify', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    const hashes = await archiveVolumes(repo, 3, 2);
    const before = await indexedPackCounts(repo);
    const objectsBefore = (await listIndexObjects(repo)).length;
    expect(objectsBefore).toBeGreaterThan(20);

    const report = await compactIndex(repo, { clock, targetBlobs: 1000 });
    expect(report.objectsBefore).toBe(objectsBefore);
    expect(report.merged).toBe(objectsBefore);
    expect(report.packs).toBe(before.size);
    const objectsAfter = (await listIndexObjects(repo)).length;
    expect(objectsAfter).toBe(report.objectsAfter);
    expect(objectsAfter).toBe(report.written);
    expect(objectsAfter).toBeLessThan(objectsBefore / 3);

    const after = await indexedPackCounts(repo);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expect([...after.values()].every((n) => n === 1)).toBe(true);
    expect([...after.keys()].sort()).toEqual(await packIds(store));

    const reopened = await openRepository(store, { password: 'pw' });
    expect(await restoreEvery(reopened)).toEqual(hashes);
    expect((await verifyRepository(reopened, pool(reopened))).problems).toEqual([]);
  });

  it('leaves full objects alone and merges only what archives wrote since', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    await archiveVolumes(repo, 2, 1);
    await compactIndexUnderLease(repo, { targetBlobs: 200 });
    const full = new Set((await listIndexObjects(repo)).map((o) => o.key));
    await archiveVolumes(repo, 1, 1, 5);
    const second = await compactIndexUnderLease(repo, { targetBlobs: 200 });
    const now = new Set((await listIndexObjects(repo)).map((o) => o.key));
    // Every object of the first run but its last (partly filled) one is still there.
    expect([...full].filter((k) => !now.has(k)).length).toBeLessThanOrEqual(1);
    expect(second.merged).toBeGreaterThan(1);
    expect([...(await indexedPackCounts(repo)).keys()].sort()).toEqual(await packIds(store));
  });

  it('prune deletes packs listed in compacted objects by rewriting those objects first', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    const hashes = await archiveVolumes(repo, 2, 4);
    await compactIndexUnderLease(repo, { targetBlobs: 100_000 });
    expect((await listIndexObjects(repo)).length).toBe(1);

    const plans = planForget(await repo.listSnapshots(), { keepLast: 1 }, clock.now());
    const removed = plans.flatMap((p) => p.remove.map((e) => e.id));
    await removeSnapshots(repo, removed);
    const report = await pruneRepository(await openRepository(store, { password: 'pw' }), pool(repo), { clock, repackBelow: 0.9 });
    expect(report.deletedPacks).toBeGreaterThan(0);
    expect(report.compaction).toBeDefined();

    // No index entry names a missing pack, and no pack is left without one.
    expect([...(await indexedPackCounts(repo)).keys()].sort()).toEqual(await packIds(store));
    const reopened = await openRepository(store, { password: 'pw' });
    const kept = await restoreEvery(reopened);
    expect(kept.size).toBe(2);
    for (const [id, hash] of kept) expect(hash).toBe(hashes.get(id));
    expect((await verifyRepository(reopened, pool(reopened))).problems).toEqual([]);
  });

  it('dropPacksFromIndex deletes objects of only doomed packs and rewrites mixed ones', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    await archiveVolumes(repo, 1, 1);
    await compactIndexUnderLease(repo, { targetBlobs: 100_000 });
    const packs = await packIds(store);
    expect(packs.length).toBeGreaterThan(3);
    const doomed = new Set(packs.slice(0, 2));
    expect(await dropPacksFromIndex(repo, doomed)).toBe(1);
    const left = await indexedPackCounts(repo);
    expect([...left.keys()].sort()).toEqual(packs.slice(2));
    expect(await dropPacksFromIndex(repo, new Set(packs))).toBe(1);
    expect(await listIndexObjects(repo)).toEqual([]);
  });

  it('a reader whose index objects are merged away under it lists again and misses nothing', async () => {
    const inner = new MemoryBlobStore();
    const repo = await initRepository(inner, { encrypted: true, password: 'pw' });
    const hashes = await archiveVolumes(repo, 2, 1);
    const packs = await packIds(inner);
    // The first index read of the reader waits for a whole compaction to run, so every key the
    // reader listed is gone when it reads it.
    let compacted = false;
    const racing = new HookedStore(inner, async (key) => {
      if (compacted || !key.startsWith(INDEX_PREFIX)) return;
      compacted = true;
      await compactIndexUnderLease(repo, { targetBlobs: 300 });
    });
    const reader = await openRepository(racing, { password: 'pw' });
    const index = await reader.buildIndex();
    expect(compacted).toBe(true);
    for (const p of packs) expect(index.hasPack(p)).toBe(true);
    expect(await restoreEvery(reader)).toEqual(hashes);
  });

  it('a compaction killed between storing a merged object and deleting its inputs loses nothing; the next one completes', async () => {
    const inner = new MemoryBlobStore();
    const repo = await initRepository(inner, { encrypted: false });
    const hashes = await archiveVolumes(repo, 2, 1);
    let deletes = 0;
    const dying = new HookedStore(
      inner,
      async () => {},
      () => {
        if (++deletes > 1) throw new Error('killed');
      },
    );
    const dyingRepo = await openRepository(dying);
    await expect(compactIndexUnderLease(dyingRepo, { targetBlobs: 300 })).rejects.toThrow('killed');
    const twice = [...(await indexedPackCounts(repo)).values()].filter((n) => n > 1).length;
    expect(twice).toBeGreaterThan(0);
    expect(await restoreEvery(await openRepository(inner))).toEqual(hashes);

    const next = await compactIndexUnderLease(repo, { targetBlobs: 300 });
    expect(next.merged).toBeGreaterThan(0);
    const counts = await indexedPackCounts(repo);
    expect([...counts.keys()].sort()).toEqual(await packIds(inner));
    // Only the batch the crash interrupted stays listed twice.
    expect([...counts.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(twice);
    expect(await restoreEvery(await openRepository(inner))).toEqual(hashes);
    expect((await verifyRepository(repo, pool(repo))).problems).toEqual([]);
  });

  it('refuses a format-1 repository (older releases would break its index), and prune there does not compact', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false, formatVersion: 1 });
    await archiveVolumes(repo, 1, 1);
    const before = (await listIndexObjects(repo)).map((o) => o.key).sort();
    await expect(compactIndex(repo, { clock })).rejects.toThrow(/format version 1.*snapfleet migrate/);
    const report = await pruneRepository(repo, pool(repo), { clock });
    expect(report.compaction).toBeUndefined();
    expect((await listIndexObjects(repo)).map((o) => o.key).sort()).toEqual(before);
  });

  it('does nothing to an index of one object', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    await archiveVolumes(repo, 1, 1);
    await compactIndexUnderLease(repo, { targetBlobs: 100_000 });
    const keys = (await listIndexObjects(repo)).map((o) => o.key);
    const again = await compactIndexUnderLease(repo, { targetBlobs: 100_000 });
    expect(again.merged).toBe(0);
    expect((await listIndexObjects(repo)).map((o) => o.key)).toEqual(keys);
    await expect(inner(store, keys[0]!)).resolves.toBeGreaterThan(0);
  });
});

async function inner(store: BlobStore, key: string): Promise<number> {
  const info = await store.stat(key);
  if (!info) throw new NotFoundError(key);
  return info.size;
}

/** A store that runs `beforeGet` before each get and `beforeDelete` before each delete. */
class HookedStore implements BlobStore {
  constructor(
    private readonly inner: BlobStore,
    private readonly beforeGet: (key: string) => Promise<void>,
    private readonly beforeDelete: (key: string) => void = () => {},
  ) {}
  get location(): string {
    return this.inner.location;
  }
  put(key: string, data: BlobData, options?: PutOptions): Promise<void> {
    return this.inner.put(key, data, options);
  }
  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    await this.beforeGet(key);
    return this.inner.get(key, range);
  }
  stat(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(key);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  async delete(key: string): Promise<void> {
    this.beforeDelete(key);
    await this.inner.delete(key);
  }
}
