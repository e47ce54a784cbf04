/**
 * Jobs routed by region (`fleet.routing.byRegion`), in separate processes in the fake AWS world:
 * volumes in two regions, one `snapfleet worker --region` per region. Each volume's snapshot,
 * archive and retention jobs run in its region's queues, so every call a pinned worker makes (the
 * block reads above all) goes to its own region, and every volume is archived once.
 */
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, removeDir, runCli, type CliEnv } from '../support/cli.js';
import { deletePrefix, openQueue, spawnFleet, stopFleet, uniquePrefix, TEST_PASSWORD, type FleetProcess } from '../support/fleet.js';
import { AwsWorld, dataBlocks } from '../support/aws-world/aws-world.js';
import { awsFleetConfig, backupNow, waitForFlows } from '../support/aws-world/aws-fleet-run.js';

const EAST = 'us-east-1';
const WEST = 'eu-west-1';
const VOLUMES = [
  { id: 'vol-0a11000000000000a', region: EAST, layout: 'DD.D' },
  { id: 'vol-0a11000000000000b', region: EAST, layout: 'D.DD' },
  { id: 'vol-0a11000000000000c', region: WEST, layout: 'DDD' },
  { id: 'vol-0a11000000000000d', region: WEST, layout: '.D.D' },
] as const;
/** The calls that read blocks: the EBS direct APIs' listings and reads. */
const BLOCK_READS = ['ListSnapshotBlocks', 'ListChangedBlocks', 'GetSnapshotBlock'];

describe('workers pinned to regions', () => {
  let dir: string;
  let world: AwsWorld;
  let config: string;
  let env: CliEnv;
  let repoArgs: string[];
  const prefix = uniquePrefix('aws-regions');
  const workers = new Map<string, FleetProcess>();

  beforeAll(async () => {
    dir = await makeTempDir('aws-regions');
    world = AwsWorld.create(join(dir, 'world'));
    for (const v of VOLUMES) await world.addVolume(v.id, v.region, { backup: 'daily' }, v.layout);
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, TEST_PASSWORD + '\n');
    const repo = join(dir, 'repo');
    repoArgs = ['--repo', repo, '--password-file', passwordFile];
    env = { ...world.env(), REDIS_URL: 'redis://127.0.0.1:6379', SNAPFLEET_LOG_LEVEL: 'warn' };
    const init = await runCli(['init', ...repoArgs], {});
    if (init.code !== 0) throw new Error(describeRun(init));
    config = join(dir, 'fleet.yaml');
    await writeFile(
      config,
      JSON.stringify(
        awsFleetConfig({
          regions: [EAST, WEST],
          repoUrl: repo,
          passwordFile,
          fleet: { worker: { codecThreads: 1, shutdownTimeout: '10s' }, routing: { byRegion: true } },
        }),
      ),
    );
    for (const region of [EAST, WEST]) workers.set(region, spawnFleet(['worker', '--config', config, '--prefix', prefix, '--region', region], env));
  });
  afterAll(async () => {
    await Promise.allSettled([...workers.values()].map((w) => stopFleet(w, 5_000)));
    await deletePrefix(prefix);
    await removeDir(dir);
  });

  it("runs each volume's jobs in its region's queues, and each worker calls only its own region", async () => {
    const flows = await backupNow(config, 'daily', prefix, env);
    expect(flows.map((f) => [f.volumeId, f.region])).toEqual(VOLUMES.map((v) => [v.id, v.region]));
    const outcomes = await waitForFlows(prefix, flows, 60_000);
    for (const o of outcomes) expect(o.snapshotId, o.volumeId).toBeTruthy();

    // The jobs ran in the regions' queues; the stages' own queues stayed empty.
    for (const [name, expected] of [
      ['archive-us-east-1', 2],
      ['archive-eu-west-1', 2],
      ['retention-eu-west-1', 2],
      ['archive', 0],
      ['snapshot', 0],
    ] as const) {
      const q = openQueue(name, prefix);
      try {
        const c = await q.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
        expect(c, name).toEqual({ completed: expected, failed: 0, waiting: 0, active: 0, delayed: 0 });
      } finally {
        await q.close();
      }
    }

    const calls = world.calls();
    for (const [region, worker] of workers) {
      const mine = calls.filter((c) => c.pid === worker.child.pid);
      const blockReads = mine.filter((c) => BLOCK_READS.includes(c.api));
      const own = VOLUMES.filter((v) => v.region === region);
      // Every written block of the region's volumes, read by its own worker.
      expect(blockReads.filter((c) => c.api === 'GetSnapshotBlock').length, region).toBe(
        own.reduce((n, v) => n + dataBlocks(world.volumeImage(v.id)).length, 0),
      );
      const elsewhere = mine.filter((c) => c.region !== region).map((c) => `${c.api} in ${c.region}`);
      expect(elsewhere, `calls of the ${region} worker outside its region`).toEqual([]);
    }
  });

  it('refuses --region when the config does not route by region, or names a region it does not cover', async () => {
    const other = join(dir, 'unrouted.yaml');
    await writeFile(other, JSON.stringify(awsFleetConfig({ regions: [EAST], repoUrl: repoArgs[1]!, passwordFile: repoArgs[3]! })));
    const unrouted = await runCli(['worker', '--config', other, '--prefix', prefix, '--region', EAST], env);
    expect(unrouted.code, describeRun(unrouted)).toBe(2);
    expect(unrouted.stderr).toMatch(/--region: the config does not route jobs by region/);
    const unknown = await runCli(['worker', '--config', config, '--prefix', prefix, '--region', 'ap-south-1'], env);
    expect(unknown.code, describeRun(unknown)).toBe(2);
    expect(unknown.stderr).toMatch(/--region: ap-south-1 not in provider\.regions \(us-east-1, eu-west-1\)/);
  });
});
