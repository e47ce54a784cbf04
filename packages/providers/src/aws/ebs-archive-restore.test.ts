/**
 * The EBS adapters under the real engine: a full archive of one snapshot, an incremental one of the
 * next via ListChangedBlocks, a restore into a new snapshot, and a corrupt block that never reaches
 * the repository.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { archiveVolume, CorruptDataError, createInlineCodecPool, initRepository, restoreSnapshot, type Repository } from '@snapfleet/shared';
import { MemoryBlobStore, seededBytes, sha256Hex } from '@snapfleet/shared/testing';
import { EbsSnapshotSource } from './ebs-snapshot-source.js';
import { EbsSnapshotTarget } from './ebs-snapshot-target.js';
import { FAKE_BLOCK_SIZE, FakeEbsWorld } from './testing/fake-ebs.js';
import { fakeEbsApi } from './testing/fake-ebs-api.js';

const BLOCK = FAKE_BLOCK_SIZE;
const SIZE = 16 * BLOCK; // 8 MiB: small, but several manifest nodes of 4 KiB chunks
const T0 = Date.parse('2026-03-01T02:00:00Z');

async function archive(repo: Repository, world: FakeEbsWorld, snapshotId: string, hour: number) {
  const { api } = fakeEbsApi(world);
  const source = await EbsSnapshotSource.open({ api, snapshotId, describeSnapshot: world.describe, sizeBytes: SIZE, now: () => world.time });
  const parent = (await repo.listSnapshots()).at(-1);
  try {
    return await archiveVolume(repo, createInlineCodecPool(repo.keys), {
      volumeId: 'vol-1',
      source,
      time: new Date(T0 + hour * 3_600_000),
      clock: { now: () => new Date(T0) },
      ...(parent ? { parent } : {}),
    });
  } finally {
    await source.close();
  }
}

function blockOf(data: Uint8Array, index: number): Uint8Array {
  return data.subarray(index * BLOCK, (index + 1) * BLOCK);
}

describe('EBS snapshots through the engine', () => {
  it('archives a snapshot, then only the changed blocks of the next, and restores into a new snapshot byte for byte', async () => {
    const world = new FakeEbsWorld();
    const repo = await initRepository(new MemoryBlobStore(), { encrypted: true, password: 'pw' });
    const first = seededBytes(SIZE, 21);
    first.fill(0, 3 * BLOCK, 4 * BLOCK);
    first.fill(0, 9 * BLOCK, 10 * BLOCK);
    const snap1 = world.addSnapshot(first, { volumeId: 'vol-1' });

    const full = await archive(repo, world, snap1.id, 0);
    expect(full.snapshot.sourceRef).toBe(snap1.id);
    expect(world.callCount('GetSnapshotBlock')).toBe(14); // the two unwritten blocks are holes, not reads

    const second = new Uint8Array(first);
    second.set(seededBytes(64 * 1024, 22), 5 * BLOCK + 128 * 1024); // part of block 5 changes
    second.set(seededBytes(BLOCK, 23), 3 * BLOCK); // block 3 is written
    second.fill(0, 7 * BLOCK, 8 * BLOCK); // block 7 is trimmed: no data in the new snapshot
    const snap2 = world.addSnapshot(second, { volumeId: 'vol-1' });

    const incr = await archive(repo, world, snap2.id, 1);
    expect(incr.snapshot.parent).toBe(full.id);
    expect(incr.snapshot.stats.changedBlocksOnly).toBe(true);
    expect(world.callCount('ListChangedBlocks')).toBe(1);
    expect(world.callCount('GetSnapshotBlock')).toBe(14 + 2); // blocks 3 and 5; block 7 reads as zeros
    expect(incr.snapshot.stats.readBytes).toBe(3 * BLOCK);

    const { api } = fakeEbsApi(world);
    const target = new EbsSnapshotTarget({ api, ec2: world.ec2, availabilityZone: 'eu-west-1a' });
    const entry = (await repo.listSnapshots()).find((e) => e.id === incr.id)!;
    await restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot: entry, target });
    const { snapshotId, volumeId } = target.result;
    expect(sha256Hex(world.readVolume(snapshotId, SIZE))).toBe(sha256Hex(second));
    expect(world.volumes.map((v) => [v.volumeId, v.snapshotId])).toEqual([[volumeId, snapshotId]]);
    // Every block sent is byte-identical to the source snapshot's; its zero blocks were not sent.
    const sent = [...world.putHashes.keys()].filter((k) => k.startsWith(`${snapshotId}:`)).map((k) => Number(k.split(':')[1]));
    expect(sent.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 13, 14, 15]);
    for (const index of sent) {
      expect(world.putHashes.get(`${snapshotId}:${index}`), `block ${index}`).toBe(createHash('sha256').update(blockOf(second, index)).digest('base64'));
    }
  });

  it('fails an archive on a block whose checksum does not match and stores none of its data', async () => {
    const world = new FakeEbsWorld();
    const repo = await initRepository(new MemoryBlobStore(), { encrypted: false });
    const data = seededBytes(SIZE, 31);
    const snap = world.addSnapshot(data, { volumeId: 'vol-1' });
    world.corrupt.add(`${snap.id}:4`);

    const err = await archive(repo, world, snap.id, 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as Error).message).toContain(`block 4 (byte offset ${4 * BLOCK}) of EBS snapshot ${snap.id}`);
    expect(await repo.listSnapshots()).toEqual([]);

    // What the service sent for block 4 (one byte flipped, as the fake does) is in no blob.
    const served = new Uint8Array(blockOf(data, 4));
    served[1234] = served[1234]! ^ 0xff;
    const pool = createInlineCodecPool(repo.keys);
    const servedIds = await pool.hashChunks(served, repo.chunkSize);
    const index = await repo.loadIndex();
    expect(index.has(servedIds, 0)).toBe(false);

    // Once the service serves it intact, the archive completes and restores exactly.
    world.corrupt.clear();
    const ok = await archive(repo, world, snap.id, 1);
    expect(ok.snapshot.stats.readBytes).toBe(SIZE);
    expect((await repo.loadIndex()).has(servedIds, 0)).toBe(false);
    const { api } = fakeEbsApi(world);
    const target = new EbsSnapshotTarget({ api });
    await restoreSnapshot(repo, pool, { snapshot: (await repo.listSnapshots())[0]!, target });
    expect(sha256Hex(world.readVolume(target.result.snapshotId, SIZE))).toBe(sha256Hex(data));
  });
});
