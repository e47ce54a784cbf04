import { describe, expect, it } from 'vitest';
import { PermanentError } from '@snapfleet/shared';
import { createFakeAws } from './testing/fake-aws.js';

const REGION = 'us-east-1';
const SLOT = '20260301T020000Z';
const tags = ['policy=db', `slot=${SLOT}`];

/** An instance with a root volume, two data volumes tagged for backup and one scratch volume. */
function world(now = new Date('2026-03-01T02:05:00Z')) {
  const aws = createFakeAws([REGION]);
  aws.ec2.pendingPolls = 1;
  const bytes = (n: number) => new Uint8Array(512 * 1024).fill(n);
  const root = aws.ec2.addVolume(REGION, { tags: { backup: 'yes' }, data: bytes(1) });
  const data1 = aws.ec2.addVolume(REGION, { tags: { backup: 'yes' }, data: bytes(2) });
  const data2 = aws.ec2.addVolume(REGION, { tags: { backup: 'yes' }, data: bytes(3) });
  const scratch = aws.ec2.addVolume(REGION, { tags: { backup: 'no' }, data: bytes(4) });
  const instance = aws.ec2.addInstance(REGION, [root, data1, data2, scratch]);
  const provider = aws.provider({ policies: [{ name: 'db', selector: { instances: [instance.id], tags: ['backup=yes'] } }], clock: { now: () => now } });
  return { aws, provider, root, data1, data2, scratch, instance };
}

describe('instance sets', () => {
  it('the leading volume creates one crash-consistent set; every volume job finds its snapshot', async () => {
    const { aws, provider, root, data1, data2, scratch, instance } = world();
    const token = `db/${instance.id}/${SLOT}`;
    // A follower's job runs first: nothing is created, its ref reads as pending.
    const followerRef = await provider.createSnapshot(data2.id, tags, `snapshot-db-${data2.id}-${SLOT}`);
    expect(followerRef).toBe(`aws-set:${REGION}:${data2.id}:${token}`);
    expect(await provider.snapshotState(followerRef)).toBe('pending');
    expect(aws.ec2.callsOf('CreateSnapshots')).toHaveLength(0);

    const leader = [root, data1, data2].map((v) => v.id).sort()[0]!;
    const leaderRef = await provider.createSnapshot(leader, tags, `snapshot-db-${leader}-${SLOT}`);
    const again = await provider.createSnapshot(leader, tags, `snapshot-db-${leader}-${SLOT}`);
    expect(again).toBe(leaderRef);
    const creates = aws.ec2.callsOf('CreateSnapshots');
    expect(creates).toHaveLength(1);
    expect(creates[0]!.input.InstanceSpecification).toEqual({ InstanceId: instance.id, ExcludeBootVolume: false, ExcludeDataVolumeIds: [scratch.id] });

    const made = aws.ec2.liveSnapshots();
    expect(made.map((s) => s.volumeId).sort()).toEqual([root.id, data1.id, data2.id].sort());
    expect(made.every((s) => s.tags['snapfleet:set'] === token && s.tags['snapfleet:policy'] === 'db')).toBe(true);

    for (const ref of [followerRef, await provider.createSnapshot(data1.id, tags, 'job-d1')]) {
      expect(await provider.snapshotState(ref)).toBe('completed');
    }
    const source = await provider.openSource(data2.id, followerRef);
    expect((await source.readBlock(0))[0]).toBe(3);
    await source.close();
    expect(aws.ec2.callsOf('CreateSnapshot')).toHaveLength(0);
  });

  it('excludes an uncovered boot volume with ExcludeBootVolume', async () => {
    const { aws, provider, root, data1, instance } = world();
    root.tags.backup = 'no';
    const leader = [data1.id, instance.volumeIds[2]!].sort()[0]!;
    await provider.createSnapshot(leader, tags, 'job-leader');
    expect(aws.ec2.callsOf('CreateSnapshots')[0]!.input.InstanceSpecification).toMatchObject({ ExcludeBootVolume: true });
    expect(aws.ec2.liveSnapshots().map((s) => s.volumeId)).not.toContain(root.id);
  });

  it('lists and deletes set snapshots like single ones', async () => {
    const { provider, root, data1, data2 } = world();
    const leader = [root, data1, data2].map((v) => v.id).sort()[0]!;
    const ref = await provider.createSnapshot(leader, tags, 'job-leader');
    const listed = await provider.listSnapshots(data2.id, ['policy=db']);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ volumeId: data2.id, tags: ['policy=db', `slot=${SLOT}`] });
    await provider.deleteSnapshot(ref);
    await provider.deleteSnapshot(ref);
    expect(await provider.listSnapshots(leader, ['policy=db'])).toEqual([]);
  });

  it('a set whose leader never ran fails its followers an hour after the slot', async () => {
    const { provider, data2 } = world(new Date('2026-03-01T03:30:00Z'));
    const ref = await provider.createSnapshot(data2.id, tags, 'job-follower');
    const err = await provider.snapshotState(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toContain(`instance set db/`);
  });
});
