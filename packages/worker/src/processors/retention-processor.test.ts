/**
 * Snapshot-tier retention through the real retention processor (inside createFleetWorker, so with
 * its lock and error handling) against real Redis: the archive jobs whose state decides what may
 * be deleted are real BullMQ jobs under this test's own prefix. The provider is the in-memory one
 * that keeps snapshots; the repository is in memory.
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository, acquireLease, archiveVolume, createInlineCodecPool, initRepository, type CodecPool } from '@snapfleet/shared';
import { fleetConfigSchema, type FleetConfig } from '@snapfleet/shared/config';
import { policyTag, silentLogger, slotFromTime, slotTag, volumeJobId } from '@snapfleet/shared/jobs';
import { createArchiveHistory } from '@snapfleet/providers/fleet';
import { HELD_ARCHIVE_RUNNING, HELD_MAY_BE_ARCHIVED, HELD_NEXT_PARENT, HELD_PENDING } from '@snapfleet/shared/retention';
import { MemoryBlobStore, MemoryVolumeProvider, MemoryVolumeSource } from '@snapfleet/shared/testing';
import { createFleetWorker, type FleetWorker } from '../fleet-worker.js';
import { createFleetMetrics } from '../fleet-metrics.js';
import type { FleetRepositories } from '../fleet-repositories.js';
import type { RetentionJobResult } from './retention-processor.js';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const prefix = `sf-test-tier-${process.pid}-${randomBytes(3).toString('hex')}`;
const redis = new Redis(connection);
const clock = { now: () => new Date() };
/** Slot i: 2024-03-0i 02:00 UTC. */
const slot = (day: number) => slotFromTime(new Date(Date.UTC(2024, 2, day, 2)));

const config: FleetConfig = fleetConfigSchema.parse({
  repositories: { main: { url: '/not-used' } },
  policies: [
    {
      name: 'p',
      schedules: [{ every: '1d' }],
      repository: 'main',
      retention: { snapshotTier: { keepLast: 2 }, archiveTier: { keepLast: 'unlimited' } },
    },
  ],
});

describe('snapshot-tier retention', () => {
  const store = new MemoryBlobStore();
  const provider = new MemoryVolumeProvider({ v: { data: new Uint8Array(256 * 1024).fill(1) }, w: { data: new Uint8Array(1024) } }, { clock });
  const archiveQueue = new Queue('archive', { connection, prefix });
  const retentionQueue = new Queue('retention', { connection, prefix });
  const events = new QueueEvents('retention', { connection, prefix });
  let repo: Repository;
  let pool: CodecPool;
  let worker: FleetWorker;
  const refs: Record<number, string> = {};

  const archiveInRepository = async (day: number) => {
    const source = new MemoryVolumeSource(new Uint8Array(64 * 1024).fill(day));
    await archiveVolume(repo, pool, { volumeId: 'v', source, time: new Date(Date.UTC(2024, 2, day, 2)), clock, tags: [policyTag('p'), slotTag(slot(day))] });
  };
  const addArchiveJob = (day: number) =>
    archiveQueue.add(
      'archive',
      { v: 1, policy: 'p', volumeId: 'v', slot: slot(day), repository: 'main' },
      { jobId: volumeJobId('archive', 'p', 'v', slot(day)) },
    );
  const runRetention = async (day: number, attempt: string): Promise<RetentionJobResult> => {
    const job = await retentionQueue.add(
      'retention',
      { v: 1, policy: 'p', volumeId: 'v', slot: slot(day), repository: 'main' },
      { jobId: `${volumeJobId('retention', 'p', 'v', slot(day))}-${attempt}` },
    );
    return (await job.waitUntilFinished(events, 30_000)) as RetentionJobResult;
  };
  /** Completes the archive jobs of these days the way a worker would (a skipped slot's result). */
  const completeArchiveJobs = async (days: number[]) => {
    const ids = new Set(days.map((d) => volumeJobId('archive', 'p', 'v', slot(d))));
    const done = new Promise<void>((resolve) => {
      let left = ids.size;
      const w = new Worker('archive', async (job: Job) => ({ volumeId: job.data.volumeId, reused: false, skipped: true, reason: 'test' }), {
        connection,
        prefix,
      });
      w.on('completed', (job) => {
        if (ids.has(job.id!) && --left === 0) void w.close().then(resolve);
      });
    });
    await done;
  };

  beforeAll(async () => {
    const initialized = await initRepository(store, { encrypted: false });
    pool = createInlineCodecPool(initialized.keys);
    repo = new Repository(store, initialized.config, initialized.keys);
    // Day 1..8 of one policy and volume; days 1 and 4 are archived (4 is the newest archived).
    for (let day = 1; day <= 8; day++) {
      refs[day] = provider.addSnapshot(
        'v',
        new Date(Date.UTC(2024, 2, day, 2, 0, 5)),
        [policyTag('p'), slotTag(slot(day))],
        day === 6 ? 'pending' : 'completed',
      );
    }
    provider.addSnapshot('v', new Date(Date.UTC(2024, 2, 1)), [policyTag('other'), slotTag(slot(1))]);
    provider.addSnapshot('w', new Date(Date.UTC(2024, 2, 1)), [policyTag('p'), slotTag(slot(1))]);
    await archiveInRepository(1);
    await archiveInRepository(4);
    // Days 2, 7 and 8: archive jobs that completed (skipped); day 3: an archive still waiting;
    // days 5 and 6: no archive job at all.
    for (const day of [2, 7, 8]) await addArchiveJob(day);
    await completeArchiveJobs([2, 7, 8]);
    await addArchiveJob(3);
    const repositories: FleetRepositories = {
      open: async () => ({ repo: new Repository(store, initialized.config, initialized.keys), pool, settings: config.repositories.main! }),
      update: () => {},
      close: async () => {},
    };
    worker = createFleetWorker({
      connection,
      redis,
      prefix,
      config,
      provider,
      repositories,
      clock,
      log: silentLogger,
      metrics: createFleetMetrics(undefined, prefix),
      queues: ['retention'],
    });
  });

  afterAll(async () => {
    await worker?.close(5_000);
    await Promise.all([archiveQueue.close(), retentionQueue.close(), events.close()]);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });

  it('deletes exactly the snapshots not kept whose archive is done, and holds the rest', async () => {
    const result = await runRetention(8, 'first');
    // keepLast 2 keeps days 8 and 7. Day 1 is archived, day 2's archive was skipped: deleted.
    // Day 4 is archived too, but the newest archive was read from it: the next archive lists
    // the blocks changed since it. Day 3's archive is still waiting, day 5 has no archive job
    // and is newer than the newest archived (day 4), day 6 is pending: all held.
    expect(result.deletedSnapshots).toEqual([refs[2], refs[1]]);
    expect(provider.deleted).toEqual([refs[2], refs[1]]);
    expect(result.heldSnapshots).toEqual([
      { ref: refs[6], reason: HELD_PENDING },
      { ref: refs[5], reason: HELD_MAY_BE_ARCHIVED },
      { ref: refs[4], reason: HELD_NEXT_PARENT },
      { ref: refs[3], reason: HELD_ARCHIVE_RUNNING },
    ]);
    expect((await provider.listSnapshots('v', [policyTag('p')])).map((s) => s.ref)).toEqual([refs[3], refs[4], refs[5], refs[6], refs[7], refs[8]]);
    // The archive tier keeps everything (keepLast unlimited): the repository is untouched.
    expect(result.removed).toEqual([]);
    expect((await repo.listSnapshots()).length).toBe(2);
  });

  it('deletes a held snapshot once its archive finished, and counts a snapshot once it completed', async () => {
    await completeArchiveJobs([3]);
    provider.setState(refs[6]!, 'completed');
    const result = await runRetention(8, 'second');
    expect(result.deletedSnapshots).toEqual([refs[3]]);
    expect(result.heldSnapshots).toEqual([
      { ref: refs[6], reason: HELD_MAY_BE_ARCHIVED },
      { ref: refs[5], reason: HELD_MAY_BE_ARCHIVED },
      { ref: refs[4], reason: HELD_NEXT_PARENT },
    ]);
    expect(provider.deleted).toEqual([refs[2], refs[1], refs[3]]);
    // Other policies' and other volumes' snapshots are never touched.
    expect(await provider.listSnapshots('v', [policyTag('other')])).toHaveLength(1);
    expect(await provider.listSnapshots('w', [policyTag('p')])).toHaveLength(1);
  });

  it("deletes a snapshot whose archive job is gone once the volume's archive history says its archive ended", async () => {
    // Day 5's archive job was removed after keepCompleted; the history kept how it ended.
    await createArchiveHistory(redis, prefix).record(
      'p',
      'v',
      slot(5),
      new Date(Date.UTC(2024, 2, 5, 2)),
      'skipped',
      7 * 86_400_000,
      new Date(Date.UTC(2024, 2, 8, 2)),
    );
    const result = await runRetention(8, 'third');
    expect(result.deletedSnapshots).toEqual([refs[5]]);
    expect(result.heldSnapshots).toEqual([
      { ref: refs[6], reason: HELD_MAY_BE_ARCHIVED },
      { ref: refs[4], reason: HELD_NEXT_PARENT },
    ]);
  });
});

describe('prune in the retention job', () => {
  const prunePrefix = `${prefix}-prune`;
  const pruneRedis = new Redis(connection);
  const pruneConfig: FleetConfig = fleetConfigSchema.parse({
    repositories: { main: { url: '/not-used' } },
    policies: [
      {
        name: 'p',
        schedules: [{ every: '1d' }],
        repository: 'main',
        retention: { snapshotTier: { keepLast: 1 }, archiveTier: { keepLast: 1 } },
        prune: { every: '1s' },
      },
    ],
  });
  const store = new MemoryBlobStore();
  const retentionQueue = new Queue('retention', { connection, prefix: prunePrefix });
  const events = new QueueEvents('retention', { connection, prefix: prunePrefix });
  let worker: FleetWorker | undefined;

  afterAll(async () => {
    await worker?.close(5_000);
    await Promise.all([retentionQueue.close(), events.close()]);
    const keys = await pruneRedis.keys(`${prunePrefix}:*`);
    if (keys.length) await pruneRedis.del(...keys);
    pruneRedis.disconnect();
  });

  it('skips the prune while another prune holds the repository, and prunes on the next job', async () => {
    const initialized = await initRepository(store, { encrypted: false });
    const pool = createInlineCodecPool(initialized.keys);
    const repo = new Repository(store, initialized.config, initialized.keys);
    for (const day of [1, 2]) {
      const source = new MemoryVolumeSource(new Uint8Array(64 * 1024).fill(day));
      await archiveVolume(repo, pool, { volumeId: 'v', source, time: new Date(Date.UTC(2024, 2, day, 2)), clock, tags: [policyTag('p'), slotTag(slot(day))] });
    }
    const repositories: FleetRepositories = {
      open: async () => ({ repo: new Repository(store, initialized.config, initialized.keys), pool, settings: pruneConfig.repositories.main! }),
      update: () => {},
      close: async () => {},
    };
    const provider = new MemoryVolumeProvider({ v: { data: new Uint8Array(1024) } }, { clock });
    worker = createFleetWorker({
      connection,
      redis: pruneRedis,
      prefix: prunePrefix,
      config: pruneConfig,
      provider,
      repositories,
      clock,
      log: silentLogger,
      metrics: createFleetMetrics(undefined, prunePrefix),
      queues: ['retention'],
    });
    const run = async (attempt: string) => {
      const job = await retentionQueue.add(
        'retention',
        { v: 1, policy: 'p', volumeId: 'v', slot: slot(2), repository: 'main' },
        { jobId: `${volumeJobId('retention', 'p', 'v', slot(2))}-${attempt}` },
      );
      return (await job.waitUntilFinished(events, 30_000)) as RetentionJobResult;
    };

    const other = await acquireLease(repo, clock, 'prune', 'cli-host');
    const blocked = await run('blocked');
    // The forget happened; the prune did not, and the job did not fail for it.
    expect(blocked.removed).toHaveLength(1);
    expect(blocked.pruned).toBe(false);
    expect(store.keys().filter((k) => k.startsWith('prune/'))).toEqual([]);
    const packsBefore = store.keys().filter((k) => k.startsWith('data/'));

    await other.release();
    const next = await run('next');
    expect(next.pruned).toBe(true);
    expect(store.keys().filter((k) => k.startsWith('data/')).length).toBeLessThan(packsBefore.length);
  });
});

describe('maintenance in the retention job', () => {
  const mPrefix = `${prefix}-maint`;
  const mRedis = new Redis(connection);
  const retentionQueue = new Queue('retention', { connection, prefix: mPrefix });
  const events = new QueueEvents('retention', { connection, prefix: mPrefix });
  const workers: FleetWorker[] = [];

  afterAll(async () => {
    for (const w of workers) await w.close(5_000);
    await Promise.all([retentionQueue.close(), events.close()]);
    const keys = await mRedis.keys(`${mPrefix}:*`);
    if (keys.length) await mRedis.del(...keys);
    mRedis.disconnect();
  });

  const setUp = async (formatVersion: number, every: string) => {
    const config: FleetConfig = fleetConfigSchema.parse({
      repositories: { main: { url: '/not-used' } },
      policies: [{ name: 'm', schedules: [{ every: '1d' }], repository: 'main', maintenance: { every } }],
    });
    const store = new MemoryBlobStore();
    const initialized = await initRepository(store, { encrypted: false, formatVersion });
    const pool = createInlineCodecPool(initialized.keys);
    for (const day of [1, 2, 3]) {
      const source = new MemoryVolumeSource(new Uint8Array(64 * 1024).fill(day));
      await archiveVolume(new Repository(store, initialized.config, initialized.keys), pool, {
        volumeId: 'v',
        source,
        time: new Date(Date.UTC(2024, 2, day, 2)),
        clock,
      });
    }
    const repositories: FleetRepositories = {
      open: async () => ({ repo: new Repository(store, initialized.config, initialized.keys), pool, settings: config.repositories.main! }),
      update: () => {},
      close: async () => {},
    };
    for (const w of workers.splice(0)) await w.close(5_000);
    const keys = await mRedis.keys(`${mPrefix}:*`);
    if (keys.length) await mRedis.del(...keys);
    const provider = new MemoryVolumeProvider({ v: { data: new Uint8Array(1024) } }, { clock });
    workers.push(
      createFleetWorker({
        connection,
        redis: mRedis,
        prefix: mPrefix,
        config,
        provider,
        repositories,
        clock,
        log: silentLogger,
        metrics: createFleetMetrics(undefined, mPrefix),
        queues: ['retention'],
      }),
    );
    return store;
  };
  const run = async (attempt: string) => {
    const job = await retentionQueue.add(
      'retention',
      { v: 1, policy: 'm', volumeId: 'v', slot: slot(3), repository: 'main' },
      { jobId: `${volumeJobId('retention', 'm', 'v', slot(3))}-${attempt}` },
    );
    return (await job.waitUntilFinished(events, 30_000)) as RetentionJobResult;
  };
  const indexObjects = (store: MemoryBlobStore) => store.keys().filter((k) => k.startsWith('index/')).length;

  it('compacts the index at most once per interval', async () => {
    const store = await setUp(2, '1h');
    expect(indexObjects(store)).toBeGreaterThanOrEqual(3); // one per pack, as archives write them
    const first = await run('first');
    expect(first.compacted).toBe(true);
    expect(indexObjects(store)).toBe(1);
    // The volume's newest snapshot was assessed for locality: one small pack, nothing to move.
    expect(first.locality).toMatchObject({ volumeId: 'v', relocated: false, copiedBytes: 0 });
    const second = await run('second');
    expect(second.compacted).toBe(false); // an hour has not passed
  });

  it('skips a format-1 repository, which cannot be compacted before migrate, without failing the job', async () => {
    const store = await setUp(1, '1s');
    const before = indexObjects(store);
    const r = await run('v1');
    expect(r.compacted).toBe(false);
    expect(indexObjects(store)).toBe(before);
  });
});
