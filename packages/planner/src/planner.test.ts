/**
 * The planner against real BullMQ on Redis (this file's own prefix, removed afterwards) and an
 * in-memory provider: what a tick and an on-demand enqueue add, under which ids, what they
 * record, and which ticks fail for good. The clock is fixed; nothing waits on the real one but
 * BullMQ's own round trips.
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '@snapfleet/shared';
import { fleetConfigSchema, type FleetConfig, type FleetConfigInput } from '@snapfleet/shared/config';
import { silentLogger, slotFromTime, verifyJobId, volumeJobId } from '@snapfleet/shared/jobs';
import { MemoryVolumeProvider } from '@snapfleet/shared/testing';
import { readComplianceRecords } from '@snapfleet/providers/fleet';
import { createPlanner, type Planner } from './planner.js';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const NOW = new Date('2024-03-05T10:00:00Z');
const clock = { now: () => NOW };
const SLOT = slotFromTime(new Date('2024-03-05T02:00:00Z'));
const volume = (tags: string[]) => ({ data: new Uint8Array(4096), tags });

const configOf = (input: Partial<FleetConfigInput> = {}): FleetConfig =>
  fleetConfigSchema.parse({
    repositories: { main: { url: '/not-used', verify: { schedule: { every: '7d' }, readDataSubset: 25 } }, plain: { url: '/not-used-either' } },
    // A cron schedule whose next run is months away: reconciling adds no tick of its own.
    policies: [{ name: 'web', selector: { tags: ['web'] }, schedules: [{ cron: '0 2 1 1 *' }], repository: 'main' }],
    ...input,
  });

describe('planner', () => {
  const redis = new Redis(connection);
  const prefixes: string[] = [];
  const open: { close(): Promise<void> }[] = [];

  const setUp = (config = configOf(), provider = new MemoryVolumeProvider({ a: volume(['web']), b: volume(['web']), c: volume(['db']) }, { clock })) => {
    const prefix = `sf-test-planner-${process.pid}-${randomBytes(3).toString('hex')}`;
    prefixes.push(prefix);
    const queue = (name: string) => {
      const q = new Queue(name, { connection, prefix });
      open.push(q);
      return q;
    };
    const start = (opts: { processTicks?: boolean; manageSchedulers?: boolean } = {}): Planner => {
      const planner = createPlanner({ connection, prefix, config, provider, clock, log: silentLogger, processTicks: false, manageSchedulers: false, ...opts });
      open.push(planner);
      return planner;
    };
    return { prefix, provider, queue, start };
  };

  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });

  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
    redis.disconnect();
  });

  it("enqueues each covered volume's snapshot job under its slot's ids, once however often it is asked", async () => {
    const { prefix, queue, start } = setUp();
    const planner = start();
    await planner.start();
    const enqueued = await planner.enqueuePolicy('web', SLOT);
    expect(enqueued).toEqual(
      ['a', 'b'].map((v) => ({
        volumeId: v,
        snapshotJobId: volumeJobId('snapshot', 'web', v, SLOT),
        archiveJobId: volumeJobId('archive', 'web', v, SLOT),
        retentionJobId: volumeJobId('retention', 'web', v, SLOT),
      })),
    );
    await planner.enqueuePolicy('web', SLOT);
    const jobs = await queue('snapshot').getJobs(['waiting']);
    expect(jobs.map((j) => j.id).sort()).toEqual([volumeJobId('snapshot', 'web', 'a', SLOT), volumeJobId('snapshot', 'web', 'b', SLOT)]);
    expect(jobs.find((j) => j.data.volumeId === 'a')?.data).toEqual({ v: 1, policy: 'web', volumeId: 'a', slot: SLOT, repository: 'main' });
    expect(jobs[0]!.opts.attempts).toBe(configOf().fleet.jobs.attempts);
    // The volumes the policy covers are recorded for RPO compliance, at the planner's clock.
    const recorded = await readComplianceRecords(redis, prefix, ['web']);
    expect(recorded.covered.get('web')?.at).toBe(NOW.toISOString());
    expect([...recorded.covered.get('web')!.since.keys()].sort()).toEqual(['a', 'b']);
  });

  it("puts a volume's snapshot job in its region's queue when the fleet routes by region", async () => {
    const regions: Record<string, string> = { a: 'us-east-1', b: 'eu-west-1' };
    // The memory provider's volumes, each placed in a region as the AWS provider's discovery places them.
    class RegionalProvider extends MemoryVolumeProvider {
      override async discover(selector: Parameters<MemoryVolumeProvider['discover']>[0]) {
        return (await super.discover(selector)).map((v) => ({ ...v, region: regions[v.id]! }));
      }
    }
    const routed = configOf({ provider: { kind: 'aws', regions: ['us-east-1', 'eu-west-1'] }, fleet: { routing: { byRegion: true } } });
    const { queue, start } = setUp(routed, new RegionalProvider({ a: volume(['web']), b: volume(['web']) }, { clock }));
    const planner = start();
    await planner.start();
    const enqueued = await planner.enqueuePolicy('web', SLOT);
    expect(enqueued.map((e) => [e.volumeId, e.region])).toEqual([
      ['a', 'us-east-1'],
      ['b', 'eu-west-1'],
    ]);
    const east = await queue('snapshot-us-east-1').getJobs(['waiting']);
    expect(east.map((j) => j.data)).toEqual([{ v: 1, policy: 'web', volumeId: 'a', slot: SLOT, repository: 'main', region: 'us-east-1' }]);
    expect((await queue('snapshot-eu-west-1').getJobs(['waiting'])).map((j) => j.data.volumeId)).toEqual(['b']);
    expect(await queue('snapshot').getJobs(['waiting'])).toEqual([]);
  });

  it('enqueues only the volumes asked for, and refuses a volume or a policy it does not cover', async () => {
    const { prefix, queue, start } = setUp();
    const planner = start();
    expect((await planner.enqueuePolicy('web', SLOT, ['b'])).map((e) => e.volumeId)).toEqual(['b']);
    expect((await queue('snapshot').getJobs(['waiting'])).map((j) => j.data.volumeId)).toEqual(['b']);
    await expect(planner.enqueuePolicy('web', SLOT, ['b', 'c'])).rejects.toThrow(/does not cover volume\(s\) c/);
    await expect(planner.enqueuePolicy('nope', SLOT)).rejects.toBeInstanceOf(InvalidInputError);
    // A backup-now of chosen volumes is no full discovery: nothing is recorded as covered.
    expect((await readComplianceRecords(redis, prefix, ['web'])).covered.size).toBe(0);
  });

  it("enqueues a repository's verify once per slot with its read share, and refuses an unknown repository", async () => {
    const { queue, start } = setUp();
    const planner = start();
    expect(await planner.enqueueVerify('main', SLOT)).toBe(verifyJobId('main', SLOT));
    await planner.enqueueVerify('main', SLOT);
    expect(await planner.enqueueVerify('plain', SLOT)).toBe(verifyJobId('plain', SLOT));
    const jobs = await queue('verify').getJobs(['waiting']);
    expect(jobs.map((j) => j.data).sort((x, y) => x.repository.localeCompare(y.repository))).toEqual([
      { v: 1, repository: 'main', slot: SLOT, readDataSubset: 25 },
      { v: 1, repository: 'plain', slot: SLOT },
    ]);
    await expect(planner.enqueueVerify('elsewhere', SLOT)).rejects.toThrow(/repository elsewhere is not in the configuration/);
  });

  it('processes a tick into the slot it was planned for, whenever it runs', async () => {
    const { queue, start, prefix } = setUp();
    const planned = new Date('2024-03-05T02:00:00Z').getTime();
    await start({ processTicks: true }).start();
    const ticks = queue('tick');
    const events = new QueueEvents('tick', { connection, prefix });
    open.push(events);
    await events.waitUntilReady();
    const policyTick = await ticks.add('tick', { v: 1, kind: 'policy', policy: 'web' }, { timestamp: planned });
    expect(await policyTick.waitUntilFinished(events, 30_000)).toEqual({ policy: 'web', slot: SLOT, volumes: 2 });
    const verifyTick = await ticks.add('tick', { v: 1, kind: 'verify', repository: 'main' }, { timestamp: planned });
    expect(await verifyTick.waitUntilFinished(events, 30_000)).toEqual({ verify: verifyJobId('main', SLOT) });
    expect(await queue('snapshot').getJobCounts('waiting')).toEqual({ waiting: 2 });
  });

  it('fails a malformed tick or one of a policy no longer configured for good, and retries nothing', async () => {
    const { queue, start, prefix } = setUp();
    await start({ processTicks: true }).start();
    const ticks = queue('tick');
    const events = new QueueEvents('tick', { connection, prefix });
    open.push(events);
    await events.waitUntilReady();
    const malformed = await ticks.add('tick', { v: 1, kind: 'policy' }, { attempts: 3 });
    await expect(malformed.waitUntilFinished(events, 30_000)).rejects.toThrow(/malformed tick payload/);
    const stale = await ticks.add('tick', { v: 1, kind: 'policy', policy: 'removed' }, { attempts: 3 });
    await expect(stale.waitUntilFinished(events, 30_000)).rejects.toThrow(/invalid-input: policy removed is not in the configuration/);
    for (const job of [malformed, stale]) expect((await ticks.getJob(job.id!))?.attemptsMade).toBe(1);
  });

  it('reconciles schedulers and queue limits on start, and a reload switches policies and provider for the next enqueue', async () => {
    const config = configOf({ fleet: { queues: { archive: { globalConcurrency: 3 } } } });
    const { queue, start } = setUp(config);
    const planner = start({ manageSchedulers: true });
    await planner.start();
    const tickIds = async () => (await queue('tick').getJobSchedulers(0, -1)).map((s) => s.id ?? s.key).sort();
    expect(await tickIds()).toEqual(['tick-web-0', 'verify-main-0']);
    expect(await queue('archive').getGlobalConcurrency()).toBe(3);

    const next = configOf({ policies: [{ name: 'db', selector: { tags: ['db'] }, schedules: [{ cron: '0 3 1 1 *' }], repository: 'plain' }] });
    await planner.reconcile(next, new MemoryVolumeProvider({ d: volume(['db']) }, { clock }));
    expect(await tickIds()).toEqual(['tick-db-0', 'verify-main-0']);
    await expect(planner.enqueuePolicy('web', SLOT)).rejects.toThrow(/policy web is not in the configuration/);
    expect((await planner.enqueuePolicy('db', SLOT)).map((e) => e.volumeId)).toEqual(['d']);
  });

  it("caps every queue's events stream at fleet.jobs.keepEvents, however many jobs it adds", async () => {
    const volumes = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`v${i}`, volume(['web'])]));
    const { prefix, start } = setUp(configOf({ fleet: { jobs: { keepEvents: 50 } } }), new MemoryVolumeProvider(volumes, { clock }));
    const planner = start();
    await planner.start();
    expect(await planner.enqueuePolicy('web', SLOT)).toHaveLength(600);
    // Each Queue writes its cap as it connects; every one this planner made says the same.
    await vi.waitFor(async () => {
      for (const name of ['tick', 'verify', 'alert', 'retention', 'snapshot'])
        expect(await redis.hget(`${prefix}:${name}:meta`, 'opts.maxLenEvents')).toBe('50');
    });
    // The cap applies from the first add after the meta was written: a second slot's 600 adds
    // each trim (approximately: Redis drops whole nodes of up to 100 entries).
    expect(await planner.enqueuePolicy('web', slotFromTime(new Date('2024-03-06T02:00:00Z')))).toHaveLength(600);
    expect(await redis.xlen(`${prefix}:snapshot:events`)).toBeLessThanOrEqual(150);
    expect(await redis.xlen(`${prefix}:snapshot:events`)).toBeGreaterThanOrEqual(50);
  });
});
