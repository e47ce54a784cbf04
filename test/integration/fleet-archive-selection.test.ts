/**
 * Archive selection and snapshot-tier retention together, over seven slots, through the real
 * planner (enqueuePolicy: each volume's chain of jobs) and the real worker (snapshot, archive and
 * retention processors) against real Redis, with the in-memory provider that keeps its snapshots
 * as EBS does. Each slot's chain finishes before the next is enqueued, like daily ticks.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository, createInlineCodecPool, initRepository, type CodecPool } from '@snapfleet/shared';
import { fleetConfigSchema, type FleetConfig } from '@snapfleet/shared/config';
import { policyTag, silentLogger, slotFromTime, slotOfTags } from '@snapfleet/shared/jobs';
import { MemoryBlobStore, MemoryVolumeProvider } from '@snapfleet/shared/testing';
import { createPlanner, type Planner } from '@snapfleet/planner';
import { createFleetMetrics, createFleetWorker, readFleetMetrics, type FleetMetrics, type FleetRepositories, type FleetWorker } from '@snapfleet/worker';
import { deletePrefix, waitFor } from '../support/fleet.js';

const connection = { host: '127.0.0.1', port: 6379 };
const prefix = `sf-it-selection-${process.pid}-${randomBytes(3).toString('hex')}`;
const clock = { now: () => new Date() };
const SLOTS = 7;
const slotOf = (i: number) => slotFromTime(new Date(Date.UTC(2024, 0, 1 + i, 2)));

const config: FleetConfig = fleetConfigSchema.parse({
  fleet: { jobs: { attempts: 1 } },
  repositories: { main: { url: '/not-used' } },
  policies: [
    {
      name: 'nth',
      schedules: [{ every: '1d' }],
      repository: 'main',
      retention: {
        snapshotTier: { keepLast: 3 },
        archiveTier: { keepLast: 'unlimited' },
        archiveSelection: { mode: 'every-nth', n: 3 },
      },
    },
  ],
});

describe('every-nth archive selection with snapshot-tier retention', () => {
  const redis = new Redis({ ...connection, maxRetriesPerRequest: null });
  const store = new MemoryBlobStore();
  const provider = new MemoryVolumeProvider({ 'vol-a': { data: new Uint8Array(256 * 1024).fill(3) } }, { clock });
  const retention = new Queue('retention', { connection, prefix });
  const archive = new Queue('archive', { connection, prefix });
  let repo: Repository;
  let pool: CodecPool;
  let planner: Planner;
  let worker: FleetWorker;
  let metrics: FleetMetrics;

  beforeAll(async () => {
    const initialized = await initRepository(store, { encrypted: false });
    repo = initialized;
    pool = createInlineCodecPool(initialized.keys);
    const repositories: FleetRepositories = {
      open: async () => ({ repo: new Repository(store, initialized.config, initialized.keys), pool, settings: config.repositories.main! }),
      update: () => {},
      close: async () => {},
    };
    metrics = createFleetMetrics(redis, prefix);
    worker = createFleetWorker({
      connection: { ...connection, maxRetriesPerRequest: null },
      redis,
      prefix,
      config,
      provider,
      repositories,
      clock,
      log: silentLogger,
      metrics,
    });
    planner = createPlanner({ connection, prefix, config, provider, clock, log: silentLogger, processTicks: false, manageSchedulers: false });
    await planner.start();
  });

  afterAll(async () => {
    await planner?.close();
    await worker?.close(5_000);
    await Promise.all([retention.close(), archive.close()]);
    await deletePrefix(prefix);
    redis.disconnect();
  });

  it('archives slots 0, 3 and 6, skips the others, and deletes each provider snapshot once it is not needed', async () => {
    const outcomes: { slot: string; skipped: boolean; reason?: string; tierAfter: string[] }[] = [];
    for (let i = 0; i < SLOTS; i++) {
      const [flow] = await planner.enqueuePolicy('nth', slotOf(i));
      const state = await waitFor(
        `flow of slot ${i}`,
        async () => {
          const s = await retention.getJobState(flow!.retentionJobId);
          return s === 'completed' || s === 'failed' ? s : undefined;
        },
        30_000,
        50,
      );
      expect(state, (await retention.getJob(flow!.retentionJobId))?.failedReason).toBe('completed');
      const result = (await archive.getJob(flow!.archiveJobId))!.returnvalue as { skipped?: boolean; reason?: string };
      const tierAfter = (await provider.listSnapshots('vol-a', [policyTag('nth')])).map((s) => slotOfTags(s.tags)!);
      outcomes.push({ slot: slotOf(i), skipped: !!result.skipped, ...(result.reason ? { reason: result.reason } : {}), tierAfter });
    }
    expect(outcomes.map((o) => o.skipped)).toEqual([false, true, true, false, true, true, false]);
    expect(outcomes[1]!.reason).toBe('every-nth: 0 snapshots since the last archived (n=3)');
    expect(outcomes[5]!.reason).toBe('every-nth: 1 snapshots since the last archived (n=3)');
    // The repository holds exactly the selected slots.
    const archived = (await repo.listSnapshots()).map((e) => slotOfTags(e.snapshot.tags));
    expect(archived).toEqual([slotOf(0), slotOf(3), slotOf(6)]);
    // keepLast 3: from slot 3 on, each retention deletes the oldest snapshot (archived, or its
    // archive skipped), so the tier always holds the three newest.
    expect(outcomes.map((o) => o.tierAfter.length)).toEqual([1, 2, 3, 3, 3, 3, 3]);
    expect(outcomes[6]!.tierAfter).toEqual([slotOf(4), slotOf(5), slotOf(6)]);
    expect(provider.deleted).toHaveLength(4);
    await metrics.flush(); // the fleet's counters are sent once a second
    const counted = await readFleetMetrics(redis, prefix);
    expect(counted.archivesSkipped).toBe(4);
    expect(counted.jobsCompleted.archive).toBe(SLOTS);
  });
});
