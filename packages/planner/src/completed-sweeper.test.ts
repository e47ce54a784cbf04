/** The sweep of completed jobs against the machine's Redis, under this file's own prefix (removed afterwards). */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetConfigSchema } from '@snapfleet/shared/config';
import { silentLogger } from '@snapfleet/shared/jobs';
import { startCompletedSweeper } from './completed-sweeper.js';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const prefix = `sf-test-sweeper-${process.pid}-${randomBytes(3).toString('hex')}`;
const configWith = (keepCompleted: string) => fleetConfigSchema.parse({ repositories: { main: { url: '/r' } }, fleet: { jobs: { keepCompleted } } });

describe('the sweep of completed jobs', () => {
  const redis = new Redis(connection);
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('removes completed jobs older than keepCompleted from every work queue, and leaves younger ones and unfinished ones', async () => {
    const queue = new Queue('archive', { connection, prefix });
    const events = new QueueEvents('archive', { connection, prefix });
    await events.waitUntilReady();
    const jobs = await queue.addBulk([1, 2, 3].map((i) => ({ name: 'archive', data: { i }, opts: { jobId: `done-${i}` } })));
    const worker = new Worker('archive', async () => ({ ok: true }), { connection, prefix });
    await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 10_000)));
    await worker.close();
    await queue.add('archive', { i: 4 }, { jobId: 'waiting-4' });

    const kept = startCompletedSweeper(connection, prefix, () => configWith('1h'), silentLogger);
    expect(await kept.sweep()).toBe(0);
    kept.stop();
    expect(await queue.getJobCounts('completed', 'waiting')).toEqual({ completed: 3, waiting: 1 });

    const aged = startCompletedSweeper(connection, prefix, () => configWith('0s'), silentLogger);
    expect(await aged.sweep()).toBe(3);
    aged.stop();
    expect(await queue.getJobCounts('completed', 'waiting')).toEqual({ completed: 0, waiting: 1 });
    expect(await redis.exists(`${prefix}:archive:done-1`)).toBe(0);
    await Promise.all([queue.close(), events.close()]);
  });
});
