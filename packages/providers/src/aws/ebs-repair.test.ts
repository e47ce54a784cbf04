/**
 * `repair snapshots` reading lost blocks back from the EBS snapshot an archive was taken from
 * (its sourceRef, still kept by the snapshot tier), through the real EBS adapter: every lost
 * block comes back checked against its id, and the snapshot needs no rewrite.
 */
import { describe, expect, it } from 'vitest';
import {
  archiveVolume,
  createInlineCodecPool,
  DATA_PREFIX,
  initRepository,
  openRepository,
  repairPacks,
  repairSnapshots,
  restoreSnapshot,
  verifyRepository,
} from '@snapfleet/shared';
import { MemoryBlobStore, MemoryVolumeTarget, seededBytes, sha256Hex } from '@snapfleet/shared/testing';
import { EbsSnapshotSource } from './ebs-snapshot-source.js';
import { FAKE_BLOCK_SIZE, FakeEbsWorld } from './testing/fake-ebs.js';

const SIZE = 16 * FAKE_BLOCK_SIZE;
const clock = { now: () => new Date('2026-03-01T02:00:00Z') };

describe('repair snapshots from the EBS snapshot of the archive', () => {
  it('reads every lost block back from it and leaves the snapshot whole', async () => {
    const world = new FakeEbsWorld();
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    const data = seededBytes(SIZE, 41);
    const snap = world.addSnapshot(data, { volumeId: 'vol-1' });
    const open = (snapshotId: string) =>
      EbsSnapshotSource.open({ api: world.api().api, snapshotId, describeSnapshot: world.describe, sizeBytes: SIZE, now: () => world.time });
    const source = await open(snap.id);
    const archived = await archiveVolume(repo, createInlineCodecPool(repo.keys), {
      volumeId: 'vol-1',
      source,
      time: clock.now(),
      clock,
      packSize: 1024 * 1024,
    });
    await source.close();
    expect(archived.snapshot.sourceRef).toBe(snap.id);

    // A pack of data only (the manifest survives, so every lost block has an id to check).
    let dataPack: string | undefined;
    for (const key of store.keys().filter((k) => k.startsWith(DATA_PREFIX))) {
      const frames = await repo.readPackHeader(key, (await store.stat(key))!.size);
      if (frames.every((f) => f.type === 0)) dataPack = key;
    }
    await store.delete(dataPack!);
    const damaged = await openRepository(store, { password: 'pw' });
    const pool = createInlineCodecPool(damaged.keys);
    const before = await verifyRepository(damaged, pool, { recordAt: clock.now() });
    const lost = before.summary!.damaged[0]!.damagedChunks!;
    expect(lost).toBeGreaterThan(0);
    await repairPacks(damaged, pool, { clock });

    const reads = world.callCount('GetSnapshotBlock');
    const report = await repairSnapshots(damaged, pool, {
      clock,
      blocksFrom: async (entry) => (entry.snapshot.sourceRef ? open(entry.snapshot.sourceRef) : undefined),
    });
    expect(report.recoveredChunks).toBe(lost);
    expect(report.repaired).toEqual([]);
    expect(world.callCount('GetSnapshotBlock')).toBeGreaterThan(reads);
    expect((await verifyRepository(damaged, pool)).problems).toEqual([]);
    const target = new MemoryVolumeTarget();
    await restoreSnapshot(damaged, pool, { snapshot: (await damaged.listSnapshots())[0]!, target });
    expect(sha256Hex(target.data)).toBe(sha256Hex(data));
  });
});
