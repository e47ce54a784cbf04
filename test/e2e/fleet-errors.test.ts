/**
 * Bad input fails clearly and costs nothing else: a malformed job payload fails at once
 * (unrecoverable, zod's message, one attempt) while the other jobs complete; a malformed config
 * file stops the command with exit 2 naming the file, the path and the field.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, removeDir, runCli, snapfleetStderr } from '../support/cli.js';
import {
  deletePrefix,
  fleetConfig,
  listSnapshots,
  makeFleet,
  openQueue,
  spawnFleet,
  stopFleet,
  uniquePrefix,
  waitFor,
  type FleetFixture,
  type FleetProcess,
} from '../support/fleet.js';

describe('fleet error handling', () => {
  let dir: string;
  let fleet: FleetFixture;
  const prefix = uniquePrefix('errors');
  const env = { REDIS_URL: 'redis://127.0.0.1:6379', SNAPFLEET_LOG_LEVEL: 'warn' };
  const procs: FleetProcess[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('fleet-errors');
    fleet = await makeFleet(dir, { volumes: 2, sizeMiB: 4, config: (f) => fleetConfig(f) });
  });
  afterAll(async () => {
    await Promise.allSettled(procs.map((p) => stopFleet(p, 2_000)));
    await deletePrefix(prefix);
    await removeDir(dir);
  });

  it('fails a malformed payload at once with the zod message; other jobs complete', async () => {
    const w = spawnFleet(['worker', '--config', fleet.config, '--prefix', prefix], env);
    procs.push(w);
    const snapshotQueue = openQueue('snapshot', prefix);
    const retentionQueue = openQueue('retention', prefix);
    try {
      await snapshotQueue.add('snapshot', { v: 1, policy: 'every', volumeId: 42, slot: 'yesterday' }, { jobId: 'snapshot-bad-1', attempts: 5 });
      const enqueue = await runCli(['backup-now', '--config', fleet.config, '--prefix', prefix, '--policy', 'every'], env);
      expect(enqueue.code, describeRun(enqueue)).toBe(0);
      const bad = await waitFor(
        'the bad job to fail',
        async () => {
          const job = await snapshotQueue.getJob('snapshot-bad-1');
          return job?.failedReason ? job : undefined;
        },
        30_000,
      );
      expect(bad.failedReason).toMatch(/^invalid-input: malformed snapshot job payload: volumeId: .*; slot: must be an ISO 8601 basic UTC time/);
      expect(bad.attemptsMade).toBe(1);
      await waitFor('both volumes to complete', async () => (await retentionQueue.getJobCounts('completed')).completed === 2, 60_000);
      expect(await listSnapshots(fleet)).toHaveLength(2);
    } finally {
      await snapshotQueue.close();
      await retentionQueue.close();
      await stopFleet(w);
    }
  });

  it('a missing volume fails its flow fast with the path, without retries', async () => {
    const config = join(dir, 'missing.yaml');
    const c = fleetConfig(fleet) as { volumes: Record<string, { path: string; tags: string[] }> };
    c.volumes['vol-gone'] = { path: join(dir, 'gone.img'), tags: ['test'] };
    await writeFile(config, JSON.stringify(c));
    const run = await runCli(['run', '--config', config, '--once', '--prefix', `${prefix}-m`], env);
    await deletePrefix(`${prefix}-m`);
    expect(run.code, describeRun(run)).toBe(1);
    expect(run.stdout).toMatch(/FAILED {2}every\/vol-gone: not-found: volume vol-gone: .*gone\.img does not exist/);
    expect(run.stdout).toContain('2 of 3 volume(s) backed up, 1 failed');
  });

  it('a malformed config exits 2 naming file, path and field', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'repositories:\n  main: { url: /tmp/x }\npolicies:\n  - name: p\n    repository: main\n    schedules:\n      - { every: 1h }\n      - { cron: "0 25 * * *" }\n',
    );
    for (const cmd of ['run', 'planner', 'worker', 'status']) {
      const r = await runCli([cmd, '--config', bad, '--prefix', prefix], env);
      expect(r.code, describeRun(r)).toBe(2);
      expect(snapfleetStderr(r.stderr)).toMatch(
        new RegExp(`^snapfleet: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: policies\\[0\\]\\.schedules\\[1\\]\\.cron: invalid cron expression`),
      );
    }
  });
});
