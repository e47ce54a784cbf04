/**
 * The volume chain's processors alone (snapshot, archive) and verify, called directly with a
 * stand-in for the BullMQ job, over in-memory ports: a provider that keeps snapshots, a
 * repository in memory, a fixed clock and a recording job chain. No queue or Redis is involved;
 * what the queue adds (locks, error classification, retries) is tested with createFleetWorker.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { describe, expect, it, vi } from 'vitest';
import { CorruptDataError, NotFoundError, PermanentError, Repository, createInlineCodecPool, initRepository } from '@snapfleet/shared';
import { fleetConfigSchema, type FleetConfig, type FleetConfigInput } from '@snapfleet/shared/config';
import { policyTag, silentLogger, slotFromTime, slotTag, type VolumeJob } from '@snapfleet/shared/jobs';
import { MemoryBlobStore, MemoryVolumeProvider, type MemoryVolumeProviderOptions } from '@snapfleet/shared/testing';
import { createFleetMetrics } from '../fleet-metrics.js';
import type { FleetRepositories } from '../fleet-repositories.js';
import type { JobChain } from '../job-chain.js';
import type { ProcessorDeps } from './processor-deps.js';
import { createSnapshotProcessor } from './snapshot-processor.js';
import { createArchiveProcessor, type ArchiveJobResult } from './archive-processor.js';
import { createVerifyProcessor } from './verify-processor.js';

const NOW = new Date('2024-03-05T10:00:00Z');
const clock = { now: () => NOW };
/** Day d of March 2024, 02:00 UTC. */
const slot = (d: number) => slotFromTime(new Date(Date.UTC(2024, 2, d, 2)));
const payload = (d: number, extra: Partial<VolumeJob> = {}): VolumeJob => ({ v: 1, policy: 'p', volumeId: 'v', slot: slot(d), repository: 'main', ...extra });

/** The parts of a BullMQ job the processors use; the calls are recorded. */
function fakeJob(data: unknown, id = 'job-1', children: Record<string, unknown> = {}) {
  const job = {
    id,
    name: 'test',
    data,
    opts: {},
    moveToDelayed: vi.fn(async () => {}),
    updateProgress: vi.fn(async () => {}),
    getChildrenValues: vi.fn(async () => children),
  };
  return Object.assign(job, { asJob: job as unknown as Job });
}

function recordingChain() {
  const calls: { stage: 'archive' | 'retention'; payload: VolumeJob; ref?: string }[] = [];
  const chain: JobChain = {
    archiveAfter: async (p, ref) => void calls.push({ stage: 'archive', payload: p, ref }),
    retentionAfter: async (p) => void calls.push({ stage: 'retention', payload: p }),
  };
  return { chain, calls };
}

const configOf = (policy: Partial<NonNullable<FleetConfigInput['policies']>[number]> = {}): FleetConfig =>
  fleetConfigSchema.parse({
    repositories: { main: { url: '/not-used' } },
    policies: [{ name: 'p', schedules: [{ every: '1d' }], repository: 'main', tags: ['team=a'], ...policy }],
    fleet: { worker: { snapshotPollInterval: '45s' } },
  });

/** A volume of 4 blocks of 64 KiB, each different, so archives store something. */
function volumeData(fill: number): Uint8Array {
  const data = new Uint8Array(256 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + fill) & 0xff;
  return data;
}

async function world(config = configOf(), providerOptions: Partial<MemoryVolumeProviderOptions> = {}) {
  const store = new MemoryBlobStore();
  const initialized = await initRepository(store, { encrypted: false });
  const pool = createInlineCodecPool(initialized.keys);
  const repo = () => new Repository(store, initialized.config, initialized.keys);
  const repositories: FleetRepositories = {
    open: async (name) => {
      if (name !== 'main') throw new NotFoundError(`repository ${name} is not configured`);
      return { repo: repo(), pool, settings: config.repositories.main! };
    },
    update: () => {},
    close: async () => {},
  };
  const provider = new MemoryVolumeProvider({ v: { data: volumeData(1) } }, { clock, ...providerOptions });
  const { chain, calls } = recordingChain();
  const metrics = createFleetMetrics(undefined, 'unit');
  const deps: ProcessorDeps = { config, provider, repositories, clock, log: silentLogger, metrics, locks: { tryAcquire: async () => undefined }, chain };
  return { store, repo, provider, deps, calls, metrics };
}

const counter = async (metrics: ReturnType<typeof createFleetMetrics>, name: string) =>
  (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)?.values.map((v) => [v.labels.kind ?? '', v.value]);

describe('snapshot processor', () => {
  it('snapshots the volume tagged with policy, slot and the policy tags, once per job id, and adds the archive job', async () => {
    const { provider, deps, calls } = await world();
    const run = createSnapshotProcessor(deps);
    const job = fakeJob(payload(5), 'snapshot-p-v-1');
    const first = await run(job.asJob);
    const again = await run(job.asJob);
    expect(first).toEqual({ ref: expect.any(String), volumeId: 'v' });
    expect(again).toEqual(first);
    const listed = await provider.listSnapshots('v', []);
    expect(listed).toHaveLength(1);
    expect(listed[0]!.tags).toEqual([policyTag('p'), slotTag(slot(5)), 'team=a']);
    const ref = (first as { ref: string }).ref;
    expect(calls).toEqual([
      { stage: 'archive', payload: payload(5), ref },
      { stage: 'archive', payload: payload(5), ref },
    ]);
  });

  it('re-delays the job by the poll interval while the snapshot is pending, and adds nothing', async () => {
    const { deps, calls } = await world(configOf(), { initialState: 'pending' });
    const job = fakeJob(payload(5));
    await expect(createSnapshotProcessor(deps)(job.asJob, 'token-1')).rejects.toBeInstanceOf(DelayedError);
    expect(job.moveToDelayed).toHaveBeenCalledWith(NOW.getTime() + 45_000, 'token-1');
    expect(calls).toEqual([]);
  });

  it('fails for good on a snapshot the provider failed, an unknown policy or a malformed payload', async () => {
    const { deps, calls } = await world(configOf(), { initialState: 'error' });
    const run = createSnapshotProcessor(deps);
    await expect(run(fakeJob(payload(5)).asJob)).rejects.toThrow(PermanentError);
    await expect(run(fakeJob(payload(5, { policy: 'gone' })).asJob)).rejects.toThrow(/policy gone is not in this worker's configuration/);
    await expect(run(fakeJob({ v: 1, policy: 'p' }).asJob)).rejects.toThrow(UnrecoverableError);
    expect(calls).toEqual([]);
  });
});

describe('archive processor', () => {
  it('archives the named snapshot with its tags, incrementally on the second slot, reports progress and adds the retention job', async () => {
    const { repo, provider, deps, calls, metrics } = await world();
    const run = createArchiveProcessor(deps);
    const first = fakeJob(payload(4, { snapshotRef: provider.addSnapshot('v', new Date(Date.UTC(2024, 2, 4, 2)), []) }));
    const r1 = (await run(first.asJob)) as ArchiveJobResult;
    expect(r1).toMatchObject({ volumeId: 'v', reused: false, readBytes: 256 * 1024 });
    expect(r1.parent).toBeUndefined();
    // The last progress report is the whole volume.
    expect(first.updateProgress).toHaveBeenLastCalledWith({ bytesDone: 256 * 1024, bytesTotal: 256 * 1024 });

    const second = fakeJob(payload(5, { snapshotRef: provider.addSnapshot('v', new Date(Date.UTC(2024, 2, 5, 2)), []) }));
    const r2 = (await run(second.asJob)) as ArchiveJobResult;
    expect(r2).toMatchObject({ reused: false, parent: r1.snapshotId });
    const snapshots = await repo().listVolumeSnapshots('v');
    expect(snapshots.map((s) => s.id)).toEqual([r1.snapshotId, r2.snapshotId]);
    expect(snapshots[1]!.snapshot.tags).toEqual([policyTag('p'), slotTag(slot(5)), 'team=a']);
    expect(snapshots[1]!.snapshot.time).toBe(new Date(Date.UTC(2024, 2, 5, 2)).toISOString());
    expect(calls.map((c) => [c.stage, c.payload.slot])).toEqual([
      ['retention', slot(4)],
      ['retention', slot(5)],
    ]);
    expect(await counter(metrics, 'snapfleet_archive_bytes_total')).toContainEqual(['read', 2 * 256 * 1024]);
  });

  it("finds its slot's snapshot on a rerun and stores nothing twice", async () => {
    const { store, provider, deps, calls } = await world();
    const run = createArchiveProcessor(deps);
    const job = fakeJob(payload(4, { snapshotRef: provider.addSnapshot('v', new Date(Date.UTC(2024, 2, 4, 2)), []) }));
    const done = (await run(job.asJob)) as ArchiveJobResult;
    const objects = store.size;
    expect(await run(job.asJob)).toEqual({ snapshotId: done.snapshotId, volumeId: 'v', reused: true });
    expect(store.size).toBe(objects);
    expect(calls).toHaveLength(2);
  });

  it("passes over a slot its policy's archive selection does not select, and still adds the retention job", async () => {
    const retention = { snapshotTier: { keepLast: 10 }, archiveTier: { keepLast: 10 }, archiveSelection: { mode: 'first-of-month' as const } };
    const { repo, provider, deps, calls, metrics } = await world(configOf({ retention }));
    const run = createArchiveProcessor(deps);
    const tagged = (d: number) => provider.addSnapshot('v', new Date(Date.UTC(2024, 2, d, 2)), [policyTag('p'), slotTag(slot(d))]);
    expect(await run(fakeJob(payload(1, { snapshotRef: tagged(1) })).asJob)).toMatchObject({ reused: false, snapshotId: expect.any(String) });
    const skipped = (await run(fakeJob(payload(2, { snapshotRef: tagged(2) })).asJob)) as ArchiveJobResult;
    expect(skipped).toMatchObject({ skipped: true, reason: expect.stringMatching(/^first-of-month: /) });
    expect(skipped.snapshotId).toBeUndefined();
    expect(await repo().listVolumeSnapshots('v')).toHaveLength(1);
    expect(calls.map((c) => c.payload.slot)).toEqual([slot(1), slot(2)]);
    expect(await counter(metrics, 'snapfleet_archives_skipped_total')).toEqual([['', 1]]);
  });

  it('takes the snapshot from its child job in a flow, and fails for good without one', async () => {
    const { provider, deps } = await world();
    const run = createArchiveProcessor(deps);
    const ref = provider.addSnapshot('v', new Date(Date.UTC(2024, 2, 4, 2)), []);
    const child = fakeJob(payload(4), 'archive-1', { 'bull:snapshot:1': { ref, volumeId: 'v' } });
    expect(await run(child.asJob)).toMatchObject({ reused: false, snapshotId: expect.any(String) });
    await expect(run(fakeJob(payload(5), 'archive-2', { 'bull:snapshot:2': { unrelated: true } }).asJob)).rejects.toThrow(
      /has no snapshot: it must run as the parent of a snapshot job/,
    );
  });

  it('fails with the provider error for a snapshot it cannot read, and adds no retention job', async () => {
    const { provider, deps, calls } = await world();
    const pending = provider.addSnapshot('v', new Date(Date.UTC(2024, 2, 4, 2)), [], 'pending');
    await expect(createArchiveProcessor(deps)(fakeJob(payload(4, { snapshotRef: pending })).asJob)).rejects.toThrow(/is pending, not readable/);
    await expect(createArchiveProcessor(deps)(fakeJob(payload(4, { repository: 'elsewhere', snapshotRef: pending })).asJob)).rejects.toThrow(NotFoundError);
    expect(calls).toEqual([]);
  });
});

describe('verify processor', () => {
  const archived = async () => {
    const w = await world();
    const ref = w.provider.addSnapshot('v', new Date(Date.UTC(2024, 2, 4, 2)), []);
    await createArchiveProcessor(w.deps)(fakeJob(payload(4, { snapshotRef: ref })).asJob);
    return w;
  };

  it('reads the repository back and reports what it checked', async () => {
    const { deps } = await archived();
    const job = fakeJob({ v: 1, repository: 'main', slot: slot(5) });
    const summary = await createVerifyProcessor(deps)(job.asJob);
    expect(summary).toMatchObject({ snapshots: 1, problems: 0, notices: 0 });
    expect((summary as { packsRead: number }).packsRead).toBeGreaterThan(0);
    expect(job.updateProgress).toHaveBeenCalled();
  });

  it('fails as corrupt data when a pack was damaged', async () => {
    const { store, deps } = await archived();
    const pack = store.keys().find((k) => k.startsWith('data/'))!;
    const bytes = await store.get(pack);
    bytes[bytes.length >> 1]! ^= 0xff;
    await store.put(pack, bytes);
    const err = await createVerifyProcessor(deps)(fakeJob({ v: 1, repository: 'main', slot: slot(5) }).asJob).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as Error).message).toMatch(/^verify of main found \d+ problem\(s\); first: /);
  });
});
