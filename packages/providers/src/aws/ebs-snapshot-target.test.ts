import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { CompleteSnapshotCommand, PutSnapshotBlockCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { NotFoundError } from '@snapfleet/shared';
import { seededBytes, sha256Hex } from '@snapfleet/shared/testing';
import { EbsSnapshotTarget, type EbsSnapshotTargetOptions } from './ebs-snapshot-target.js';
import { FAKE_BLOCK_SIZE, FakeEbsWorld } from './testing/fake-ebs.js';

const BLOCK = FAKE_BLOCK_SIZE;
const KiB = 1024;
/** Restores write runs of whole repository chunks; 96 KiB runs straddle the 512 KiB blocks. */
const RUN = 96 * KiB;

/** 7 blocks and a bit: block 2 all zero (a hole), block 4 written with zeros, the rest data. */
function volume(): { data: Uint8Array; holes: [number, number][] } {
  const data = seededBytes(7 * BLOCK + 40 * KiB, 11);
  data.fill(0, 2 * BLOCK, 3 * BLOCK);
  data.fill(0, 4 * BLOCK, 5 * BLOCK);
  data.fill(0, 5 * BLOCK + 8 * KiB, 5 * BLOCK + 16 * KiB);
  // The archive recorded block 2 and a stretch of block 5 as holes: restore calls zero() there.
  return {
    data,
    holes: [
      [2 * BLOCK, 3 * BLOCK],
      [5 * BLOCK + 8 * KiB, 5 * BLOCK + 16 * KiB],
    ],
  };
}

/** Feeds the volume to the target as restore does: data runs between zeroed holes, in order. */
async function restoreInto(target: EbsSnapshotTarget, data: Uint8Array, holes: [number, number][]): Promise<void> {
  await target.open(data.byteLength);
  const writes: Promise<void>[] = [];
  for (let at = 0; at < data.byteLength;) {
    const hole = holes.find(([from, to]) => at >= from && at < to);
    if (hole) {
      writes.push(target.zero(at, hole[1] - at));
      at = hole[1];
      continue;
    }
    const nextHole = Math.min(...holes.map(([from]) => from).filter((from) => from > at), data.byteLength);
    const end = Math.min(at + RUN, nextHole);
    // A copy that is scribbled over once write() returns: the target must not keep the caller's bytes.
    const run = data.slice(at, end);
    writes.push(target.write(at, run).then(() => void run.fill(0xee)));
    at = end;
  }
  await Promise.all(writes);
  await target.commit();
}

function sha256Base64(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64');
}

function setup(world: FakeEbsWorld, extra: Partial<EbsSnapshotTargetOptions> = {}) {
  const fake = world.api();
  const target = new EbsSnapshotTarget({ api: fake.api, ec2: world.ec2, now: () => world.time, clientToken: 'restore-token-1', ...extra });
  return { target, ...fake };
}

describe('EbsSnapshotTarget', () => {
  it('writes whole 512 KiB blocks with their SHA-256, skips all-zero blocks, and completes the snapshot', async () => {
    const world = new FakeEbsWorld();
    const { data, holes } = volume();
    const { target, stub, limiter } = setup(world, {
      description: 'restore of vol-1',
      tags: { 'snapfleet:source': 'vol-1' },
      encrypted: true,
      kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k1',
      timeoutMinutes: 30,
    });
    await restoreInto(target, data, holes);

    const start = stub.commandCalls(StartSnapshotCommand)[0]!.args[0].input;
    expect(start).toEqual({
      VolumeSize: 1, // GiB, rounded up
      ClientToken: 'restore-token-1',
      Description: 'restore of vol-1',
      Tags: [{ Key: 'snapfleet:source', Value: 'vol-1' }],
      Encrypted: true,
      KmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k1',
      Timeout: 30,
    });
    const { snapshotId, blocksWritten } = target.result;
    const sent = stub
      .commandCalls(PutSnapshotBlockCommand)
      .map((c) => c.args[0].input.BlockIndex)
      .sort((a, b) => a! - b!);
    expect(sent).toEqual([0, 1, 3, 5, 6, 7]); // blocks 2 (a hole) and 4 (zeros) are never sent
    for (const index of sent) {
      const padded = new Uint8Array(BLOCK);
      padded.set(data.subarray(index! * BLOCK, Math.min(data.length, (index! + 1) * BLOCK)));
      expect(world.putHashes.get(`${snapshotId}:${index}`), `block ${index}`).toBe(sha256Base64(padded));
    }
    expect(stub.commandCalls(CompleteSnapshotCommand)[0]!.args[0].input).toEqual({ SnapshotId: snapshotId, ChangedBlocksCount: 6 });
    expect(blocksWritten).toBe(6);
    expect(world.get(snapshotId).state).toBe('completed');
    expect(sha256Hex(world.readVolume(snapshotId, data.length))).toBe(sha256Hex(data));
    expect(new Set(limiter.taken)).toEqual(new Set(['ebs-control:123456789012:eu-west-1', 'ebs-put:123456789012:eu-west-1']));
  });

  it('rides out a new snapshot being unknown to PutSnapshotBlock for a while', async () => {
    const world = new FakeEbsWorld();
    world.invisibleAfterStart = 3;
    const { data, holes } = volume();
    const { target, sleeps } = setup(world, { putsInFlight: 1 });
    await restoreInto(target, data, holes);
    expect(world.callCount('PutSnapshotBlock')).toBe(6 + 3);
    expect(sleeps).toEqual([250, 500, 1000]); // backoff between the "not found" answers
    expect(sha256Hex(world.readVolume(target.result.snapshotId, data.length))).toBe(sha256Hex(data));
  });

  it('gives up when the snapshot stays unknown past the grace period, and never completes it', async () => {
    const world = new FakeEbsWorld();
    world.invisibleAfterStart = 1_000;
    const { data, holes } = volume();
    const { target } = setup(world, { notFoundGraceMs: 2_000, sleep: async (ms) => void (world.time += ms) });
    const err = await restoreInto(target, data, holes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toMatch(/PutSnapshotBlock of block \d+ .* of snap-/);
    await target.abort();
    expect(world.callCount('CompleteSnapshot')).toBe(0);
    expect(world.snapshots.get(target.result.snapshotId)?.deleted).toBe(true);
  });

  it('retries throttled block writes', async () => {
    const world = new FakeEbsWorld();
    world.throttle('PutSnapshotBlock', 4);
    const { data, holes } = volume();
    const { target, sleeps } = setup(world);
    await restoreInto(target, data, holes);
    expect(sleeps.length).toBeGreaterThanOrEqual(4);
    expect(sha256Hex(world.readVolume(target.result.snapshotId, data.length))).toBe(sha256Hex(data));
  });

  it('keeps at most putsInFlight blocks on their way', async () => {
    const world = new FakeEbsWorld();
    let inFlight = 0;
    let most = 0;
    world.beforePut = async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
    };
    const { data, holes } = volume();
    const { target } = setup(world, { putsInFlight: 3 });
    await restoreInto(target, data, holes);
    expect(most).toBe(3);
  });

  it('aborts without completing: deletes the half-written snapshot and refuses further writes', async () => {
    const world = new FakeEbsWorld();
    const { target } = setup(world);
    await target.open(4 * BLOCK);
    await target.write(0, seededBytes(2 * BLOCK, 1));
    await target.abort();
    await target.abort();
    const { snapshotId } = target.result;
    expect(world.callCount('CompleteSnapshot')).toBe(0);
    expect(world.snapshots.get(snapshotId)?.deleted).toBe(true);
    await expect(target.write(2 * BLOCK, seededBytes(BLOCK, 2))).rejects.toThrow(/aborted/);
  });

  it('an abort that comes while StartSnapshot is in flight deletes the snapshot it starts', async () => {
    const world = new FakeEbsWorld();
    const { target } = setup(world);
    const opened = target.open(4 * BLOCK);
    await target.abort();
    await opened;
    const { snapshotId } = target.result;
    expect(world.callCount('CompleteSnapshot')).toBe(0);
    expect(world.snapshots.get(snapshotId)?.deleted).toBe(true);
  });

  it('without EC2 access, leaves the unfinished snapshot pending (never completed) and says so', async () => {
    const world = new FakeEbsWorld();
    const warn = vi.fn();
    const { target } = setup(world, { ec2: undefined, log: { warn } });
    await target.open(BLOCK);
    await target.write(0, seededBytes(BLOCK, 1));
    await target.abort();
    const snapshot = world.get(target.result.snapshotId);
    expect(snapshot.state).toBe('pending');
    expect(warn.mock.calls[0]?.[1]).toContain(`unfinished EBS snapshot ${snapshot.id} could not be deleted`);
  });

  it('creates a volume in the availability zone once the snapshot is completed', async () => {
    const world = new FakeEbsWorld();
    const { data, holes } = volume();
    const { target } = setup(world, { availabilityZone: 'eu-west-1b' });
    await restoreInto(target, data, holes);
    const { snapshotId, volumeId } = target.result;
    expect(world.volumes).toEqual([{ volumeId, snapshotId, zone: 'eu-west-1b', clientToken: 'restore-token-1-volume' }]);
  });

  it('keeps the completed snapshot when creating the volume fails, naming it in the error', async () => {
    const world = new FakeEbsWorld();
    world.ec2.createVolume = async () => {
      throw new Error('InsufficientVolumeCapacity');
    };
    const { data, holes } = volume();
    const { target } = setup(world, { availabilityZone: 'eu-west-1c' });
    const err = await restoreInto(target, data, holes).catch((e: unknown) => e);
    const snapshotId = target.result.snapshotId;
    expect((err as Error).message).toContain(`EBS snapshot ${snapshotId} was restored and completed, but no volume was created in eu-west-1c`);
    await target.abort();
    expect(world.get(snapshotId).state).toBe('completed');
    expect(world.get(snapshotId).deleted).toBeUndefined();
  });

  it('refuses writes outside the volume and volumes larger than EBS allows', async () => {
    const world = new FakeEbsWorld();
    const { target } = setup(world);
    await target.open(BLOCK + 4 * KiB);
    await expect(target.write(BLOCK, new Uint8Array(8 * KiB))).rejects.toThrow(/outside the volume/);
    const big = setup(world).target;
    await expect(big.open(65 * 1024 ** 4)).rejects.toThrow(/larger than EBS allows/);
  });
});
