/**
 * SIGHUP reloads the configuration of running processes (real processes, real Redis):
 * - a worker started without a policy fails that policy's jobs; after the file gains the policy
 *   and the worker gets SIGHUP, `backup-now` for it completes, and the new archive concurrency
 *   is in effect. An invalid file on SIGHUP is logged with the file and field, and the worker
 *   keeps running on the config it had.
 * - `snapfleet run` reconciles the planner's job schedulers on SIGHUP: a removed policy's
 *   scheduler is gone.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import {
  deletePrefix,
  fleetConfig,
  listSnapshots,
  makeFleet,
  openQueue,
  SHARED_REDIS_URL,
  spawnFleet,
  stopFleet,
  uniquePrefix,
  waitFor,
  type FleetFixture,
  type FleetProcess,
} from '../support/fleet.js';

interface LogLine {
  msg: string;
  config?: string;
  field?: string;
  err?: string;
  concurrency?: Record<string, number>;
}

const env = { REDIS_URL: SHARED_REDIS_URL };
/** A flow of a 4 MiB volume takes about a second; a minute means it is stuck. */
const FLOW_TIMEOUT_MS = 60_000;

/** The process's JSON log lines so far (stderr is read as it comes). */
function logLines(p: FleetProcess): () => LogLine[] {
  let text = '';
  p.child.stderr!.on('data', (s: string) => (text += s));
  return () =>
    text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
}

/**
 * How a volume's chain of one slot ended: its retention job finished, or a job before it failed
 * for good (nothing after it is added then).
 */
async function flowState(prefix: string, retentionJobId: string): Promise<'completed' | 'failed'> {
  const queues = Object.fromEntries(['snapshot', 'archive', 'retention'].map((q) => [q, openQueue(q, prefix)]));
  const idOf = (stage: string) => retentionJobId.replace(/^retention-/, `${stage}-`);
  try {
    return await waitFor(
      `flow ${retentionJobId}`,
      async () => {
        const s = await queues.retention!.getJobState(retentionJobId);
        if (s === 'completed' || s === 'failed') return s;
        for (const stage of ['archive', 'snapshot']) if ((await queues[stage]!.getJobState(idOf(stage))) === 'failed') return 'failed';
        return undefined;
      },
      FLOW_TIMEOUT_MS,
    );
  } finally {
    await Promise.all(Object.values(queues).map((q) => q.close()));
  }
}

async function backupNow(config: string, prefix: string, policy: string): Promise<string> {
  const r = await runCli(['backup-now', '--config', config, '--prefix', prefix, '--policy', policy, '--json'], env);
  expect(r.code, describeRun(r)).toBe(0);
  return parseJson<{ jobs: { retentionJobId: string; snapshotJobId: string }[] }>(r).jobs[0]!.retentionJobId;
}

describe('config reload on SIGHUP', () => {
  let dir: string;
  let fleet: FleetFixture;
  let base: { fleet: object; policies: object[] };
  const added = { name: 'added', selector: { tags: ['test'] }, schedules: [{ every: '1h' }], repository: 'main' };

  beforeAll(async () => {
    dir = await makeTempDir('fleet-reload');
    fleet = await makeFleet(dir, { volumes: 1, sizeMiB: 4, config: (f) => fleetConfig(f) });
    base = fleetConfig(fleet) as typeof base;
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('a worker takes a new policy and concurrency on SIGHUP, and keeps running on an invalid file', async () => {
    const prefix = uniquePrefix('reload-worker');
    const knowsAdded = join(dir, 'knows-added.yaml');
    await writeFile(knowsAdded, JSON.stringify({ ...base, policies: [...base.policies, added] }));
    const worker = spawnFleet(['worker', '--config', fleet.config, '--prefix', prefix], env);
    const logs = logLines(worker);
    try {
      await waitFor('worker start', async () => logs().some((l) => l.msg === 'worker started'), 30_000);
      // Control: the running config lacks the policy, so its jobs fail.
      const before = await backupNow(knowsAdded, prefix, 'added');
      expect(await flowState(prefix, before)).toBe('failed');
      const snapshotQueue = openQueue('snapshot', prefix);
      const failed = (await snapshotQueue.getFailed())[0];
      await snapshotQueue.close();
      expect(failed?.failedReason).toContain("policy added is not in this worker's configuration");

      const fleetPart = { ...base.fleet, queues: { archive: { concurrency: 2 } } };
      await writeFile(fleet.config, JSON.stringify({ ...base, fleet: fleetPart, policies: [...base.policies, added] }));
      worker.child.kill('SIGHUP');
      await waitFor('reload', async () => logs().some((l) => l.msg === 'config reloaded'), 30_000);
      expect(logs().find((l) => l.msg === 'worker reconfigured')?.concurrency?.archive).toBe(2);
      const after = await backupNow(fleet.config, prefix, 'added');
      expect(await flowState(prefix, after)).toBe('completed');
      expect((await listSnapshots(fleet)).filter((s) => s.tags.includes('policy=added'))).toHaveLength(1);

      await writeFile(fleet.config, JSON.stringify({ ...base, policies: [{ ...added, concurrency: 0 }] }));
      worker.child.kill('SIGHUP');
      const rejected = await waitFor('rejection', async () => logs().find((l) => l.msg === 'config reload rejected; keeping the running config'), 30_000);
      expect(rejected.config).toBe(fleet.config);
      expect(rejected.field).toBe('policies[0].concurrency');
      expect(rejected.err).toContain(`${fleet.config}: policies[0].concurrency:`);
      // Still running, on the config it had: the policy it learned still works.
      const again = await backupNow(knowsAdded, prefix, 'added');
      expect(await flowState(prefix, again)).toBe('completed');
      expect(worker.child.exitCode).toBeNull();
    } finally {
      const result = await stopFleet(worker);
      await deletePrefix(prefix);
      expect(result.code, describeRun(result)).toBe(143);
    }
  });

  it("snapfleet run stops a removed policy's scheduler on SIGHUP", async () => {
    const prefix = uniquePrefix('reload-run');
    const config = join(dir, 'run.yaml');
    const keep = { ...added, name: 'keep' };
    await writeFile(config, JSON.stringify({ ...base, policies: [keep, { ...added, name: 'gone' }] }));
    const run = spawnFleet(['run', '--config', config, '--prefix', prefix], env);
    const logs = logLines(run);
    const ticks = openQueue('tick', prefix);
    const schedulers = async () => (await ticks.getJobSchedulers(0, -1)).map((s) => s.id ?? s.key).sort();
    try {
      await waitFor('both schedulers', async () => JSON.stringify(await schedulers()) === JSON.stringify(['tick-gone-0', 'tick-keep-0']), 30_000);
      await writeFile(config, JSON.stringify({ ...base, policies: [keep] }));
      run.child.kill('SIGHUP');
      await waitFor('the removed scheduler to go', async () => JSON.stringify(await schedulers()) === JSON.stringify(['tick-keep-0']), 30_000);
      expect(logs().some((l) => l.msg === 'config reloaded')).toBe(true);
    } finally {
      await ticks.close();
      const result = await stopFleet(run);
      await deletePrefix(prefix);
      expect(result.code, describeRun(result)).toBe(143);
    }
  });
});
