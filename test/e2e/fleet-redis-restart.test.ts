/**
 * Redis stopped and restarted in the middle of a run (a private redis-server with an
 * append-only file, never the shared one): the worker reconnects and every flow finishes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, removeDir, runCli } from '../support/cli.js';
import {
  fleetConfig,
  listSnapshots,
  makeFleet,
  openQueue,
  restoresIdentical,
  spawnFleet,
  stopFleet,
  uniquePrefix,
  waitFor,
  type FleetFixture,
  type FleetProcess,
} from '../support/fleet.js';
import { PrivateRedis, freePort } from '../support/fleet-redis.js';

describe('Redis restarted mid-run', () => {
  let dir: string;
  let fleet: FleetFixture;
  let redis: PrivateRedis;
  const prefix = uniquePrefix('redis');
  const procs: FleetProcess[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('fleet-redis');
    redis = new PrivateRedis(await freePort(), dir);
    await redis.start();
    fleet = await makeFleet(dir, {
      volumes: 4,
      sizeMiB: 24,
      config: (f) => ({
        ...fleetConfig(f, { fleet: { worker: { codecThreads: 1, shutdownTimeout: '5s' } } }),
        repositories: { main: { url: f.repo, passwordFile: f.passwordFile, compressionLevel: 12 } },
      }),
    });
  });
  afterAll(async () => {
    await Promise.allSettled(procs.map((p) => stopFleet(p, 2_000)));
    await redis.stop();
    await removeDir(dir);
  });

  it('reconnects and finishes every flow', async () => {
    const env = { REDIS_URL: redis.url, SNAPFLEET_LOG_LEVEL: 'warn' };
    const w = spawnFleet(['worker', '--config', fleet.config, '--prefix', prefix], env);
    procs.push(w);
    const enqueue = await runCli(['backup-now', '--config', fleet.config, '--prefix', prefix, '--policy', 'every'], env);
    expect(enqueue.code, describeRun(enqueue)).toBe(0);

    const completed = async () => {
      const q = openQueue('retention', prefix, redis.url);
      try {
        return (await q.getJobCounts('completed')).completed ?? 0;
      } finally {
        await q.close();
      }
    };
    await waitFor('the first flow', async () => (await completed()) >= 1, 60_000);
    await redis.stop();
    await new Promise((r) => setTimeout(r, 2_000));
    await redis.start();
    await waitFor('all four flows', async () => (await completed()) === 4, 90_000, 500);
    await stopFleet(w);

    const snapshots = await listSnapshots(fleet);
    expect(snapshots.map((s) => s.volumeId).sort()).toEqual(fleet.volumes.map((v) => v.id));
    for (const v of fleet.volumes) expect(await restoresIdentical(fleet, snapshots.find((s) => s.volumeId === v.id)!.id, v.path)).toBe(true);
  });
});
