import { describe, expect, it } from 'vitest';
import { TransientError } from '@snapfleet/shared';
import { createFakeAws } from './testing/fake-aws.js';

const SOURCE = 'us-east-1';
const DR = 'us-west-2';
const tags = ['policy=daily', 'slot=20260301T020000Z'];

function world() {
  const aws = createFakeAws([SOURCE]);
  aws.ec2.pendingPolls = 0;
  const volume = aws.ec2.addVolume(SOURCE, { data: new Uint8Array(512 * 1024).fill(7) });
  const provider = aws.provider({ copies: [{ region: DR, kmsKeyId: 'alias/snapfleet-dr' }] });
  return { aws, volume, provider };
}

describe('disaster-recovery copies', () => {
  it('exposes the targets by name', () => {
    const { provider } = world();
    expect(provider.copies?.targets).toEqual([{ name: DR }]);
    expect(createFakeAws().provider().copies).toBeUndefined();
  });

  it('copies a completed snapshot encrypted with the configured key, tagged, once', async () => {
    const { aws, volume, provider } = world();
    const ref = await provider.createSnapshot(volume.id, tags, 'job-1');
    expect(await provider.snapshotState(ref)).toBe('completed');
    const copy = await provider.copies!.copy(volume.id, ref, DR);
    expect(copy).toMatch(/^aws:us-west-2:snap-/);
    expect(await provider.copies!.copy(volume.id, ref, DR)).toBe(copy);
    const calls = aws.ec2.callsOf('CopySnapshot');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.region).toBe(DR);
    expect(calls[0]!.input).toMatchObject({ SourceRegion: SOURCE, SourceSnapshotId: ref.split(':')[2], Encrypted: true, KmsKeyId: 'alias/snapfleet-dr' });
    const stored = aws.ec2.snapshots.get(copy.split(':')[2]!)!;
    expect(stored).toMatchObject({ region: DR, encrypted: true, kmsKeyId: 'alias/snapfleet-dr' });
    expect(stored.tags).toMatchObject({ 'snapfleet:policy': 'daily', 'snapfleet:volume': volume.id, 'snapfleet:copy-of': ref.split(':')[2] });
    // The copy is read, polled and deleted like any snapshot, in its own region.
    expect(await provider.snapshotState(copy)).toBe('completed');
    const source = await provider.openSource(volume.id, copy);
    expect((await source.readBlock(0))[0]).toBe(7);
    await source.close();
  });

  it('lists the copies of a volume in the target, and deletes them there', async () => {
    const { aws, volume, provider } = world();
    const first = await provider.createSnapshot(volume.id, tags, 'job-1');
    const second = await provider.createSnapshot(volume.id, ['policy=daily', 'slot=20260302T020000Z'], 'job-2');
    await provider.snapshotState(first);
    await provider.snapshotState(second);
    const copies = [await provider.copies!.copy(volume.id, first, DR), await provider.copies!.copy(volume.id, second, DR)];
    const listed = await provider.copies!.listCopies(volume.id, DR, ['policy=daily']);
    expect(listed.map((c) => c.ref)).toEqual(copies);
    expect(listed[0]).toMatchObject({ volumeId: volume.id, tags });
    await provider.deleteSnapshot(copies[0]!);
    expect((await provider.copies!.listCopies(volume.id, DR, [])).map((c) => c.ref)).toEqual([copies[1]]);
    expect(aws.ec2.callsOf('DeleteSnapshot')[0]!.region).toBe(DR);
    // The source region's listing never shows copies.
    expect((await provider.listSnapshots(volume.id, [])).map((s) => s.ref)).toEqual([first, second]);
  });

  it('a pending source is a delay, not a failure', async () => {
    const { aws, volume, provider } = world();
    aws.ec2.pendingPolls = 10;
    const ref = await provider.createSnapshot(volume.id, tags, 'job-1');
    await expect(provider.copies!.copy(volume.id, ref, DR)).rejects.toBeInstanceOf(TransientError);
    expect(aws.ec2.callsOf('CopySnapshot')).toHaveLength(0);
  });
});
