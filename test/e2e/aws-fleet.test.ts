/**
 * An AWS fleet end to end, every part its own process: three `snapfleet worker` processes and a
 * `snapfleet backup-now` per tick live in one fake AWS world (test/support/aws-world: EC2 and the
 * EBS direct APIs served from a shared directory through aws-sdk-client-mock) and archive into a
 * repository on the test S3 server. The first tick reads every written block; after the volumes
 * change, the second reads exactly the changed blocks (ListChangedBlocks); a restore into a new
 * EBS snapshot sends exactly the volume's data blocks and no holes.
 */
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli, type CliEnv } from '../support/cli.js';
import { deletePrefix, spawnFleet, stopFleet, uniquePrefix, TEST_PASSWORD, type FleetProcess } from '../support/fleet.js';
import { createTestBucket, type TestBucket } from '../setup/s3.js';
import { AwsWorld, BLOCK_SIZE, dataBlocks, differingBlocks, type CallRecord } from '../support/aws-world/aws-world.js';
import { awsFleetConfig, backupNow, waitForFlows, type ArchiveOutcome } from '../support/aws-world/aws-fleet-run.js';

/**
 * The world lists at most 4 blocks and scans at most 8 indexes per call. A: blocks 0-7 give one
 * page, the holes 8-15 an empty page that still has a NextToken, then 16-20; C: 6 blocks in
 * pages of 4 and 2. A listing that stopped at the empty page would miss A's last blocks.
 */
const VOLUMES = [
  { id: 'vol-0e2e000000000000a', region: 'us-east-1', tags: { backup: 'daily', Name: 'web-a' }, layout: 'DD.D....' + '........' + 'DDD.D' },
  { id: 'vol-0e2e000000000000b', region: 'us-east-1', tags: { backup: 'daily' }, layout: 'D.DD.DDD' },
  { id: 'vol-0e2e000000000000c', region: 'eu-west-1', tags: { backup: 'daily' }, layout: 'DDDDDD' },
] as const;
/** Not backed up: untagged, or in a region the fleet does not cover. */
const OTHERS = [
  { id: 'vol-0e2e000000000000d', region: 'us-east-1', tags: { backup: 'never' }, layout: 'DD' },
  { id: 'vol-0e2e000000000000e', region: 'ap-south-1', tags: { backup: 'daily' }, layout: 'DD' },
];
const [A, B, C] = VOLUMES;

describe('an AWS fleet in separate processes', () => {
  let dir: string;
  let world: AwsWorld;
  let bucket: TestBucket;
  let config: string;
  let env: CliEnv;
  let repoArgs: string[];
  const prefix = uniquePrefix('aws-fleet');
  const workers: FleetProcess[] = [];
  const ticks: ArchiveOutcome[][] = [];

  beforeAll(async () => {
    dir = await makeTempDir('aws-fleet');
    world = AwsWorld.create(join(dir, 'world'));
    for (const v of [...VOLUMES, ...OTHERS]) await world.addVolume(v.id, v.region, v.tags, v.layout);
    bucket = await createTestBucket();
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, TEST_PASSWORD + '\n');
    repoArgs = ['--repo', bucket.repoUrl, '--password-file', passwordFile];
    // The bucket's S3RVER credentials win: s3rver accepts no others, and the fake world needs none.
    env = { ...world.env(bucket.env), REDIS_URL: 'redis://127.0.0.1:6379', SNAPFLEET_LOG_LEVEL: 'warn' };
    const init = await runCli(['init', ...repoArgs], bucket.env);
    if (init.code !== 0) throw new Error(describeRun(init));
    config = join(dir, 'fleet.yaml');
    await writeFile(config, JSON.stringify(awsFleetConfig({ regions: ['us-east-1', 'eu-west-1'], repoUrl: bucket.repoUrl, passwordFile })));
    for (let i = 0; i < 3; i++) workers.push(spawnFleet(['worker', '--config', config, '--prefix', prefix], env));
  });
  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => stopFleet(w, 5_000)));
    await deletePrefix(prefix);
    await removeDir(dir);
  });

  const snapshotsOf = (volumeId: string) => world.snapshotsOf(volumeId);
  const reads = (snapshotId: string) => blockIndexes(world.calls('GetSnapshotBlock').filter((c) => c.snapshotId === snapshotId));

  it('tick 1: one EBS snapshot per covered volume, every written block read once', async () => {
    const flows = await backupNow(config, 'daily', prefix, env);
    expect(flows.map((f) => f.volumeId)).toEqual(VOLUMES.map((v) => v.id));
    ticks.push(await waitForFlows(prefix, flows, 40_000));

    for (const v of VOLUMES) {
      const [snap, ...more] = snapshotsOf(v.id);
      expect(more, v.id).toEqual([]);
      expect(snap!.tags).toEqual(expect.arrayContaining([{ Key: 'snapfleet:policy', Value: 'daily' }]));
      const written = dataBlocks(world.volumeImage(v.id)).map((b) => b.index);
      expect(reads(snap!.id), v.id).toEqual(written);
      expect(ticks[0]!.find((o) => o.volumeId === v.id)!.readBytes).toBe(written.length * BLOCK_SIZE);
    }
    for (const v of OTHERS) expect(snapshotsOf(v.id), v.id).toEqual([]);
  });

  it('tick 2: after the volumes change, reads exactly the changed blocks that hold data', async () => {
    // A: a block rewritten in part, a hole filled, a data block zeroed, a block of the hole run
    // filled; B: one block rewritten in part; C: unchanged.
    await world.changeBlocks(A.id, [
      { index: 0, to: 'patch' },
      { index: 2, to: 'data' },
      { index: 3, to: 'hole' },
      { index: 9, to: 'data' },
    ]);
    await world.changeBlocks(B.id, [{ index: 6, to: 'patch' }]);
    const expected: Record<string, { changed: number[]; read: number[] }> = {
      [A.id]: { changed: [0, 2, 3, 9], read: [0, 2, 9] },
      [B.id]: { changed: [6], read: [6] },
      [C.id]: { changed: [], read: [] },
    };

    const flows = await backupNow(config, 'daily', prefix, env);
    ticks.push(await waitForFlows(prefix, flows, 40_000));

    for (const v of VOLUMES) {
      const snaps = snapshotsOf(v.id);
      expect(snaps, v.id).toHaveLength(2);
      const [first, second] = snaps as [(typeof snaps)[0], (typeof snaps)[0]];
      // The world froze each snapshot when it was taken: the second differs from the first exactly where the test wrote.
      expect(differingBlocks(world.snapshotImage(first.id), world.snapshotImage(second.id)), v.id).toEqual(expected[v.id]!.changed);
      const listings = world.calls('ListChangedBlocks').filter((c) => c.secondSnapshotId === second.id);
      expect(listings.length, v.id).toBeGreaterThanOrEqual(1);
      expect(listings.every((c) => c.firstSnapshotId === first.id)).toBe(true);
      expect(
        world.calls('ListSnapshotBlocks').filter((c) => c.snapshotId === second.id),
        v.id,
      ).toEqual([]);
      expect(reads(second.id), v.id).toEqual(expected[v.id]!.read);
      const outcome = ticks[1]!.find((o) => o.volumeId === v.id)!;
      // The archive asked the source for the changed blocks only; a zeroed one costs no request.
      expect(outcome.readBytes, v.id).toBe(expected[v.id]!.changed.length * BLOCK_SIZE);
      expect(outcome.parent, v.id).toBe(ticks[0]!.find((o) => o.volumeId === v.id)!.snapshotId);
    }

    const list = await runCli(['snapshots', ...repoArgs, '--json'], bucket.env);
    expect(list.code, describeRun(list)).toBe(0);
    const archived = parseJson<{ volumeId: string }[]>(list);
    for (const v of VOLUMES)
      expect(
        archived.filter((s) => s.volumeId === v.id),
        v.id,
      ).toHaveLength(2);
  });

  it('restores the second snapshot into a new EBS snapshot: data blocks sent once each, holes never', async () => {
    const snapshot = ticks[1]!.find((o) => o.volumeId === A.id)!.snapshotId!;
    const before = new Set(world.snapshots().map((s) => s.id));
    // In the test's directory: a CLI that took the target for a file name must not litter the repository.
    // --prefix: the restore takes its AWS budgets from the fleet's limiters in Redis.
    const r = await runCli(['restore', ...repoArgs, '--snapshot', snapshot, '--to', 'ebs:us-east-1', '--prefix', prefix, '--json'], env, { cwd: dir });
    expect(r.code, describeRun(r)).toBe(0);

    const made = world.snapshots().filter((s) => !before.has(s.id));
    expect(made.map((s) => [s.region, s.origin, s.state])).toEqual([['us-east-1', 'start', 'completed']]);
    const restored = made[0]!;
    expect(parseJson<{ ebsSnapshotId: string }>(r).ebsSnapshotId).toBe(restored.id);
    expect(restored.tags).toContainEqual({ Key: 'snapfleet:restored-from', Value: snapshot });
    const sent = world.puts(restored.id).sort((x, y) => x.index - y.index);
    expect(sent).toEqual(dataBlocks(world.volumeImage(A.id)));
    expect(differingBlocks(world.snapshotImage(restored.id), world.volumeImage(A.id))).toEqual([]);

    for (const w of workers) expect(w.child.exitCode, 'a worker exited early').toBeNull();
  });

  it("encrypts a restore's snapshot with the KMS key the flags or the config name; a bad key writes nothing", async () => {
    const snapshot = ticks[1]!.find((o) => o.volumeId === B.id)!.snapshotId!;
    const key = (region: string) => `arn:aws:kms:${region}:111122223333:key/0e2e0000-1111-2222-3333-444455556666`;
    const restored = async (args: string[]) => {
      const before = new Set(world.snapshots().map((s) => s.id));
      const r = await runCli(['restore', ...repoArgs, '--snapshot', snapshot, '--to', 'ebs:us-east-1', '--prefix', prefix, '--json', ...args], env, {
        cwd: dir,
      });
      expect(r.code, describeRun(r)).toBe(0);
      const made = world.snapshots().filter((s) => !before.has(s.id));
      expect(made).toHaveLength(1);
      expect(differingBlocks(world.snapshotImage(made[0]!.id), world.volumeImage(B.id))).toEqual([]);
      expect(parseJson<{ ebsEncrypted: boolean }>(r).ebsEncrypted).toBe(made[0]!.encrypted);
      return made[0]!;
    };
    expect(await restored([])).toMatchObject({ encrypted: false });
    expect((await restored(['--ebs-encrypted'])).encrypted).toBe(true);
    const flagged = await restored(['--ebs-kms-key', key('us-east-1')]);
    expect(flagged).toMatchObject({ encrypted: true, kmsKeyArn: key('us-east-1') });

    // From the fleet config: provider.restore gives the key of the destination region.
    const withRestore = join(dir, 'fleet-restore.yaml');
    const base = awsFleetConfig({ regions: ['us-east-1', 'eu-west-1'], repoUrl: bucket.repoUrl, passwordFile: join(dir, 'password') }) as { provider: object };
    const provider = { ...base.provider, restore: { encrypted: true, kmsKeyArns: { 'us-east-1': key('us-east-1'), 'eu-west-1': key('eu-west-1') } } };
    await writeFile(withRestore, JSON.stringify({ ...base, provider }));
    expect(await restored(['--config', withRestore])).toMatchObject({ encrypted: true, kmsKeyArn: key('us-east-1') });

    // Bad input names the flag or field and creates no snapshot.
    const before = world.snapshots().length;
    const refuse = async (args: string[], to: string, pattern: RegExp) => {
      const r = await runCli(['restore', ...repoArgs, '--snapshot', snapshot, '--to', to, ...args], env, { cwd: dir });
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toMatch(pattern);
    };
    await refuse(['--ebs-kms-key', 'alias/backups'], 'ebs:us-east-1', /not a KMS key ARN.*\[ebs-kms-key\]/);
    await refuse(['--ebs-kms-key', key('eu-west-1')], 'ebs:us-east-1', /the key is in eu-west-1, the restore goes to us-east-1.*\[ebs-kms-key\]/);
    await refuse(['--ebs-encrypted'], join(dir, 'restored.img'), /--ebs-encrypted applies to --to ebs:.*\[ebs-encrypted\]/);
    const mismatched = join(dir, 'fleet-mismatch.yaml');
    await writeFile(mismatched, JSON.stringify({ ...base, provider: { ...provider, restore: { kmsKeyArns: { 'us-east-1': key('eu-west-1') } } } }));
    await refuse(['--config', mismatched], 'ebs:us-east-1', /provider\.restore\.kmsKeyArns\.us-east-1: the key is in eu-west-1, not us-east-1/);
    expect(world.snapshots()).toHaveLength(before);

    const results = await Promise.all(workers.map((w) => stopFleet(w)));
    for (const res of results) expect(res.stderr, 'no job failed').not.toMatch(/"level":50/);
  });
});

/** The block indexes of calls, ascending; a block read twice shows up twice. */
function blockIndexes(calls: CallRecord[]): number[] {
  return calls.map((c) => c.blockIndex!).sort((a, b) => a - b);
}
