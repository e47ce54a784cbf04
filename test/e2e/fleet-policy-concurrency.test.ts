/**
 * A policy's `concurrency` caps its archives across the whole fleet: with a limit of 1 and an
 * archive queue that would run 4 at once, archives run one after another (jobs that find the
 * policy's slots taken are re-delayed, not failed), and every volume is still backed up.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import { deletePrefix, fleetConfig, makeFleet, uniquePrefix, type FleetFixture } from '../support/fleet.js';

interface LogLine {
  time: number;
  msg: string;
  queue?: string;
  jobId?: string;
}

/**
 * The most archives whose work overlaps at one moment: each runs from its 'archiving' line to its
 * 'archived' line, both logged inside the processor. (BullMQ's 'active' and 'completed' events
 * lie outside the slot: a job is active while it tries for a slot, and its completion is logged
 * after the slot is already free, so they would show overlaps that never held two slots.)
 */
function maxOverlap(lines: LogLine[]): number {
  const started = new Map<string, number>();
  const intervals: [number, number][] = [];
  for (const l of lines) {
    if (!l.jobId) continue;
    if (l.msg === 'archiving') started.set(l.jobId, l.time);
    if (l.msg === 'archived') intervals.push([started.get(l.jobId)!, l.time]);
  }
  const events = intervals.flatMap(([s, e]) => [[s, 1] as const, [e, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of events) most = Math.max(most, (now += d));
  return most;
}

describe('policy concurrency', () => {
  let dir: string;
  let fleet: FleetFixture;
  const prefix = uniquePrefix('policy-slots');

  beforeAll(async () => {
    dir = await makeTempDir('fleet-policy-slots');
    fleet = await makeFleet(dir, {
      volumes: 4,
      sizeMiB: 8,
      config: (f) => fleetConfig(f, { fleet: { queues: { archive: { concurrency: 4 } } }, policy: { concurrency: 1 } }),
    });
  });
  afterAll(async () => {
    await deletePrefix(prefix);
    await removeDir(dir);
  });

  it('runs at most one archive of the policy at a time, and backs every volume up', async () => {
    const run = await runCli(['run', '--config', fleet.config, '--once', '--prefix', prefix, '--json'], { REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(run.code, describeRun(run)).toBe(0);
    const summary = parseJson<{ volumes: { volumeId: string; state: string }[] }>(run);
    expect(summary.volumes.map((v) => v.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    const lines = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
    expect(lines.filter((l) => l.queue === 'archive' && l.msg === 'job completed')).toHaveLength(4);
    expect(lines.filter((l) => l.msg === 'archiving')).toHaveLength(4);
    expect(maxOverlap(lines)).toBe(1);
  });

  it('runs the same archives side by side without the limit (the measure above can see overlap)', async () => {
    // A fleet of its own: the first test's snapshots would make these archives no-ops.
    const freeDir = join(dir, 'unlimited');
    await mkdir(freeDir);
    const unlimited = await makeFleet(freeDir, {
      volumes: 4,
      sizeMiB: 8,
      config: (f) => fleetConfig(f, { fleet: { queues: { archive: { concurrency: 4 } } } }),
    });
    const free = unlimited.config;
    const freePrefix = uniquePrefix('policy-slots-free');
    try {
      const run = await runCli(['run', '--config', free, '--once', '--prefix', freePrefix, '--json'], { REDIS_URL: 'redis://127.0.0.1:6379' });
      expect(run.code, describeRun(run)).toBe(0);
      const lines = run.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
      expect(maxOverlap(lines)).toBeGreaterThan(1);
    } finally {
      await deletePrefix(freePrefix);
    }
  });

  it('rejects a policy concurrency below 1, naming the field', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, JSON.stringify(fleetConfig(fleet, { policy: { concurrency: 0 } })));
    const r = await runCli(['run', '--config', bad, '--once', '--prefix', prefix]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('policies[0].concurrency');
  });
});
