/**
 * The fleet on a Redis Cluster of three primaries (its own cluster-enabled servers on free
 * loopback ports; never the shared server): a planner and two workers back up several volumes
 * over three slots, `status` and `retention held` read the fleet back, and every key the fleet
 * wrote carries its hash-tagged prefix, so each script, MULTI and pipeline stayed in one slot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import { fleetConfig, listSnapshots, makeFleet, spawnFleet, stopFleet, uniquePrefix, waitFor, type FleetFixture, type FleetProcess } from '../support/fleet.js';
import { RedisClusterGroup, redisServerMissing } from '../support/redis-topologies.js';

const missing = redisServerMissing();
if (missing) console.warn(`skipping the Redis Cluster test: ${missing}`);

describe.skipIf(missing !== undefined)('fleet on a Redis Cluster', () => {
  let dir: string;
  let fleet: FleetFixture;
  let cluster: RedisClusterGroup;
  const prefix = uniquePrefix('cluster');
  const tagged = `{${prefix}}`;
  const procs: FleetProcess[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('fleet-cluster');
    cluster = await RedisClusterGroup.start(dir);
    fleet = await makeFleet(dir, {
      volumes: 4,
      sizeMiB: 6,
      config: (f) =>
        fleetConfig(f, {
          fleet: { redis: { cluster: cluster.startupNodes }, worker: { codecThreads: 1, shutdownTimeout: '5s' } },
          // Never fires during the test: the slots are the three backup-now runs.
          policy: { schedules: [{ cron: '0 0 1 1 *' }] },
        }),
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(procs.map((p) => stopFleet(p, 2_000)));
    await cluster?.stop();
    await removeDir(dir);
  });

  const counts = async (): Promise<{ completed: number; unfinished: number }> => {
    const client = cluster.client();
    let completed = 0;
    let unfinished = 0;
    try {
      for (const name of ['snapshot', 'archive', 'retention']) {
        const q = new Queue(name, { connection: client, prefix: tagged });
        const c = await q.getJobCounts('completed', 'waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed');
        expect(c.failed ?? 0, `failed ${name} jobs`).toBe(0);
        if (name === 'retention') completed = c.completed ?? 0;
        unfinished += (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0);
        await q.close();
      }
    } finally {
      client.disconnect();
    }
    return { completed, unfinished };
  };

  it('runs every flow and keeps each call in one slot', async () => {
    const env = { SNAPFLEET_LOG_LEVEL: 'warn' };
    procs.push(spawnFleet(['planner', '--config', fleet.config, '--prefix', prefix], env));
    procs.push(spawnFleet(['worker', '--config', fleet.config, '--prefix', prefix, '--concurrency', '2'], env));
    procs.push(spawnFleet(['worker', '--config', fleet.config, '--prefix', prefix, '--concurrency', '2'], env));
    const slots: string[] = [];
    for (let i = 0; i < 3; i++) {
      if (i) await new Promise((r) => setTimeout(r, 1_100)); // slots are per second
      const r = await runCli(['backup-now', '--config', fleet.config, '--prefix', prefix, '--policy', 'every', '--json'], env);
      expect(r.code, describeRun(r)).toBe(0);
      slots.push(parseJson<{ slot: string }>(r).slot);
    }
    const expected = slots.length * fleet.volumes.length;
    await waitFor(
      'every flow',
      async () => {
        const c = await counts();
        return c.unfinished === 0 && c.completed >= expected;
      },
      90_000,
      500,
    );

    const status = await runCli(['status', '--config', fleet.config, '--prefix', prefix, '--json'], env);
    expect(status.code, describeRun(status)).toBe(0);
    const view = parseJson<{ prefix: string; queues: Record<string, { completed?: number }> }>(status);
    expect(view.prefix).toBe(tagged);
    expect(view.queues.retention?.completed).toBe(expected);
    const held = await runCli(['retention', 'held', '--config', fleet.config, '--prefix', prefix, '--json'], env);
    expect(held.code, describeRun(held)).toBe(0);

    for (const p of procs.splice(0)) await stopFleet(p);

    // Every key the fleet wrote (queues, locks, compliance, metrics, audit) sits under the tag.
    const keys: string[] = [];
    let nodesWithKeys = 0;
    for (const node of cluster.startupNodes) {
      const [host, port] = node.split(':');
      const r = new Redis({ host, port: Number(port), maxRetriesPerRequest: 1 });
      const mine = (await r.keys('*')).filter((k) => k.includes(prefix));
      r.disconnect();
      if (mine.length) nodesWithKeys++;
      keys.push(...mine);
    }
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !k.startsWith(`${tagged}:`))).toEqual([]);
    expect(nodesWithKeys).toBe(1);
    expect(keys.some((k) => k.includes(':fleet:'))).toBe(true);

    const snapshots = await listSnapshots(fleet);
    for (const v of fleet.volumes) {
      for (const slot of slots)
        expect(snapshots.filter((s) => s.volumeId === v.id && s.tags.includes(`slot=${slot}`)).length, `${v.id} in slot ${slot}`).toBe(1);
    }
    expect(snapshots.length).toBe(expected);
  }, 110_000);
});
