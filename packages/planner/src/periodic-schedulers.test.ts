/**
 * The planner's fleet-wide job schedulers beside the ticks: the alert check (alert-scheduler.ts),
 * the search for orphans (orphan-scheduler.ts) and the restore drills (drill-schedulers.ts), each
 * reconciled against real BullMQ on Redis under this file's own prefix (removed afterwards).
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetConfigSchema, type FleetConfigInput } from '@snapfleet/shared/config';
import { ALERT_CHECK_SCHEDULER, reconcileAlertCheck } from './alert-scheduler.js';
import { ORPHAN_SWEEP_SCHEDULER, reconcileOrphanSweep } from './orphan-scheduler.js';
import { reconcileDrillSchedulers } from './drill-schedulers.js';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const prefix = `sf-test-planner-periodic-${process.pid}-${randomBytes(3).toString('hex')}`;

const policy = (name: string, extra: object = {}) => ({ name, schedules: [{ every: '1d' }], repository: 'main', ...extra });
const configOf = (input: Partial<FleetConfigInput>) => fleetConfigSchema.parse({ repositories: { main: { url: '/not-used' } }, policies: [policy('p')], ...input });
const alerts = { targets: [{ name: 'ops', kind: 'webhook' as const, url: 'http://127.0.0.1:9/alerts' }], checkEvery: '5m' };

describe('periodic job schedulers', () => {
  const redis = new Redis(connection);
  const queues = ['alert', 'retention', 'verify'].map((name) => new Queue(name, { connection, prefix }));
  const [alertQueue, retentionQueue, verifyQueue] = queues as [Queue, Queue, Queue];

  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  const ids = async (queue: Queue) => (await queue.getJobSchedulers(0, -1)).map((s) => s.id ?? s.key).sort();

  it('keeps one alert check every alerts.checkEvery while alerts are configured, and removes it when they are not', async () => {
    await reconcileAlertCheck(alertQueue, configOf({ alerts }));
    await reconcileAlertCheck(alertQueue, configOf({ alerts }));
    expect(await ids(alertQueue)).toEqual([ALERT_CHECK_SCHEDULER]);
    const s = await alertQueue.getJobScheduler(ALERT_CHECK_SCHEDULER);
    expect(s).toMatchObject({ name: 'check', every: 5 * 60_000 });
    expect(s?.template?.data).toEqual({ v: 1 });
    await reconcileAlertCheck(alertQueue, configOf({}));
    expect(await ids(alertQueue)).toEqual([]);
  });

  it('keeps one orphan search every orphans.every while the rule is configured, and removes it when it is not', async () => {
    const orphans = { every: '12h', archiveTier: 'delete' as const };
    await reconcileOrphanSweep(retentionQueue, configOf({ orphans }));
    await reconcileOrphanSweep(retentionQueue, configOf({ orphans }));
    expect(await ids(retentionQueue)).toEqual([ORPHAN_SWEEP_SCHEDULER]);
    const s = await retentionQueue.getJobScheduler(ORPHAN_SWEEP_SCHEDULER);
    expect(s).toMatchObject({ name: 'orphan-sweep', every: 12 * 3_600_000 });
    expect(s?.template?.data).toEqual({ v: 1 });
    await reconcileOrphanSweep(retentionQueue, configOf({}));
    expect(await ids(retentionQueue)).toEqual([]);
  });

  it('keeps one drill scheduler per policy with a drill, single-attempt, on its drill schedule', async () => {
    const config = configOf({
      policies: [
        policy('a', { drill: { schedule: { cron: '0 4 * * 0', timeZone: 'UTC' }, volumes: 2 } }),
        policy('b', { drill: { schedule: { every: '1d' } } }),
        policy('c'),
      ],
    });
    expect(await reconcileDrillSchedulers(verifyQueue, config)).toEqual(['drill-a', 'drill-b']);
    expect(await ids(verifyQueue)).toEqual(['drill-a', 'drill-b']);
    const a = await verifyQueue.getJobScheduler('drill-a');
    expect(a).toMatchObject({ name: 'drill', pattern: '0 4 * * 0', tz: 'UTC' });
    expect(a?.template?.data).toEqual({ v: 1, policy: 'a' });
    expect(a?.template?.opts).toMatchObject({ attempts: 1 });
    expect(await verifyQueue.getJobScheduler('drill-b')).toMatchObject({ every: 86_400_000 });
  });

  it('removes the drill schedulers of policies that lost their drill or left, and leaves other schedulers on the queue alone', async () => {
    await verifyQueue.upsertJobScheduler('not-a-drill', { every: 60_000 }, { name: 'verify', data: { v: 1 } });
    const config = configOf({ policies: [policy('a'), policy('b', { drill: { schedule: { every: '2d' } } })] });
    expect(await reconcileDrillSchedulers(verifyQueue, config)).toEqual(['drill-b']);
    expect(await ids(verifyQueue)).toEqual(['drill-b', 'not-a-drill']);
    expect(await verifyQueue.getJobScheduler('drill-b')).toMatchObject({ every: 2 * 86_400_000 });
  });
});
