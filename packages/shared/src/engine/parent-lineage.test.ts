import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, MemoryVolumeSource, seededBytes } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { archiveVolume } from './archive.js';
import { openParentLineage } from './parent-lineage.js';
import { readPackList } from './snapshot-index.js';
import { initRepository } from './repository-open.js';
import { snapshotKey } from '../format/layout.js';

const clock = { now: () => new Date('2026-02-01T00:00:00Z') };
const BLOCK = 64 * 1024;

describe('parent lineage', () => {
  it('takes the parent pack list over unless a pack is condemned or the list outgrew the volume', async () => {
    const repo = await initRepository(new MemoryBlobStore(), { encrypted: false });
    const pool = createInlineCodecPool(repo.keys);
    const data = seededBytes(4 * 1024 * 1024, 9);
    const packSize = 32 * 1024; // small packs: the parent's list has dozens
    const first = await archiveVolume(repo, pool, {
      volumeId: 'v',
      source: new MemoryVolumeSource(data, { blockSize: BLOCK }),
      time: new Date(1e12),
      clock,
      packSize,
    });
    const parent = (await repo.listVolumeSnapshots('v'))[0]!;
    const list = (await readPackList(repo, first.snapshot.packList!))!;
    expect(list.length).toBeGreaterThan(2 + 16);
    await repo.loadIndex({ view: 'write' }); // as an archive has it loaded (no host table)

    const open = (condemned: string[], sizeBytes = data.byteLength) =>
      openParentLineage(repo, pool, parent, { condemned: new Set(condemned), sizeBytes, packSize });
    const ok = await open([]);
    expect(ok?.inherited?.map((p) => p.packId).sort()).toEqual(list.map((p) => p.packId).sort());
    expect(ok?.chunks).toBe(1024);
    expect(Buffer.from((await ok!.read(1020, 10))!).byteLength).toBe(4 * 32); // clipped to the parent's size
    expect(await ok!.read(1024, 1)).toBeUndefined();

    expect((await open([list[2]!.packId]))?.inherited).toBeUndefined();
    // A parent forgotten meanwhile: a prune may have planned without it, so nothing is taken over.
    const key = snapshotKey(parent.id, repo.volumeKey('v'));
    const stored = await repo.store.get(key);
    await repo.store.delete(key);
    expect((await open([]))?.inherited).toBeUndefined();
    await repo.store.put(key, stored);
    // A volume that fills one pack needs a list of at most 2 + 16 packs: this one has outgrown it.
    expect((await open([], 1))?.inherited).toBeUndefined();
    repo.forgetIndex();

    // Archived with the parent: chunks equal to the parent's need no lookup, the list is inherited.
    const again = await archiveVolume(repo, pool, {
      volumeId: 'v',
      source: new MemoryVolumeSource(data, { blockSize: BLOCK }),
      time: new Date(2e12),
      clock,
      packSize,
      parent,
    });
    expect(again.parentPacksInherited).toBe(true);
    expect(again.snapshot.stats.newBlobs).toBe(0);
    expect(again.indexLookups).toBeLessThan(10); // the manifest's nodes only
    expect(first.indexLookups).toBeGreaterThanOrEqual(1024);
  });
});
