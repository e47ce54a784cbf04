/**
 * The restore-drill processor called directly: the volumes to drill come from real compliance
 * records in Redis (this file's own prefix, removed afterwards); the repository is in memory and
 * the scratch copies are the provider's, in memory, or scratch files in a temporary directory.
 * The clock and the random choice are the test's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { PermanentError, Repository, archiveVolume, createInlineCodecPool, initRepository, type ScratchTarget, type ScratchTargets } from '@snapfleet/shared';
import { fleetConfigSchema, type FleetConfig } from '@snapfleet/shared/config';
import { policyTag, silentLogger, type Alert } from '@snapfleet/shared/jobs';
import { MemoryBlobStore, MemoryVolumeProvider, MemoryVolumeSource, MemoryVolumeTarget } from '@snapfleet/shared/testing';
import { createComplianceRecorder, readComplianceRecords } from '@snapfleet/providers/fleet';
import type { FleetRepositories } from '../fleet-repositories.js';
import { createDrillProcessor, type DrillOutcome } from './drill-processor.js';

const HOUR = 3_600_000;
const NOW = new Date('2024-03-10T12:00:00Z');
const clock = { now: () => NOW };
const job = (policy: string) => ({ id: `drill-${policy}`, name: 'drill', data: { v: 1, policy }, opts: {} }) as unknown as Job;

/** A provider's scratch copies in memory; what the drill reads back can be damaged, and dispose made to fail. */
class ScratchProvider extends MemoryVolumeProvider {
  readonly disposed: string[] = [];
  readonly sweeps: Date[] = [];
  damageReadBack = false;
  disposeError: string | undefined;
  readonly scratch: ScratchTargets = {
    create: async (request): Promise<ScratchTarget> => {
      const target = new MemoryVolumeTarget();
      return {
        target,
        readBack: async () => {
          const data = target.data.slice();
          if (this.damageReadBack) data[100]! ^= 0xff;
          return new MemoryVolumeSource(data);
        },
        dispose: async () => {
          if (this.disposeError) throw new Error(this.disposeError);
          this.disposed.push(request.snapshotId);
        },
      };
    },
    sweep: async (before) => {
      this.sweeps.push(before);
      return 0;
    },
  };
}

const configOf = (drill: object | undefined): FleetConfig =>
  fleetConfigSchema.parse({
    repositories: { main: { url: '/not-used' } },
    policies: [{ name: 'p', schedules: [{ every: '1d' }], repository: 'main', ...(drill ? { drill: { schedule: { every: '7d' }, ...drill } } : {}) }],
  });

describe('drill processor', () => {
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  const prefixes: string[] = [];
  const dirs: string[] = [];

  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    redis.disconnect();
  });

  /** Volume v has one archived snapshot under policy p; w is covered but has none yet. */
  const setUp = async (config: FleetConfig) => {
    const prefix = `sf-test-drill-proc-${process.pid}-${randomBytes(3).toString('hex')}`;
    prefixes.push(prefix);
    const store = new MemoryBlobStore();
    const initialized = await initRepository(store, { encrypted: false });
    const pool = createInlineCodecPool(initialized.keys);
    const repo = new Repository(store, initialized.config, initialized.keys);
    const data = new Uint8Array(128 * 1024).map((_, i) => (i * 7) & 0xff);
    const { id } = await archiveVolume(repo, pool, {
      volumeId: 'v',
      source: new MemoryVolumeSource(data),
      time: new Date(NOW.getTime() - 10 * HOUR),
      clock,
      tags: [policyTag('p')],
    });
    const repositories: FleetRepositories = {
      open: async () => ({ repo, pool, settings: config.repositories.main! }),
      update: () => {},
      close: async () => {},
    };
    const recorder = createComplianceRecorder(redis, prefix);
    await recorder.discovered('p', ['v', 'w'], new Date(NOW.getTime() - 48 * HOUR));
    const provider = new ScratchProvider({ v: { data }, w: { data } }, { clock });
    const alerts: Alert[] = [];
    const runDrill = createDrillProcessor({
      config,
      provider,
      repositories,
      clock,
      log: silentLogger,
      redis,
      prefix,
      recorder,
      alerts: { send: async (a) => (alerts.push(a), 1) },
      random: () => 0,
    });
    const lastDrill = async () => (await readComplianceRecords(redis, prefix, ['p'])).records.find((r) => r.volumeId === 'v')?.lastDrill;
    return { snapshotId: id, provider, alerts, runDrill, lastDrill };
  };

  it("restores a snapshot into the provider's scratch copy, checks it, deletes the copy and records the drill", async () => {
    const { snapshotId, provider, alerts, runDrill, lastDrill } = await setUp(configOf({ target: 'provider', sweepAfter: '12h', volumes: 2 }));
    const result = (await runDrill(job('p'))) as { policy: string; drills: DrillOutcome[] };
    // w has nothing archived yet: only v is drilled, although two volumes were asked for.
    expect(result.drills).toEqual([
      { volumeId: 'v', at: NOW.toISOString(), snapshotId, ok: true, rtoSeconds: expect.any(Number), checkedChunks: expect.any(Number) },
    ]);
    expect(result.drills[0]!.checkedChunks).toBeGreaterThan(0);
    expect(provider.disposed).toEqual([snapshotId]);
    // Copies older than sweepAfter that earlier drills left behind are swept first.
    expect(provider.sweeps).toEqual([new Date(NOW.getTime() - 12 * HOUR)]);
    expect(await lastDrill()).toMatchObject({ at: NOW.toISOString(), snapshotId, ok: true });
    expect(alerts).toEqual([]);
  });

  it('restores into a scratch file and removes it afterwards', async () => {
    const scratchDir = await mkdtemp(join(tmpdir(), 'sf-drill-proc-'));
    dirs.push(scratchDir);
    const { runDrill, lastDrill } = await setUp(configOf({ target: 'file', scratchDir }));
    const result = (await runDrill(job('p'))) as { drills: DrillOutcome[] };
    expect(result.drills.map((d) => [d.volumeId, d.ok])).toEqual([['v', true]]);
    expect(await readdir(scratchDir)).toEqual([]);
    expect(await lastDrill()).toMatchObject({ ok: true });
  });

  it('fails the job, records the failure and alerts when what is read back differs from the snapshot', async () => {
    const { snapshotId, provider, alerts, runDrill, lastDrill } = await setUp(configOf({ target: 'provider' }));
    provider.damageReadBack = true;
    await expect(runDrill(job('p'))).rejects.toThrow(PermanentError);
    const recorded = await lastDrill();
    expect(recorded).toMatchObject({ ok: false, snapshotId });
    expect(recorded?.message).toMatch(/^1 of \d+ chunks read back differ from the snapshot \(first at byte 0\)$/);
    expect(alerts.map((a) => [a.event, a.policy, a.volumeId])).toEqual([['drill-failed', 'p', 'v']]);
    // The scratch copy is deleted even though the drill failed.
    expect(provider.disposed).toEqual([snapshotId]);
  });

  it('fails a passing drill whose scratch copy could not be deleted, and one whose provider makes no copies', async () => {
    const kept = await setUp(configOf({ target: 'provider' }));
    kept.provider.disposeError = 'snapshot snap-9 could not be deleted';
    await expect(kept.runDrill(job('p'))).rejects.toThrow(/the restore and its check passed, but snapshot snap-9 could not be deleted/);
    expect(kept.alerts.map((a) => a.event)).toEqual(['drill-failed']);

    const plain = await setUp(configOf({ target: 'provider' }));
    Object.defineProperty(plain.provider, 'scratch', { value: undefined });
    await expect(plain.runDrill(job('p'))).rejects.toThrow(/the memory provider makes no scratch copies/);
    expect(await plain.lastDrill()).toMatchObject({ ok: false });
  });

  it('skips a policy without a drill and refuses one not configured', async () => {
    const { runDrill, lastDrill } = await setUp(configOf(undefined));
    expect(await runDrill(job('p'))).toEqual({ policy: 'p', skipped: 'the policy has no drill' });
    expect(await lastDrill()).toBeUndefined();
    await expect(runDrill(job('other'))).rejects.toThrow(/policy other is not in this worker's configuration/);
  });
});
