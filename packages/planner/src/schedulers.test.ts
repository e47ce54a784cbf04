/**
 * The planner's job schedulers: the tick and verify ones (which a config wants, purely, and
 * their reconciliation), and the fleet-wide ones beside them: the alert check
 * (alert-scheduler.ts), the search for orphans (orphan-scheduler.ts) and the restore drills
 * (drill-schedulers.ts). Reconciled against real BullMQ on Redis, under this file's own prefix
 * (removed afterwards). One file for all of them: each test file costs seconds of imports.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetConfigSchema, type FleetConfigInput } from '@snapfleet/shared/config';
import { silentLogger } from '@snapfleet/shared/jobs';
import { desiredSchedulers, reconcileSchedulers } from './schedulers.js';
import { tickJobOptions } from './job-options.js';
import { ALERT_CHECK_SCHEDULER, reconcileAlertCheck } from './alert-scheduler.js';
import { ORPHAN_SWEEP_SCHEDULER, reconcileOrphanSweep } from './orphan-scheduler.js';
import { reconcileDrillSchedulers } from './drill-schedulers.js';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const prefix = `sf-test-planner-sched-${process.pid}-${randomBytes(3).toString('hex')}`;
const periodicPrefix = `${prefix}-periodic`;

const configOf = (input: Partial<FleetConfigInput>) =>
  fleetConfigSchema.parse({
    repositories: { main: { url: '/not-used' } },
    policies: [{ name: 'daily', schedules: [{ cron: '0 2 * * *', timeZone: 'Europe/Berlin' }, { every: '6h' }], repository: 'main' }],
    ...input,
  });

describe('desiredSchedulers', () => {
  it('wants one tick per policy schedule and one verify per repository with a verify schedule', () => {
    const config = configOf({
      repositories: { main: { url: '/a', verify: { schedule: { every: '7d' }, readDataSubset: 10 } }, other: { url: '/b' } },
    });
    expect(desiredSchedulers(config)).toEqual([
      { id: 'tick-daily-0', repeat: { pattern: '0 2 * * *', tz: 'Europe/Berlin' }, data: { v: 1, kind: 'policy', policy: 'daily' } },
      { id: 'tick-daily-1', repeat: { every: 6 * 3_600_000 }, data: { v: 1, kind: 'policy', policy: 'daily' } },
      { id: 'verify-main-0', repeat: { every: 7 * 86_400_000 }, data: { v: 1, kind: 'verify', repository: 'main' } },
    ]);
  });

  it('wants nothing for a config without policies or verify schedules', () => {
    expect(desiredSchedulers(configOf({ policies: [] }))).toEqual([]);
  });
});

describe('reconcileSchedulers', () => {
  const redis = new Redis(connection);
  const queue = new Queue('tick', { connection, prefix });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  const schedulerIds = async () => (await queue.getJobSchedulers(0, -1)).map((s) => s.id ?? s.key).sort();

  it('upserts the wanted schedulers with the tick options, idempotently', async () => {
    const config = configOf({});
    const first = await reconcileSchedulers(queue, config, silentLogger);
    const second = await reconcileSchedulers(queue, config, silentLogger);
    expect(first).toEqual({ upserted: ['tick-daily-0', 'tick-daily-1'], removed: [] });
    expect(second).toEqual(first);
    expect(await schedulerIds()).toEqual(['tick-daily-0', 'tick-daily-1']);
    const cron = await queue.getJobScheduler('tick-daily-0');
    expect(cron).toMatchObject({ name: 'tick', pattern: '0 2 * * *', tz: 'Europe/Berlin' });
    expect(cron?.template?.data).toEqual({ v: 1, kind: 'policy', policy: 'daily' });
    expect(cron?.template?.opts).toMatchObject({ attempts: tickJobOptions().attempts, backoff: tickJobOptions().backoff });
  });

  it('removes the schedulers of policies and schedules that left the config, and any stranger on the queue', async () => {
    await queue.upsertJobScheduler('left-by-hand', { every: 60_000 }, { name: 'tick', data: { v: 1, kind: 'policy', policy: 'gone' } });
    const config = configOf({ policies: [{ name: 'weekly', schedules: [{ every: '7d' }], repository: 'main' }] });
    const result = await reconcileSchedulers(queue, config, silentLogger);
    expect(result.upserted).toEqual(['tick-weekly-0']);
    expect([...result.removed].sort()).toEqual(['left-by-hand', 'tick-daily-0', 'tick-daily-1']);
    expect(await schedulerIds()).toEqual(['tick-weekly-0']);
  });

  it('changes a kept scheduler in place when its schedule changes', async () => {
    await reconcileSchedulers(queue, configOf({ policies: [{ name: 'weekly', schedules: [{ every: '1d' }], repository: 'main' }] }), silentLogger);
    expect(await queue.getJobScheduler('tick-weekly-0')).toMatchObject({ every: 86_400_000 });
    expect(await schedulerIds()).toEqual(['tick-weekly-0']);
  });
});

const policy = (name: string, extra: object = {}) => ({ name, schedules: [{ every: '1d' }], repository: 'main', ...extra });
const alerts = { targets: [{ name: 'ops', kind: 'webhook' as const, url: 'http://127.0.0.1:9/alerts' }], checkEvery: '5m' };

describe('periodic job schedulers', () => {
  const redis = new Redis(connection);
  const queues = ['alert', 'retention', 'verify'].map((name) => new Queue(name, { connection, prefix: periodicPrefix }));
  const [alertQueue, retentionQueue, verifyQueue] = queues as [Queue, Queue, Queue];

  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    const keys = await redis.keys(`${periodicPrefix}:*`);
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
