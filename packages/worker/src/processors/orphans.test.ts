/**
 * Orphans and held retention changes through the real retention-queue processors (inside
 * createFleetWorker: lock, routing by job name, error handling) against real Redis: the
 * compliance records the search reads and the guard's accepted rules are real keys under this
 * test's own prefix. The repository and the provider are in memory; the clock is the test's.
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository, archiveVolume, createInlineCodecPool, initRepository, type CodecPool } from '@snapfleet/shared';
import { fleetConfigSchema, type FleetConfigInput } from '@snapfleet/shared/config';
import { orphanGuardedRules } from '@snapfleet/shared/compliance';
import { orphanJobId, policyTag, retentionSubject, silentLogger, slotFromTime, slotTag, volumeJobId } from '@snapfleet/shared/jobs';
import { canonicalRules } from '@snapfleet/shared/retention';
import { MemoryBlobStore, MemoryVolumeProvider, MemoryVolumeSource } from '@snapfleet/shared/testing';
import { createComplianceRecorder, createRetentionGuardStore, readComplianceRecords } from '@snapfleet/providers/fleet';
import { createFleetWorker, type FleetWorker } from '../fleet-worker.js';
import { createFleetMetrics } from '../fleet-metrics.js';
import type { FleetRepositories } from '../fleet-repositories.js';
import type { RetentionJobResult } from './retention-processor.js';
import type { OrphanSweepResult } from './orphan-sweep.js';
import type { OrphanRetentionResult } from './orphan-retention.js';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const prefix = `sf-test-orphans-${process.pid}-${randomBytes(3).toString('hex')}`;
const redis = new Redis(connection);
const DAY = 86_400_000;
/** Day d of March 2024, 02:00 UTC. */
const day = (d: number) => new Date(Date.UTC(2024, 2, d, 2));
let nowMs = day(20).getTime();
const clock = { now: () => new Date(nowMs) };

const keepLast = (archive: number | 'unlimited'): FleetConfigInput['policies'] => [
  {
    name: 'p',
    selector: { ids: ['v'] },
    schedules: [{ every: '1d' }],
    repository: 'main',
    retention: { snapshotTier: { keepLast: 'unlimited' }, archiveTier: { keepLast: archive } },
  },
];
// Alerts go to a port nothing listens on: the test counts the deliveries enqueued, not sent.
const alerts = { targets: [{ name: 'ops', kind: 'webhook' as const, url: 'http://127.0.0.1:9/alerts' }] };
const configOf = (input: Partial<FleetConfigInput>) =>
  fleetConfigSchema.parse({ repositories: { main: { url: '/not-used' } }, policies: keepLast('unlimited'), alerts, ...input });

describe('retention changes and orphans on the retention queue', () => {
  const store = new MemoryBlobStore();
  const provider = new MemoryVolumeProvider({ v: { data: new Uint8Array(4096) }, gone: { data: new Uint8Array(4096) } }, { clock });
  const retentionQueue = new Queue('retention', { connection, prefix });
  const alertQueue = new Queue('alert', { connection, prefix });
  const heldAlerts = async () =>
    (await alertQueue.getJobs(['waiting', 'delayed', 'active', 'failed', 'completed']))
      .filter((j) => j.data?.alert?.event === 'retention-held')
      .map((j) => String(j.data.alert.details.subject))
      .sort();
  const events = new QueueEvents('retention', { connection, prefix });
  const guards = createRetentionGuardStore(redis, prefix);
  const recorder = createComplianceRecorder(redis, prefix);
  let repo: Repository;
  let pool: CodecPool;
  let worker: FleetWorker;
  let runs = 0;

  const archive = async (policy: string, volumeId: string, d: number) => {
    const source = new MemoryVolumeSource(new Uint8Array(16 * 1024).fill(d));
    const report = await archiveVolume(repo, pool, { volumeId, source, time: day(d), clock, tags: [policyTag(policy), slotTag(slotFromTime(day(d)))] });
    return report.id;
  };
  const countOf = async (policy: string, volumeId: string) =>
    (await repo.listVolumeSnapshots(volumeId)).filter((e) => e.snapshot.tags.includes(policyTag(policy))).length;
  const runRetention = async (): Promise<RetentionJobResult> => {
    const slot = slotFromTime(day(19));
    const job = await retentionQueue.add(
      'retention',
      { v: 1, policy: 'p', volumeId: 'v', slot, repository: 'main' },
      { jobId: `${volumeJobId('retention', 'p', 'v', slot)}-${++runs}` },
    );
    return (await job.waitUntilFinished(events, 30_000)) as RetentionJobResult;
  };
  const sweep = async (): Promise<OrphanRetentionResult[]> => {
    nowMs += 60_000; // a new search: new job ids
    const job = await retentionQueue.add('orphan-sweep', { v: 1 }, { jobId: `sweep-${++runs}` });
    const result = (await job.waitUntilFinished(events, 30_000)) as OrphanSweepResult;
    const run = slotFromTime(clock.now());
    const out: OrphanRetentionResult[] = [];
    for (const [policy, volumeId] of [
      ['p', 'gone'],
      ['old', 'w'],
    ] as const) {
      const child = await retentionQueue.getJob(orphanJobId(policy, volumeId, run));
      expect(child, `orphan job of ${policy}/${volumeId}`).toBeDefined();
      out.push((await child!.waitUntilFinished(events, 30_000)) as OrphanRetentionResult);
    }
    expect(result).toMatchObject({ due: 2, enqueued: 2, withoutRepository: 0 });
    return out;
  };

  beforeAll(async () => {
    const initialized = await initRepository(store, { encrypted: false });
    pool = createInlineCodecPool(initialized.keys);
    repo = new Repository(store, initialized.config, initialized.keys);
    for (let d = 1; d <= 8; d++) await archive('p', 'v', d);
    // `gone` left policy p (its selector names only v); `w` was under policy `old`, since removed.
    for (let d = 1; d <= 4; d++) await archive('p', 'gone', d);
    const wIds = [await archive('old', 'w', 1), await archive('old', 'w', 2)];
    for (let d = 1; d <= 4; d++) provider.addSnapshot('gone', day(d), [policyTag('p'), slotTag(slotFromTime(day(d)))]);
    await recorder.archived('p', 'v', { time: day(8).toISOString(), repository: 'main' });
    await recorder.archived('p', 'gone', { time: day(4).toISOString(), repository: 'main' });
    await recorder.archived('old', 'w', { time: day(2).toISOString(), id: wIds[1]!, repository: 'main' });
    await recorder.discovered('p', ['v'], day(19));
    const repositories: FleetRepositories = {
      open: async () => ({ repo: new Repository(store, initialized.config, initialized.keys), pool, settings: configOf({}).repositories.main! }),
      update: () => {},
      close: async () => {},
    };
    worker = createFleetWorker({
      connection,
      redis,
      prefix,
      config: configOf({}),
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
    await Promise.all([retentionQueue.close(), alertQueue.close(), events.close()]);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });

  it('accepts the rules a policy is first seen with, and applies a change within the share at once', async () => {
    expect((await runRetention()).removed).toEqual([]);
    expect(await guards.accepted(retentionSubject('p'))).not.toBeNull();
    // keepLast 7 of 8: one more snapshot deleted, 12.5% <= 25%.
    worker.reload(configOf({ policies: keepLast(7) }), provider);
    expect((await runRetention()).removed).toHaveLength(1);
    expect(await countOf('p', 'v')).toBe(7);
    expect(await guards.listHeld()).toEqual([]);
  });

  it('holds a change that would delete more than maxShare of the history until it is confirmed', async () => {
    // keepLast 2 against the accepted "unlimited": 5 of 7 (71%) more.
    const tightened = configOf({ policies: keepLast(2) });
    worker.reload(tightened, provider);
    expect((await runRetention()).removed).toEqual([]);
    expect(await countOf('p', 'v')).toBe(7);
    expect(await guards.listHeld()).toEqual([
      expect.objectContaining({ subject: 'policy/p', policy: 'p', volumeId: 'v', tier: 'archive', total: 7, extra: 5 }),
    ]);
    expect(await heldAlerts()).toEqual(['policy/p']);
    // Confirmed (what `snapfleet retention confirm --policy p` stores): the next job applies it.
    expect(
      await guards.accept(retentionSubject('p'), canonicalRules({ archive: { keepLast: 2, timeZone: 'UTC' }, snapshot: { keepLast: -1, timeZone: 'UTC' } })),
    ).toBe(1);
    expect(await guards.listHeld()).toEqual([]);
    expect((await runRetention()).removed).toHaveLength(5);
    expect(await countOf('p', 'v')).toBe(2);
  });

  it('a raised maxShare lets the same kind of change through unconfirmed', async () => {
    worker.reload(configOf({ policies: keepLast(1), retentionGuard: { maxShare: 1 } }), provider);
    expect((await runRetention()).removed).toHaveLength(1);
  });

  it('expires nothing of orphans without an orphans rule, and a search finds nothing to do', async () => {
    worker.reload(configOf({ policies: keepLast(1) }), provider);
    const job = await retentionQueue.add('orphan-sweep', { v: 1 }, { jobId: `sweep-${++runs}` });
    expect(await job.waitUntilFinished(events, 30_000)).toMatchObject({ due: 0, enqueued: 0, skipped: 'the configuration has no orphans rule' });
    expect(await countOf('p', 'gone')).toBe(4);
    expect(await countOf('old', 'w')).toBe(2);
  });

  it('holds an unconfirmed orphans rule that deletes more than maxShare, then expires both tiers once confirmed', async () => {
    const orphans = { after: '7d', archiveTier: 'delete' as const, snapshotTier: 'delete' as const };
    const config = configOf({ policies: keepLast(1), orphans });
    worker.reload(config, provider);
    const held = await sweep();
    expect(held.map((r) => [r.removed.length, r.archivesLeft, r.deletedSnapshots.length, r.snapshotsLeft, r.forgotten])).toEqual([
      // p's accepted keepLast 2 would delete 2 of gone's 4 archives anyway: those go.
      [2, 2, 0, 4, false],
      [0, 2, 0, 0, false],
    ]);
    // Three holds of one subject: one alert (and the policy's from before).
    expect(await heldAlerts()).toEqual(['orphans', 'policy/p']);
    expect(
      (await guards.listHeld())
        .filter((h) => h.subject === 'orphans')
        .map((h) => `${h.policy}/${h.volumeId}/${h.tier}`)
        .sort(),
    ).toEqual(['old/w/archive', 'p/gone/archive', 'p/gone/snapshot']);

    await guards.accept(retentionSubject(), canonicalRules(orphanGuardedRules(config.orphans!)));
    const expired = await sweep();
    expect(expired.map((r) => [r.removed.length, r.archivesLeft, r.deletedSnapshots.length, r.snapshotsLeft, r.forgotten])).toEqual([
      [2, 0, 4, 0, true],
      [2, 0, 0, 0, true],
    ]);
    expect(await countOf('p', 'gone')).toBe(0);
    expect(await countOf('old', 'w')).toBe(0);
    expect(await provider.listSnapshots('gone', [policyTag('p')])).toEqual([]);
    // The covered volume is untouched, and the expired pairs left the records status reads.
    expect(await countOf('p', 'v')).toBe(1);
    const records = (await readComplianceRecords(redis, prefix, ['p'])).records.map((r) => `${r.policy}/${r.volumeId}`);
    expect(records).toEqual(['p/v']);
    expect(await guards.listHeld()).toEqual([]);
  });

  it('leaves an orphan whose newest recovery point is younger than `after` alone', async () => {
    await recorder.archived('p', 'gone', { time: new Date(nowMs - DAY).toISOString(), repository: 'main' });
    const job = await retentionQueue.add('orphan-sweep', { v: 1 }, { jobId: `sweep-${++runs}` });
    const result = await job.waitUntilFinished(events, 30_000);
    expect(result).toMatchObject({ due: 0, enqueued: 0 });
  });
});
