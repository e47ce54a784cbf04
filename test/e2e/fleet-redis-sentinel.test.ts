/**
 * The fleet on Redis Sentinel (its own primary, two replicas and three sentinels on free loopback
 * ports; never the shared server): a planner and two workers run backups of several volumes over
 * three slots, the primary is SIGKILLed mid-run, the sentinels promote a replica, and the fleet
 * carries on against it. Afterwards every volume has exactly one archive per slot: none lost to
 * the failover, none duplicated by the retries it caused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import { fleetConfig, listSnapshots, makeFleet, spawnFleet, stopFleet, uniquePrefix, waitFor, type FleetFixture, type FleetProcess } from '../support/fleet.js';
import { SentinelGroup, redisServerMissing } from '../support/redis-topologies.js';

const missing = redisServerMissing();
if (missing) console.warn(`skipping the Sentinel failover test: ${missing}`);

describe.skipIf(missing !== undefined)('fleet on Redis Sentinel, primary killed mid-run', () => {
  let dir: string;
  let fleet: FleetFixture;
  let group: SentinelGroup;
  const prefix = uniquePrefix('sentinel');
  const procs: FleetProcess[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('fleet-sentinel');
    group = await SentinelGroup.start(dir, 2);
    fleet = await makeFleet(dir, {
      volumes: 5,
      sizeMiB: 6,
      config: (f) =>
        fleetConfig(f, {
          // Short job locks: a job whose worker lost its lock in the failover is taken over within seconds.
          // Eight attempts from 500 ms span about a minute of backoff: calls that fail while the
          // sentinels elect a new primary (seconds on a loaded machine) must not use them all up.
          fleet: {
            redis: { sentinels: group.sentinelNodes, name: group.masterName },
            worker: { codecThreads: 1, shutdownTimeout: '5s', lockDuration: '5s', stalledInterval: '2s' },
            jobs: { attempts: 8, backoff: '500ms' },
          },
          // Never fires during the test: the slots are the three backup-now runs.
          policy: { schedules: [{ cron: '0 0 1 1 *' }] },
        }),
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(procs.map((p) => stopFleet(p, 2_000)));
    await group?.stop();
    await removeDir(dir);
  });

  const openQueue = (name: string): Queue => {
    const q = new Queue(name, {
      connection: {
        sentinels: group.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
        name: group.masterName,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
      },
      prefix,
    });
    q.on('error', () => {}); // a read during the failover fails; the caller reads again
    return q;
  };
  const queueCounts = async (): Promise<{ completed: number; unfinished: number }> => {
    let completed = 0;
    let unfinished = 0;
    for (const name of ['snapshot', 'archive', 'retention']) {
      const q = openQueue(name);
      try {
        const c = await q.getJobCounts('completed', 'waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
        if (name === 'retention') completed = c.completed ?? 0;
        unfinished += (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0);
      } finally {
        await q.close();
      }
    }
    return { completed, unfinished };
  };
  const counts = () => queueCounts().catch(() => undefined);

  /**
   * What a timed-out wait saw: every queue's counts, the failed jobs' reasons, each process's
   * stderr, each Redis server's role and the sentinels' logs.
   */
  const describeFleet = async (): Promise<string> => {
    const lines: string[] = [];
    for (const name of ['snapshot', 'archive', 'retention']) {
      const q = openQueue(name);
      try {
        lines.push(`${name}: ${JSON.stringify(await q.getJobCounts())}`);
        for (const j of await q.getJobs(['failed', 'active', 'waiting', 'delayed'], 0, 20))
          lines.push(`  ${j.id} ${j.failedReason ?? ''} attempts=${j.attemptsMade}`);
      } catch (e) {
        lines.push(`${name}: unreadable (${(e as Error).message})`);
      } finally {
        await q.close();
      }
    }
    for (const [i, p] of procs.entries()) lines.push(`process ${i} stderr:\n${p.stderrSoFar().slice(-4_000)}`);
    lines.push(await group.describe());
    return lines.join('\n');
  };
  const waitOrDescribe = async (what: string, probe: () => Promise<boolean>, timeoutMs: number, intervalMs: number): Promise<void> => {
    try {
      await waitFor(what, probe, timeoutMs, intervalMs);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${await describeFleet()}`, { cause: e });
    }
  };

  const backupNow = async (env: Record<string, string>): Promise<string> => {
    const r = await runCli(['backup-now', '--config', fleet.config, '--prefix', prefix, '--policy', 'every', '--json'], env);
    expect(r.code, describeRun(r)).toBe(0);
    return parseJson<{ slot: string }>(r).slot;
  };

  it('fails over to a replica and archives every volume once per slot', async () => {
    const env = { SNAPFLEET_LOG_LEVEL: 'warn' };
    procs.push(spawnFleet(['planner', '--config', fleet.config, '--prefix', prefix], env));
    procs.push(spawnFleet(['worker', '--config', fleet.config, '--prefix', prefix, '--concurrency', '2'], env));
    procs.push(spawnFleet(['worker', '--config', fleet.config, '--prefix', prefix, '--concurrency', '2'], env));
    const slots = [await backupNow(env)];
    await new Promise((r) => setTimeout(r, 1_100)); // slots are per second
    slots.push(await backupNow(env));

    await waitOrDescribe('the first flows', async () => ((await counts())?.completed ?? 0) >= 2, 60_000, 100);
    const before = (await counts())?.completed ?? 0;
    const killed = await group.killPrimary();
    expect(before, 'the primary was killed before the run ended').toBeLessThan(slots.length * fleet.volumes.length);
    await waitFor(
      'a replica promoted',
      async () => {
        const port = await group.primaryPort().catch(() => killed);
        return port !== killed;
      },
      30_000,
      250,
    );

    // A fresh process after the failover finds the new primary through the sentinels.
    await new Promise((r) => setTimeout(r, 1_100));
    slots.push(await backupNow(env));
    const expected = slots.length * fleet.volumes.length;
    await waitOrDescribe(
      'every flow',
      async () => {
        const c = await counts();
        return c !== undefined && c.unfinished === 0 && c.completed >= expected;
      },
      150_000,
      500,
    );
    for (const p of procs.splice(0)) {
      const r = await stopFleet(p);
      expect(r.stderr, 'no process crashed').not.toMatch(/uncaught|unhandled/i);
    }

    const snapshots = await listSnapshots(fleet);
    for (const v of fleet.volumes) {
      for (const slot of slots) {
        const archived = snapshots.filter((s) => s.volumeId === v.id && s.tags.includes(`slot=${slot}`));
        expect(archived.length, `${v.id} in slot ${slot}`).toBe(1);
      }
    }
    expect(snapshots.length).toBe(expected);
  }, 240_000);
});
