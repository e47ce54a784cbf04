import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, MemoryVolumeSource, MemoryVolumeTarget, RecordingBlobStore, sha256Hex } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { DATA_PREFIX } from '../format/layout.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import type { Clock } from '../ports/clock.js';
import { archiveVolume } from './archive.js';
import { removeSnapshots } from './forget.js';
import { maintainLocality } from './locality.js';
import { pruneRepository } from './prune.js';
import { restoreSnapshot } from './restore.js';
import type { Repository } from './repository.js';
import { initRepository, openRepository } from './repository-open.js';
import { makeVolume, mutate } from './test-volume.js';

const clock: Clock = { now: () => new Date('2026-03-01T00:00:00Z') };

async function archiveDay(repo: Repository, volume: Buffer, day: number, parent?: SnapshotEntry): Promise<SnapshotEntry> {
  const { id } = await archiveVolume(repo, createInlineCodecPool(repo.keys), {
    volumeId: 'vol',
    source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
    clock,
    packSize: 256 * 1024,
    time: new Date(Date.UTC(2026, 0, 1 + day)),
    ...(parent ? { parent } : {}),
  });
  return (await repo.listVolumeSnapshots('vol')).find((e) => e.id === id)!;
}

describe('a repository whose packs live in another storage class', () => {
  it('puts every pack (archives, relocation, repacking) in that class and nothing else in it', async () => {
    const store = new RecordingBlobStore(new MemoryBlobStore());
    await initRepository(store, { encrypted: true, password: 'pw', packStorageClass: 'GLACIER_IR' });
    // Every writer opens the repository and finds the class in its config.
    const repo = await openRepository(store, { password: 'pw' });
    expect(repo.packPut).toEqual({ storageClass: 'GLACIER_IR' });
    const pool = createInlineCodecPool(repo.keys);
    // 16 restore windows with 1 MiB of data each: a day's changes are read by nearly every window.
    const volume = Buffer.alloc(128 * 1024 * 1024);
    const data = makeVolume(16 * 1024 * 1024, 61);
    for (let i = 0; i < 16; i++) data.copy(volume, i * 8 * 1024 * 1024, i * 1024 * 1024, (i + 1) * 1024 * 1024);
    const first = await archiveDay(repo, volume, 0);
    mutate(volume, 64, 62);
    const middle = await archiveDay(repo, volume, 1, first);
    mutate(volume, 64, 63);
    const second = await archiveDay(repo, volume, 2, middle);
    const archived = store.calls.filter((c) => c.op === 'put' && c.key.startsWith(DATA_PREFIX)).length;

    expect((await maintainLocality(repo, pool, { clock, force: true })).volumes[0]).toMatchObject({ relocated: true });
    const relocated = store.calls.filter((c) => c.op === 'put' && c.key.startsWith(DATA_PREFIX)).length;
    await removeSnapshots(repo, [first]);
    const pruned = await pruneRepository(repo, pool, { clock, repackBelow: 0.95 });
    expect(pruned.repackedPacks).toBeGreaterThan(0);

    const puts = store.calls.filter((c) => c.op === 'put');
    const packs = puts.filter((c) => c.key.startsWith(DATA_PREFIX));
    expect(archived).toBeGreaterThan(0);
    expect(relocated).toBeGreaterThan(archived);
    expect(packs.length).toBeGreaterThan(relocated);
    for (const c of packs) expect(c.options, c.key).toEqual({ storageClass: 'GLACIER_IR' });
    // Config, keys, index objects, snapshots, lists, leases and markers stay in the default class.
    const others = puts.filter((c) => !c.key.startsWith(DATA_PREFIX));
    expect(new Set(others.map((c) => c.key.split('/')[0]))).toEqual(
      new Set(['config', 'keys', 'index', 'snapshots', 'packlists', 'layouts', 'locks', 'prune']),
    );
    for (const c of others) expect(c.options?.storageClass, c.key).toBeUndefined();

    const target = new MemoryVolumeTarget();
    await restoreSnapshot(repo, pool, { snapshot: second, target });
    expect(sha256Hex(target.data)).toBe(sha256Hex(volume));
  });

  it('a repository without a class puts packs with no options', async () => {
    const store = new RecordingBlobStore(new MemoryBlobStore());
    const repo = await initRepository(store, { encrypted: false });
    expect(repo.packPut).toEqual({});
    await archiveDay(repo, makeVolume(256 * 1024, 63), 0);
    for (const c of store.calls.filter((c) => c.op === 'put')) expect(c.options?.storageClass, c.key).toBeUndefined();
  });
});
