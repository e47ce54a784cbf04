/**
 * The policy's `replicate` stage through the real retention processor (inside createFleetWorker)
 * against real Redis: after each archive, the retention job copies the volume's new snapshots of
 * the policy into the replica repository (same ids, restorable there), applies the replica's own
 * rules, and copies nothing twice.
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository, archiveVolume, createInlineCodecPool, initRepository, restoreSnapshot, type CodecPool } from '@snapfleet/shared';
import { fleetConfigSchema, type FleetConfig } from '@snapfleet/shared/config';
import { policyTag, silentLogger, slotFromTime, slotTag } from '@snapfleet/shared/jobs';
import { MemoryBlobStore, MemoryVolumeProvider, MemoryVolumeSource, MemoryVolumeTarget, sha256Hex } from '@snapfleet/shared/testing';
import { createFleetWorker, type FleetWorker } from '../fleet-worker.js';
import { createFleetMetrics } from '../fleet-metrics.js';
import type { FleetRepositories } from '../fleet-repositories.js';
import type { RetentionJobResult } from './retention-processor.js';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const prefix = `sf-test-replicate-${process.pid}-${randomBytes(3).toString('hex')}`;
const redis = new Redis(connection);
const clock = { now: () => new Date('2024-03-20T00:00:00Z') };
const slot = (day: number) => slotFromTime(new Date(Date.UTC(2024, 2, day, 2)));

const config: FleetConfig = fleetConfigSchema.parse({
  repositories: { main: { url: '/not-used' }, replica: { url: '/not-used-either' } },
  policies: [
    {
      name: 'p',
      schedules: [{ every: '1d' }],
      repository: 'main',
      replicate: { repository: 'replica', retention: { keepLast: 2 } },
    },
  ],
});

describe('replicate stage', () => {
  const primaryStore = new MemoryBlobStore('main');
  const replicaStore = new MemoryBlobStore('replica');
  const provider = new MemoryVolumeProvider({}, { clock });
  const retentionQueue = new Queue('retention', { connection, prefix });
  const events = new QueueEvents('retention', { connection, prefix });
  let primary: Repository;
  let replica: Repository;
  let primaryPool: CodecPool;
  let replicaPool: CodecPool;
  let worker: FleetWorker;
  const hashes = new Map<string, string>();

  const archiveDay = async (day: number) => {
    const data = new Uint8Array(256 * 1024).fill(day);
    data.set(randomBytes(4096), 0);
    const parent = (await primary.listVolumeSnapshots('v')).at(-1);
    const r = await archiveVolume(primary, primaryPool, {
      volumeId: 'v',
      source: new MemoryVolumeSource(data),
      time: new Date(Date.UTC(2024, 2, day, 2)),
      clock,
      tags: [policyTag('p'), slotTag(slot(day))],
      ...(parent ? { parent } : {}),
    });
    hashes.set(r.id, sha256Hex(data));
    return r.id;
  };
  let runs = 0;
  const runRetention = async (day: number): Promise<RetentionJobResult> => {
    // A job id of its own each time: BullMQ answers a known id with the job that already ran.
    const job = await retentionQueue.add(
      'retention',
      { v: 1, policy: 'p', volumeId: 'v', slot: slot(day), repository: 'main' },
      { jobId: `retention-${day}-${++runs}` },
    );
    return (await job.waitUntilFinished(events, 30_000)) as RetentionJobResult;
  };

  beforeAll(async () => {
    primary = await initRepository(primaryStore, { encrypted: true, password: 'primary' });
    replica = await initRepository(replicaStore, { encrypted: true, password: 'replica', copyIdKeyFrom: primary });
    primaryPool = createInlineCodecPool(primary.keys);
    replicaPool = createInlineCodecPool(replica.keys);
    const repositories: FleetRepositories = {
      open: async (name) =>
        name === 'main'
          ? { repo: new Repository(primaryStore, primary.config, primary.keys), pool: primaryPool, settings: config.repositories.main! }
          : { repo: new Repository(replicaStore, replica.config, replica.keys), pool: replicaPool, settings: config.repositories.replica! },
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
    await Promise.all([retentionQueue.close(), events.close()]);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });

  it("copies each new snapshot into the replica, keeps its ids there, and applies the replica's rules", async () => {
    const first = await archiveDay(1);
    const second = await archiveDay(2);
    const one = await runRetention(2);
    expect(one.replication).toMatchObject({ repository: 'replica', copied: [first, second], removed: [] });
    expect(one.replication!.bytes).toBeGreaterThan(0);

    // Nothing new: nothing copied.
    const idle = await runRetention(2);
    expect(idle.replication).toMatchObject({ copied: [], bytes: 0, removed: [] });

    // A third day: only it travels; the replica keeps its last 2 (the primary keeps all three).
    const third = await archiveDay(3);
    const two = await runRetention(3);
    expect(two.replication).toMatchObject({ copied: [third], removed: [first] });
    const there = await replica.listVolumeSnapshots('v');
    expect(there.map((e) => e.id)).toEqual([second, third]);
    expect((await primary.listVolumeSnapshots('v')).length).toBe(3);
    for (const entry of there) {
      const target = new MemoryVolumeTarget();
      await restoreSnapshot(replica, replicaPool, { snapshot: entry, target });
      expect(sha256Hex(target.data)).toBe(hashes.get(entry.id));
    }

    // Forward only: the snapshot the replica's rules removed is not copied back.
    const again = await runRetention(3);
    expect(again.replication).toMatchObject({ copied: [], removed: [] });
  });
});
