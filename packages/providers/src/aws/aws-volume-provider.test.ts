import { describe, expect, it } from 'vitest';
import { NotFoundError, PermanentError, ThrottledError, TransientError } from '@snapfleet/shared';
import { createFakeAws } from './testing/fake-aws.js';

const EAST = 'us-east-1';
const WEST = 'eu-west-1';
const KEY = 'ec2:123456789012:us-east-1';
const tags = (slot = '20260301T020000Z') => ['policy=daily', `slot=${slot}`, 'env=prod'];

describe('AwsVolumeProvider discovery', () => {
  it('follows every NextToken, through empty pages, in every region', async () => {
    const aws = createFakeAws([EAST, WEST]);
    aws.ec2.pageSize = 2;
    aws.ec2.emptyPages = 2;
    const made = [
      ...Array.from({ length: 5 }, () => aws.ec2.addVolume(EAST, { tags: { backup: 'yes' } })),
      ...Array.from({ length: 3 }, () => aws.ec2.addVolume(WEST, { tags: { backup: 'yes' } })),
      aws.ec2.addVolume(EAST, { tags: { backup: 'no' } }),
    ];
    const found = await aws.provider().discover({ tags: ['backup=yes'] });
    expect(found.map((v) => v.id)).toEqual(
      made
        .slice(0, 8)
        .map((v) => v.id)
        .sort(),
    );
    const calls = aws.ec2.callsOf('DescribeVolumes');
    // us-east-1: 3 pages of volumes, each after 2 empty pages = 9 calls; eu-west-1: 2 pages -> 6.
    expect(calls.filter((c) => c.region === EAST)).toHaveLength(9);
    expect(calls.filter((c) => c.region === WEST)).toHaveLength(6);
    expect(calls[0]!.input.Filters).toEqual([{ Name: 'tag:backup', Values: ['yes'] }]);
  });

  it('reports names, key=value tags, sizes, attachments and regions', async () => {
    const aws = createFakeAws([EAST]);
    const v = aws.ec2.addVolume(EAST, { tags: { Name: 'db-data', backup: '' }, sizeGiB: 100 });
    const instance = aws.ec2.addInstance(EAST, [v]);
    const [found] = await aws.provider().discover({ tags: ['backup'] });
    expect(found).toEqual({
      id: v.id,
      name: 'db-data',
      tags: ['Name=db-data', 'backup'],
      sizeBytes: 100 * 1024 ** 3,
      instanceIds: [instance.id],
      region: EAST,
    });
  });

  it('finds instance sets through DescribeInstances', async () => {
    const aws = createFakeAws([EAST, WEST]);
    const root = aws.ec2.addVolume(WEST);
    const data = aws.ec2.addVolume(WEST);
    const instance = aws.ec2.addInstance(WEST, [root, data]);
    aws.ec2.addVolume(WEST); // not attached
    const found = await aws.provider().discover({ instances: [instance.id] });
    expect(found.map((v) => v.id)).toEqual([root.id, data.id].sort());
    expect(aws.ec2.callsOf('DescribeInstances').map((c) => c.input.Filters)).toEqual([
      [{ Name: 'instance-id', Values: [instance.id] }],
      [{ Name: 'instance-id', Values: [instance.id] }],
    ]);
  });

  it('remembers the region discover found a volume in', async () => {
    const aws = createFakeAws([EAST, WEST]);
    const v = aws.ec2.addVolume(WEST);
    const provider = aws.provider();
    await provider.discover({});
    const before = aws.ec2.callsOf('DescribeVolumes').length;
    const ref = await provider.createSnapshot(v.id, tags(), 'job-1');
    expect(ref).toMatch(/^aws:eu-west-1:snap-/);
    expect(
      aws.ec2
        .callsOf('DescribeVolumes')
        .slice(before)
        .map((c) => c.region),
    ).toEqual([WEST]);
  });

  it('looks a volume up by id in one call per region, however many volumes the region holds', async () => {
    const aws = createFakeAws([EAST, WEST]);
    aws.ec2.pageSize = 2; // a filter would page through all 40 volumes of the region
    for (let i = 0; i < 40; i++) aws.ec2.addVolume(WEST);
    const v = aws.ec2.addVolume(WEST);
    const ref = await aws.provider().createSnapshot(v.id, tags(), 'job-1');
    expect(ref).toMatch(/^aws:eu-west-1:snap-/);
    // Not in us-east-1 (InvalidVolume.NotFound), then found in eu-west-1: one call each.
    expect(aws.ec2.callsOf('DescribeVolumes').map((c) => [c.region, c.input.VolumeIds])).toEqual([
      [EAST, [v.id]],
      [WEST, [v.id]],
    ]);
  });

  it('asks a chunk of ids holding one unknown by filter, and finds the rest', async () => {
    const aws = createFakeAws([EAST]);
    const root = aws.ec2.addVolume(EAST);
    const data = aws.ec2.addVolume(EAST);
    const found = await aws.provider().discover({ ids: [root.id, 'vol-0000000000000dead', data.id] });
    expect(found.map((x) => x.id)).toEqual([root.id, data.id].sort());
    expect(aws.ec2.callsOf('DescribeVolumes').map((c) => (c.input.VolumeIds ? 'by id' : 'by filter'))).toEqual(['by id', 'by filter']);
  });
});

describe('AwsVolumeProvider snapshots', () => {
  it('tags a snapshot with policy, slot, volume, token and the policy tags', async () => {
    const aws = createFakeAws([EAST]);
    const v = aws.ec2.addVolume(EAST);
    const ref = await aws.provider().createSnapshot(v.id, tags(), 'snapshot-daily-vol-20260301T020000Z');
    const snap = aws.ec2.snapshots.get(ref.split(':')[2]!)!;
    expect(snap.tags).toEqual({
      'snapfleet:policy': 'daily',
      'snapfleet:slot': '20260301T020000Z',
      env: 'prod',
      'snapfleet:volume': v.id,
      'snapfleet:token': 'snapshot-daily-vol-20260301T020000Z',
    });
    expect(aws.ec2.callsOf('DescribeSnapshots')[0]!.input).toMatchObject({
      OwnerIds: ['self'],
      Filters: [{ Name: 'tag:snapfleet:token', Values: ['snapshot-daily-vol-20260301T020000Z'] }],
    });
  });

  it('a retried job (another worker) finds the first snapshot by its token tag', async () => {
    const aws = createFakeAws([EAST]);
    const v = aws.ec2.addVolume(EAST);
    const first = await aws.provider().createSnapshot(v.id, tags(), 'job-1');
    const retried = await aws.provider().createSnapshot(v.id, tags(), 'job-1');
    expect(retried).toBe(first);
    expect(aws.ec2.callsOf('CreateSnapshot')).toHaveLength(1);
  });

  it('a create whose answer was lost is found again, not made twice', async () => {
    const aws = createFakeAws([EAST]);
    const v = aws.ec2.addVolume(EAST);
    aws.ec2.fail('CreateSnapshot', 'InternalError', 1, 500, 'lose');
    const ref = await aws.provider().createSnapshot(v.id, tags(), 'job-1');
    expect(aws.ec2.callsOf('CreateSnapshot')).toHaveLength(1);
    expect(aws.ec2.liveSnapshots().map((s) => `aws:${EAST}:${s.id}`)).toEqual([ref]);
  });

  it('retries a RequestLimitExceeded burst with jitter, one limiter point per attempt', async () => {
    const aws = createFakeAws([EAST]);
    const v = aws.ec2.addVolume(EAST);
    aws.ec2.fail('CreateSnapshot', 'RequestLimitExceeded', 3, 503);
    const ref = await aws.provider().createSnapshot(v.id, tags(), 'job-1');
    expect(ref).toMatch(/^aws:us-east-1:snap-/);
    expect(aws.ec2.callsOf('CreateSnapshot')).toHaveLength(4);
    expect(aws.mutateLimiter.taken).toEqual(Array(4).fill(KEY));
    expect(aws.sleeps).toHaveLength(3);
    expect(aws.sleeps.every((ms, i) => ms >= 0 && ms <= 10 * 2 ** i)).toBe(true);
    expect(aws.ec2.liveSnapshots()).toHaveLength(1);
  });

  it('a snapshot stays pending for several polls, then completes', async () => {
    const aws = createFakeAws([EAST]);
    aws.ec2.pendingPolls = 3;
    const v = aws.ec2.addVolume(EAST);
    const provider = aws.provider();
    const ref = await provider.createSnapshot(v.id, tags(), 'job-1');
    const states = [];
    for (let i = 0; i < 5; i++) states.push(await provider.snapshotState(ref));
    expect(states).toEqual(['pending', 'pending', 'pending', 'completed', 'completed']);
  });

  it('lists the volume snapshots by tags, every page, oldest first', async () => {
    const aws = createFakeAws([EAST]);
    aws.ec2.pageSize = 2;
    aws.ec2.emptyPages = 1;
    const v = aws.ec2.addVolume(EAST);
    const other = aws.ec2.addVolume(EAST);
    const provider = aws.provider();
    const refs = [];
    for (let h = 0; h < 5; h++) refs.push(await provider.createSnapshot(v.id, tags(`20260301T0${h}0000Z`), `job-${h}`));
    await provider.createSnapshot(other.id, tags(), 'job-other');
    aws.ec2.addSnapshot(v, { 'snapfleet:policy': 'weekly' });
    const listed = await provider.listSnapshots(v.id, ['policy=daily']);
    expect(listed.map((s) => s.ref)).toEqual(refs);
    expect(listed[0]).toMatchObject({ volumeId: v.id, state: 'pending', tags: ['policy=daily', 'slot=20260301T000000Z', 'env=prod'] });
  });

  it('deleting a missing snapshot is success; other delete errors are not', async () => {
    const aws = createFakeAws([EAST]);
    const v = aws.ec2.addVolume(EAST);
    const provider = aws.provider();
    const ref = await provider.createSnapshot(v.id, tags(), 'job-1');
    await provider.deleteSnapshot(ref);
    await provider.deleteSnapshot(ref);
    await expect(provider.snapshotState(ref)).rejects.toBeInstanceOf(NotFoundError);
    aws.ec2.fail('DeleteSnapshot', 'InvalidSnapshot.InUse', 1, 400);
    const kept = await provider.createSnapshot(v.id, tags(), 'job-2');
    await expect(provider.deleteSnapshot(kept)).rejects.toBeInstanceOf(PermanentError);
  });

  it('classifies errors: permanent fails at once, snapshot quotas are a delay', async () => {
    const aws = createFakeAws([EAST]);
    const v = aws.ec2.addVolume(EAST);
    const provider = aws.provider();
    aws.ec2.fail('CreateSnapshot', 'UnauthorizedOperation', 1, 403);
    const denied = await provider.createSnapshot(v.id, tags(), 'job-1').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(PermanentError);
    expect((denied as Error).message).toContain(`EC2 CreateSnapshot of ${v.id} in us-east-1`);
    aws.ec2.fail('CreateSnapshot', 'ConcurrentSnapshotLimitExceeded', 1, 400);
    await expect(provider.createSnapshot(v.id, tags(), 'job-1')).rejects.toBeInstanceOf(ThrottledError);
    expect(aws.ec2.callsOf('CreateSnapshot')).toHaveLength(2);
    await expect(provider.createSnapshot('vol-0000000000000dead', tags(), 'job-2')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('passes an abort signal on every call, and a hung call times out', async () => {
    const aws = createFakeAws([EAST]);
    const v = aws.ec2.addVolume(EAST);
    const provider = aws.provider({ ec2: { ...aws.ec2Api, timeoutMs: 30, retry: { attempts: 2, throttledRetries: 0, baseMs: 1, maxMs: 1 } } });
    await provider.discover({});
    const ref = await provider.createSnapshot(v.id, tags(), 'job-1');
    await provider.snapshotState(ref);
    await provider.listSnapshots(v.id, []);
    await provider.deleteSnapshot(ref);
    expect(aws.ec2.calls.length).toBeGreaterThan(4);
    expect(aws.ec2.calls.every((c) => c.abortSignal instanceof AbortSignal)).toBe(true);
    aws.ec2.fail('DescribeVolumes', 'hang', 2, 0, 'hang');
    const err = await provider.discover({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('EC2 DescribeVolumes in us-east-1 timed out after 30 ms');
  });
});
