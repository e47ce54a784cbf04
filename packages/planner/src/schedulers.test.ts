/**
 * The tick and verify job schedulers: which ones a config wants (pure), and reconciliation
 * against real BullMQ on Redis, under this file's own prefix (removed afterwards).
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetConfigSchema, type FleetConfigInput } from '@snapfleet/shared/config';
import { silentLogger } from '@snapfleet/shared/jobs';
import { desiredSchedulers, reconcileSchedulers } from './schedulers.js';
import { tickJobOptions } from './job-options.js';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const prefix = `sf-test-planner-sched-${process.pid}-${randomBytes(3).toString('hex')}`;

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
