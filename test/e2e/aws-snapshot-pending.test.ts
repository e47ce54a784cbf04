/**
 * A pending EBS snapshot does not hold a worker slot, and the job that waits for it does not take
 * a second one: the fake AWS world reports each new snapshot as pending in its first two
 * DescribeSnapshots answers, so the snapshot job re-delays itself once (by the configured
 * fleet.worker.snapshotPollInterval), and when it runs again it finds the snapshot its first run started by its token tag.
 * Only then are the snapshot's blocks read.
 */
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import { deletePrefix, uniquePrefix, TEST_PASSWORD } from '../support/fleet.js';
import { AwsWorld } from '../support/aws-world/aws-world.js';
import { awsFleetConfig } from '../support/aws-world/aws-fleet-run.js';

const VOLUME = 'vol-0e2e00000000000f1';
/** Short, so the test is quick; still far longer than a job spinning in its slot would take. */
const SNAPSHOT_POLL_MS = 3_000;
/** Timers and clocks of two processes: the re-delay is measured from the world's call log. */
const TIMER_SLACK_MS = 1_000;

describe('a snapshot that is pending at first', () => {
  let dir: string;
  const prefix = uniquePrefix('aws-pending');

  beforeAll(async () => {
    dir = await makeTempDir('aws-pending');
  });
  afterAll(async () => {
    await deletePrefix(prefix);
    await removeDir(dir);
  });

  it('re-delays the snapshot job, then archives the one snapshot it started', async () => {
    const world = AwsWorld.create(join(dir, 'world'), { pendingPolls: 2 });
    await world.addVolume(VOLUME, 'us-east-1', { backup: 'daily' }, 'DD.D');
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, TEST_PASSWORD + '\n');
    const repo = join(dir, 'repo');
    const init = await runCli(['init', '--repo', repo, '--password-file', passwordFile]);
    expect(init.code, describeRun(init)).toBe(0);
    const config = join(dir, 'fleet.yaml');
    await writeFile(
      config,
      JSON.stringify(
        awsFleetConfig({
          regions: ['us-east-1'],
          repoUrl: repo,
          passwordFile,
          fleet: { worker: { codecThreads: 1, shutdownTimeout: '10s', snapshotPollInterval: `${SNAPSHOT_POLL_MS / 1000}s` } },
        }),
      ),
    );

    const env = { ...world.env(), REDIS_URL: 'redis://127.0.0.1:6379', SNAPFLEET_LOG_LEVEL: 'info' };
    const run = await runCli(['run', '--config', config, '--once', '--prefix', prefix, '--json'], env, { timeoutMs: 55_000 });
    expect(run.code, describeRun(run)).toBe(0);
    expect(parseJson<{ volumes: { volumeId: string; state: string }[] }>(run).volumes).toMatchObject([{ volumeId: VOLUME, state: 'completed' }]);
    expect(run.stderr).toContain('"msg":"snapshot pending; re-delaying"');

    const [snapshot, ...more] = world.snapshotsOf(VOLUME);
    expect(more).toEqual([]);
    expect(world.calls('CreateSnapshot')).toHaveLength(1);
    expect(snapshot!.tags.map((t) => t.Key)).toContain('snapfleet:token');
    // The two answers that said pending came a poll interval apart (the job was delayed, not
    // spinning in its slot), and the snapshot's blocks were read only after both.
    const created = world.calls('CreateSnapshot')[0]!.t;
    const [first, second] = world.calls('DescribeSnapshots').filter((c) => c.t > created);
    expect(second!.t - first!.t).toBeGreaterThanOrEqual(SNAPSHOT_POLL_MS - TIMER_SLACK_MS);
    const reads = world.calls().filter((c) => c.snapshotId === snapshot!.id);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads[0]!.t).toBeGreaterThan(second!.t);
    expect(
      world
        .calls('GetSnapshotBlock')
        .map((c) => c.blockIndex)
        .sort(),
    ).toEqual([0, 1, 3]);
  });
});
