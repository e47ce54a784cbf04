/**
 * The orphans rule's two processors called directly (orphans.test.ts runs them through the
 * worker's queue): which repository each orphan's job names, and the orphan jobs that find
 * nothing to do or have only provider snapshots. The records and the guard's accepted rules are
 * real keys in Redis under this file's own prefix (removed afterwards); the provider is in
 * memory and the clock is the test's.
 */
import { randomBytes } from 'node:crypto';
import { UnrecoverableError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetConfigSchema, type FleetConfig, type FleetConfigInput } from '@snapfleet/shared/config';
import { orphanGuardedRules } from '@snapfleet/shared/compliance';
import { complianceKey, orphanJobId, policyTag, retentionSubject, silentLogger, slotFromTime, slotTag } from '@snapfleet/shared/jobs';
import { canonicalRules } from '@snapfleet/shared/retention';
import { MemoryVolumeProvider } from '@snapfleet/shared/testing';
import { createComplianceRecorder, createRetentionGuardStore } from '@snapfleet/providers/fleet';
import type { FleetRepositories } from '../fleet-repositories.js';
import { createOrphanSweepProcessor } from './orphan-sweep.js';
import { createOrphanRetentionProcessor, type OrphanRetentionResult } from './orphan-retention.js';

const DAY = 86_400_000;
const NOW = new Date('2024-03-20T02:00:00Z');
const clock = { now: () => NOW };
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY);
const job = (name: string, data: unknown) => ({ id: `${name}-1`, name, data, opts: {} }) as unknown as Job;

const configOf = (input: Partial<FleetConfigInput>): FleetConfig =>
  fleetConfigSchema.parse({
    repositories: { main: { url: '/not-used' }, second: { url: '/not-used-either' } },
    policies: [{ name: 'p', selector: { ids: ['v'] }, schedules: [{ every: '1d' }], repository: 'main' }],
    ...input,
  });

describe('orphan processors', () => {
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  const prefixes: string[] = [];
  const newPrefix = () => {
    const prefix = `sf-test-orphan-proc-${process.pid}-${randomBytes(3).toString('hex')}`;
    prefixes.push(prefix);
    return prefix;
  };
  // No repository is opened by these jobs: each either names none or stops before opening it.
  const repositories: FleetRepositories = { open: async (name) => Promise.reject(new Error(`opened ${name}`)), update: () => {}, close: async () => {} };

  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
    redis.disconnect();
  });

  it("gives each due orphan a job naming its archive's repository, its policy's, or none when that is unknown", async () => {
    const prefix = newPrefix();
    const recorder = createComplianceRecorder(redis, prefix);
    await recorder.archived('p', 'v', { time: daysAgo(1).toISOString(), repository: 'main' });
    await recorder.archived('p', 'gone', { time: daysAgo(30).toISOString(), repository: 'second' });
    await recorder.archived('p', 'untold', { time: daysAgo(20).toISOString() });
    await recorder.archived('old', 'w', { time: daysAgo(10).toISOString() });
    await recorder.archived('old', 'recent', { time: daysAgo(2).toISOString() });
    await recorder.discovered('p', ['v'], daysAgo(0));
    const added: { name: string; data: unknown; opts?: { jobId?: string; attempts?: number } }[][] = [];
    const config = configOf({ orphans: { after: '7d', archiveTier: 'delete' } });
    const sweep = createOrphanSweepProcessor({
      config,
      clock,
      log: silentLogger,
      redis,
      prefix,
      retentionQueue: { addBulk: async (jobs) => (added.push(jobs as never), []) },
    });
    expect(await sweep(job('orphan-sweep', { v: 1 }))).toEqual({ due: 3, enqueued: 3, withoutRepository: 1 });
    // Oldest recovery point first; `recent` and the covered `v` are not due.
    const run = slotFromTime(NOW);
    expect(added.flat().map((j) => [j.name, j.opts?.jobId, j.data])).toEqual([
      ['orphan-retention', orphanJobId('p', 'gone', run), { v: 1, policy: 'p', volumeId: 'gone', repository: 'second' }],
      ['orphan-retention', orphanJobId('p', 'untold', run), { v: 1, policy: 'p', volumeId: 'untold', repository: 'main' }],
      ['orphan-retention', orphanJobId('old', 'w', run), { v: 1, policy: 'old', volumeId: 'w' }],
    ]);
    expect(added.flat()[0]!.opts?.attempts).toBe(config.fleet.jobs.attempts);
  });

  it('searches for nothing without an orphans rule, and refuses a malformed search', async () => {
    const prefix = newPrefix();
    const added: unknown[] = [];
    const sweep = createOrphanSweepProcessor({
      config: configOf({}),
      clock,
      log: silentLogger,
      redis,
      prefix,
      retentionQueue: { addBulk: async (jobs) => (added.push(jobs), []) },
    });
    expect(await sweep(job('orphan-sweep', { v: 1 }))).toEqual({ due: 0, enqueued: 0, withoutRepository: 0, skipped: 'the configuration has no orphans rule' });
    await expect(sweep(job('orphan-sweep', { v: 2 }))).rejects.toThrow(UnrecoverableError);
    expect(added).toEqual([]);
  });

  it("leaves a pair its policy covers again, or whose policy's discovery has not run, and one without a rule", async () => {
    const prefix = newPrefix();
    const recorder = createComplianceRecorder(redis, prefix);
    const provider = new MemoryVolumeProvider({ v: { data: new Uint8Array(4096) } }, { clock });
    provider.addSnapshot('v', daysAgo(30), [policyTag('p')]);
    const deps = { provider, repositories, clock, log: silentLogger, redis, prefix, recorder };
    const expire = createOrphanRetentionProcessor({ ...deps, config: configOf({ orphans: { snapshotTier: 'delete' } }) });
    const data = { v: 1, policy: 'p', volumeId: 'v', repository: 'main' };
    expect(await expire(job('orphan-retention', data))).toMatchObject({ skipped: 'the policy covers the volume again', removed: [], deletedSnapshots: [] });
    await recorder.discovered('p', ['v'], daysAgo(0));
    expect(await expire(job('orphan-retention', data))).toMatchObject({ skipped: 'the policy covers the volume again' });
    expect(await createOrphanRetentionProcessor({ ...deps, config: configOf({}) })(job('orphan-retention', data))).toMatchObject({
      skipped: 'the configuration has no orphans rule',
    });
    expect(provider.deleted).toEqual([]);
  });

  it("thins the provider snapshots of a removed policy's volume by the accepted rule, and keeps its records", async () => {
    const prefix = newPrefix();
    const recorder = createComplianceRecorder(redis, prefix);
    await recorder.archived('old', 'w', { time: daysAgo(10).toISOString() });
    const provider = new MemoryVolumeProvider({ w: { data: new Uint8Array(4096) } }, { clock });
    const refs = [12, 11, 10].map((d) => provider.addSnapshot('w', daysAgo(d), [policyTag('old'), slotTag(slotFromTime(daysAgo(d)))]));
    const config = configOf({ orphans: { snapshotTier: { keepLast: 1 } } });
    await createRetentionGuardStore(redis, prefix).accept(retentionSubject(), canonicalRules(orphanGuardedRules(config.orphans!)));
    const expire = createOrphanRetentionProcessor({ config, provider, repositories, clock, log: silentLogger, redis, prefix, recorder });
    const result = (await expire(job('orphan-retention', { v: 1, policy: 'old', volumeId: 'w' }))) as OrphanRetentionResult;
    expect(result).toEqual({
      policy: 'old',
      volumeId: 'w',
      removed: [],
      archivesLeft: 0,
      deletedSnapshots: [refs[1], refs[0]],
      snapshotsLeft: 1,
      forgotten: false,
    });
    expect(provider.deleted).toEqual([refs[1], refs[0]]);
    // No repository named: its archives are unknown, so the pair stays in the records.
    expect(await redis.hexists(complianceKey(prefix, 'archive'), JSON.stringify(['old', 'w']))).toBe(1);
  });
});
