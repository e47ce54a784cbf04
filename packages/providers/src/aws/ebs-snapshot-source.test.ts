import { describe, expect, it, vi } from 'vitest';
import { CorruptDataError, NotFoundError, PermanentError, TransientError } from '@snapfleet/shared';
import { describeVolumeSourceConformance, seededBytes, sha256Hex } from '@snapfleet/shared/testing';
import { EbsSnapshotSource, type EbsSnapshotSourceOptions } from './ebs-snapshot-source.js';
import { ListSnapshotBlocksCommand } from '@aws-sdk/client-ebs';
import { FAKE_BLOCK_SIZE, FakeEbsWorld, RecordingLimiter } from './testing/fake-ebs.js';
import { fakeEbsApi } from './testing/fake-ebs-api.js';

const BLOCK = FAKE_BLOCK_SIZE;

/** `blocks` blocks of seeded data, with the given blocks left all zero (never written). */
function volume(blocks: number, zeroBlocks: number[] = [], seed = 7): Uint8Array {
  const data = seededBytes(blocks * BLOCK, seed);
  for (const b of zeroBlocks) data.fill(0, b * BLOCK, (b + 1) * BLOCK);
  return data;
}

async function open(world: FakeEbsWorld, snapshotId: string, extra: Partial<EbsSnapshotSourceOptions> = {}) {
  const fake = fakeEbsApi(world);
  const source = await EbsSnapshotSource.open({ api: fake.api, snapshotId, describeSnapshot: world.describe, now: () => world.time, ...extra });
  return { source, ...fake };
}

async function collect(blocks: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const b of blocks) out.push(b);
  return out;
}

describeVolumeSourceConformance('EbsSnapshotSource over the fake EBS APIs', async (content) => {
  const world = new FakeEbsWorld();
  // Small pages with empty ones between them: every read path meets pagination.
  world.pageSize = 3;
  world.emptyPages = 1;
  const snap = world.addSnapshot(content, { volumeId: 'vol-0conformance' });
  const { api } = fakeEbsApi(world);
  const source = await EbsSnapshotSource.open({ api, snapshotId: snap.id, describeSnapshot: world.describe, sizeBytes: content.length, now: () => world.time });
  return { source, cleanup: async () => {} };
});

describe('EbsSnapshotSource', () => {
  it('sizes the volume in GiB, names the snapshot, and refuses pending, failed and missing snapshots', async () => {
    const world = new FakeEbsWorld();
    const snap = world.addSnapshot(volume(2), { volumeId: 'vol-1', volumeSizeGiB: 8 });
    const { source } = await open(world, snap.id);
    expect(source.sizeBytes).toBe(8 * 1024 ** 3);
    expect(source.blockSize).toBe(512 * 1024);
    expect(source.sourceRef).toBe(snap.id);
    const pending = world.addSnapshot(volume(1), { state: 'pending' });
    await expect(open(world, pending.id)).rejects.toThrow(TransientError);
    const failed = world.addSnapshot(volume(1), { state: 'error' });
    await expect(open(world, failed.id)).rejects.toThrow(PermanentError);
    await expect(open(world, 'snap-0000000000000dead')).rejects.toThrow(NotFoundError);
  });

  it('lists written blocks over every page, following empty pages that carry a NextToken', async () => {
    const world = new FakeEbsWorld();
    world.pageSize = 3;
    world.emptyPages = 2;
    const snap = world.addSnapshot(volume(12, [1, 4, 5, 11]), { volumeId: 'vol-1' });
    const { source, limiter } = await open(world, snap.id);
    expect(await collect(source.writtenBlocks())).toEqual([0, 2, 3, 6, 7, 8, 9, 10]);
    // 3 pages of blocks, each after 2 empty ones.
    expect(world.callCount('ListSnapshotBlocks')).toBe(9);
    expect(new Set(limiter.taken)).toEqual(new Set(['ebs-list:123456789012:eu-west-1']));
  });

  it('resumes a listing whose page token expired from the block after the last one seen', async () => {
    const world = new FakeEbsWorld();
    world.pageSize = 3;
    const snap = world.addSnapshot(volume(8, [4]), { volumeId: 'vol-1' });
    const { source, stub } = await open(world, snap.id);
    const listed: number[] = [];
    for await (const b of source.writtenBlocks()) {
      listed.push(b);
      if (b === 2) world.rejectPageTokens = 1; // the archive stalled past the token's hour
    }
    expect(listed).toEqual([0, 1, 2, 3, 5, 6, 7]);
    const starts = stub.commandCalls(ListSnapshotBlocksCommand).map((c) => c.args[0].input.StartingBlockIndex ?? 'next');
    expect(starts).toEqual([0, 'next', 3, 'next']);
  });

  it('reads blocks with the tokens of the listing, verifies them, and reads unwritten blocks as zeros', async () => {
    const world = new FakeEbsWorld();
    const data = volume(6, [3]);
    const snap = world.addSnapshot(data, { volumeId: 'vol-1' });
    const { source, limiter } = await open(world, snap.id);
    await collect(source.writtenBlocks());
    for (let b = 0; b < 6; b++) expect(sha256Hex(await source.readBlock(b)), `block ${b}`).toBe(sha256Hex(data.subarray(b * BLOCK, (b + 1) * BLOCK)));
    expect(world.callCount('ListSnapshotBlocks')).toBe(1); // every token came from the listing
    expect(world.callCount('GetSnapshotBlock')).toBe(5); // block 3 holds no data: not fetched
    expect(limiter.taken.filter((k) => k === 'ebs:123456789012:eu-west-1')).toHaveLength(5);
  });

  it('lists from a block whose token it does not have', async () => {
    const world = new FakeEbsWorld();
    world.pageSize = 2;
    const data = volume(8);
    const snap = world.addSnapshot(data, { volumeId: 'vol-1' });
    const { source, stub } = await open(world, snap.id);
    expect(sha256Hex(await source.readBlock(5))).toBe(sha256Hex(data.subarray(5 * BLOCK, 6 * BLOCK)));
    expect(stub.commandCalls(ListSnapshotBlocksCommand).map((c) => c.args[0].input.StartingBlockIndex)).toEqual([5]);
    await source.readBlock(6); // the same page held block 6's token
    expect(world.callCount('ListSnapshotBlocks')).toBe(1);
  });

  it('keeps a bounded number of tokens and lists again for evicted ones', async () => {
    const world = new FakeEbsWorld();
    world.pageSize = 2;
    const snap = world.addSnapshot(volume(10), { volumeId: 'vol-1' });
    const { source } = await open(world, snap.id, { maxCachedTokens: 4 });
    await collect(source.writtenBlocks());
    expect(world.callCount('ListSnapshotBlocks')).toBe(5);
    await source.readBlock(9); // still cached
    expect(world.callCount('ListSnapshotBlocks')).toBe(5);
    await source.readBlock(0); // evicted long ago
    expect(world.callCount('ListSnapshotBlocks')).toBe(6);
  });

  it('retries throttling bursts of reads and listings with backoff', async () => {
    const world = new FakeEbsWorld();
    const data = volume(3);
    const snap = world.addSnapshot(data, { volumeId: 'vol-1' });
    const { source, sleeps, limiter } = await open(world, snap.id);
    world.throttle('ListSnapshotBlocks', 2);
    expect(await collect(source.writtenBlocks())).toEqual([0, 1, 2]);
    world.throttle('GetSnapshotBlock', 3);
    expect(sha256Hex(await source.readBlock(1))).toBe(sha256Hex(data.subarray(BLOCK, 2 * BLOCK)));
    expect(sleeps).toHaveLength(5);
    // One limiter point per attempt: 3 throttled + 1 good read.
    expect(limiter.taken.filter((k) => k.startsWith('ebs:'))).toHaveLength(4);
  });

  it('rejects a block whose checksum does not match, naming the snapshot and block', async () => {
    const world = new FakeEbsWorld();
    const snap = world.addSnapshot(volume(4), { volumeId: 'vol-1' });
    world.corrupt.add(`${snap.id}:2`);
    const { source } = await open(world, snap.id);
    const err = await source.readBlock(2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as Error).message).toContain(`block 2 (byte offset ${2 * BLOCK}) of EBS snapshot ${snap.id}`);
    expect((err as CorruptDataError).retryable).toBe(false);
    // Not retried: the service said what it holds.
    expect(world.callCount('GetSnapshotBlock')).toBe(1);
  });

  it('refreshes tokens the service refuses, by listing again from that block', async () => {
    const world = new FakeEbsWorld();
    const data = volume(5);
    const snap = world.addSnapshot(data, { volumeId: 'vol-1' });
    const { source } = await open(world, snap.id);
    await collect(source.writtenBlocks());
    world.expireTokens(snap.id);
    expect(sha256Hex(await source.readBlock(3))).toBe(sha256Hex(data.subarray(3 * BLOCK, 4 * BLOCK)));
    expect(world.callCount('GetSnapshotBlock')).toBe(2); // refused, then read with the new token
    expect(world.callCount('ListSnapshotBlocks')).toBe(2);
    await source.readBlock(4); // the new listing covered it
    expect(world.callCount('ListSnapshotBlocks')).toBe(2);
  });

  it('lists again before reading when the tokens ExpiryTime has passed', async () => {
    const world = new FakeEbsWorld();
    world.tokenLifeMs = 30 * 60_000;
    const snap = world.addSnapshot(volume(2), { volumeId: 'vol-1' });
    const { source } = await open(world, snap.id);
    await collect(source.writtenBlocks());
    world.time += 60 * 60_000;
    world.expireTokens(snap.id);
    await source.readBlock(1);
    expect(world.callCount('GetSnapshotBlock')).toBe(1); // no request with a stale token
    expect(world.callCount('ListSnapshotBlocks')).toBe(2);
  });

  it('lists only the blocks changed since an earlier snapshot of the same volume', async () => {
    const world = new FakeEbsWorld();
    const before = volume(8, [6]);
    const after = new Uint8Array(before);
    after.fill(9, 2 * BLOCK + 10, 2 * BLOCK + 20); // block 2 changes
    after.set(seededBytes(BLOCK, 3), 6 * BLOCK); // block 6 is written
    after.fill(0, 4 * BLOCK, 5 * BLOCK); // block 4 no longer holds data
    const parent = world.addSnapshot(before, { volumeId: 'vol-1' });
    const child = world.addSnapshot(after, { volumeId: 'vol-1' });
    const { source, limiter } = await open(world, child.id);
    const changed = await source.changedBlocksSince(parent.id);
    expect(changed).toBeDefined();
    expect(await collect(changed!)).toEqual([2, 4, 6]);
    expect(sha256Hex(await source.readBlock(2))).toBe(sha256Hex(after.subarray(2 * BLOCK, 3 * BLOCK)));
    expect(sha256Hex(await source.readBlock(4))).toBe(sha256Hex(new Uint8Array(BLOCK))); // no data in this snapshot: zeros, no request
    expect(world.callCount('GetSnapshotBlock')).toBe(1);
    expect(world.callCount('ListSnapshotBlocks')).toBe(0);
    expect(limiter.taken).toContain('ebs-list:123456789012:eu-west-1');
  });

  it('falls back to a full read, saying why, when the parent is of another lineage or gone', async () => {
    const world = new FakeEbsWorld();
    const mine = world.addSnapshot(volume(2), { volumeId: 'vol-1' });
    const other = world.addSnapshot(volume(2), { volumeId: 'vol-2' });
    const copied = world.addSnapshot(volume(2)); // written with StartSnapshot: no volume
    const warn = vi.fn();
    const { source } = await open(world, mine.id, { log: { warn } });
    expect(await source.changedBlocksSince(other.id)).toBeUndefined();
    expect(warn.mock.calls[0]?.[1]).toContain(`is of volume vol-2, ${mine.id} of volume vol-1`);
    expect(await source.changedBlocksSince(copied.id)).toBeUndefined();
    expect(await source.changedBlocksSince('snap-00000000000000bad')).toBeUndefined();
    expect(warn.mock.calls[2]?.[1]).toContain('no longer exists');
    expect(await source.changedBlocksSince('local:/srv/images/a.img@2026')).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(4);
    expect(world.callCount('ListChangedBlocks')).toBe(0);
  });

  it('falls back when the service refuses the comparison', async () => {
    const world = new FakeEbsWorld();
    const parent = world.addSnapshot(volume(2), { volumeId: 'vol-1' });
    const child = world.addSnapshot(volume(2, [], 8), { volumeId: 'vol-9' });
    const warn = vi.fn();
    // EC2 says both are of vol-1 (a stale answer); the EBS service knows better.
    const describeSnapshot = async (snapshotId: string) => ({ snapshotId, volumeId: 'vol-1', state: 'completed' as const, volumeSizeGiB: 1 });
    const { source } = await open(world, child.id, { log: { warn }, describeSnapshot });
    expect(await source.changedBlocksSince(parent.id)).toBeUndefined();
    expect(warn.mock.calls[0]?.[1]).toContain('UNRELATED_SNAPSHOTS');
    world.get(parent.id).deleted = true; // deleted behind EC2's back: ResourceNotFoundException
    expect(await source.changedBlocksSince(parent.id)).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('takes per-snapshot limiter points for block reads when given a per-snapshot limiter', async () => {
    const world = new FakeEbsWorld();
    const snap = world.addSnapshot(volume(1), { volumeId: 'vol-1' });
    const fake = fakeEbsApi(world);
    const perSnapshot = new RecordingLimiter();
    fake.api.limiters.perSnapshot = perSnapshot;
    const source = await EbsSnapshotSource.open({ api: fake.api, snapshotId: snap.id, describeSnapshot: world.describe, now: () => world.time });
    await source.readBlock(0);
    expect(perSnapshot.taken).toEqual([`ebs-snapshot:123456789012:eu-west-1:${snap.id}`]);
  });
});
