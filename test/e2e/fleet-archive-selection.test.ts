/**
 * Archive selection through the real CLI: `snapfleet run --once` twice over the same volumes,
 * with a "first-of-month" policy beside one that archives every snapshot. The second run's slot
 * falls in the month the first run archived, so the first-of-month policy completes without
 * archiving (result, log line and fleet metric say so), while the other policy archives again.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import { deletePrefix, fleetConfig, listSnapshots, makeFleet, SHARED_REDIS_URL, uniquePrefix, type FleetFixture } from '../support/fleet.js';

interface RunSummary {
  slot: string;
  volumes: { policy: string; volumeId: string; state: string; snapshotId?: string; skipped?: string }[];
}

interface LogLine {
  msg: string;
  policy?: string;
  volume?: string;
  reason?: string;
}

const month = (slot: string) => slot.slice(0, 6);

describe('archive selection in the fleet', () => {
  let dir: string;
  let fleet: FleetFixture;
  const prefix = uniquePrefix('selection');
  const env = { REDIS_URL: SHARED_REDIS_URL };

  beforeAll(async () => {
    dir = await makeTempDir('fleet-selection');
    fleet = await makeFleet(dir, {
      volumes: 2,
      sizeMiB: 4,
      config: (f) => {
        const base = fleetConfig(f) as { policies: object[] };
        const retention = { snapshotTier: { keepLast: 1 }, archiveTier: { keepLast: 'unlimited' } };
        return {
          ...base,
          policies: [
            {
              name: 'monthly',
              selector: { tags: ['test'] },
              schedules: [{ every: '1d' }],
              repository: 'main',
              retention: { ...retention, archiveSelection: { mode: 'first-of-month' } },
            },
            { name: 'all', selector: { tags: ['test'] }, schedules: [{ every: '1d' }], repository: 'main', retention },
          ],
        };
      },
    });
  });
  afterAll(async () => {
    await deletePrefix(prefix);
    await removeDir(dir);
  });

  it('archives the first slot of the month and skips the next, saying why', async () => {
    const first = await runCli(['run', '--config', fleet.config, '--once', '--prefix', prefix, '--json'], env);
    expect(first.code, describeRun(first)).toBe(0);
    const one = parseJson<RunSummary>(first);
    expect(one.volumes.every((v) => v.state === 'completed' && v.snapshotId && !v.skipped)).toBe(true);

    const second = await runCli(['run', '--config', fleet.config, '--once', '--prefix', prefix, '--json'], env);
    expect(second.code, describeRun(second)).toBe(0);
    const two = parseJson<RunSummary>(second);
    const snapshots = await listSnapshots(fleet);
    const monthlyIds = snapshots.filter((s) => s.tags.includes('policy=monthly'));
    const allIds = snapshots.filter((s) => s.tags.includes('policy=all'));
    // The policy without a selection archived both slots of both volumes: runs do archive.
    expect(allIds).toHaveLength(4);
    expect(two.volumes.filter((v) => v.policy === 'all').every((v) => v.snapshotId && !v.skipped)).toBe(true);
    if (month(one.slot) !== month(two.slot)) {
      // The runs straddled a month boundary (UTC): the second slot is the new month's first.
      expect(monthlyIds).toHaveLength(4);
      return;
    }
    expect(monthlyIds).toHaveLength(2);
    const skipped = two.volumes.filter((v) => v.policy === 'monthly');
    expect(skipped.map((v) => [v.volumeId, v.state, v.snapshotId])).toEqual([
      ['vol-01', 'completed', undefined],
      ['vol-02', 'completed', undefined],
    ]);
    for (const v of skipped) expect(v.skipped).toBe(`first-of-month: ${one.slot} already archived for ${one.slot.slice(0, 4)}-${one.slot.slice(4, 6)}`);
    const lines = second.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
    expect(
      lines
        .filter((l) => l.msg === 'archive skipped' && l.policy === 'monthly')
        .map((l) => l.volume)
        .sort(),
    ).toEqual(['vol-01', 'vol-02']);
    const redis = new Redis(SHARED_REDIS_URL);
    try {
      expect(await redis.hget(`${prefix}:fleet:metrics`, 'archives_skipped')).toBe('2');
    } finally {
      redis.disconnect();
    }

    const text = await runCli(['run', '--config', fleet.config, '--once', '--prefix', prefix], env);
    expect(text.code, describeRun(text)).toBe(0);
    const slot = /^slot (\S+)$/m.exec(text.stdout)![1]!;
    if (month(slot) === month(one.slot)) {
      expect(text.stdout).toContain(
        `ok      monthly/vol-01: not archived (first-of-month: ${one.slot} already archived for ${slot.slice(0, 4)}-${slot.slice(4, 6)})`,
      );
    }
  });
});
