/**
 * Archive: reads the snapshot its snapshot job made (named in the payload, or, in a flow enqueued
 * before chains, its child's result) and archives it into the policy's repository,
 * incremental against the volume's latest snapshot. Idempotent per slot: every fleet snapshot is
 * tagged with its policy and slot, so a job that runs again after its snapshot object was
 * written (a worker killed just before completing) finds it and stores nothing twice. A slot
 * the policy's archive selection passes over completes without archiving (its provider snapshot
 * stays in the snapshot tier). Progress goes to the job as { bytesDone, bytesTotal }. Then the
 * volume's retention job is added (job-chain.ts).
 */
import type { Job } from 'bullmq';
import { PermanentError, archiveVolume } from '@snapfleet/shared';
import { archiveJobSchema, policyTag, slotTag, snapshotResultSchema, timeFromSlot, type VolumeJob } from '@snapfleet/shared/jobs';
import { parsePayload } from '../job-errors.js';
import { policyNamed, type Processor, type ProcessorDeps } from './processor-deps.js';
import { decideArchive } from './archive-selection-decision.js';

/** At most one progress write per interval: each is a Redis round trip and a board refresh. */
const PROGRESS_INTERVAL_MS = 500;
const MiB = 1024 * 1024;

export interface ArchiveJobResult {
  /** Absent when the slot was skipped. */
  snapshotId?: string;
  volumeId: string;
  reused: boolean;
  /** Archive selection passed this slot over; `reason` says why (docs/retention.md). */
  skipped?: boolean;
  reason?: string;
  parent?: string;
  readBytes?: number;
  newBytes?: number;
  storedBytes?: number;
}

async function snapshotRefOf(job: Job): Promise<string> {
  const values = await job.getChildrenValues();
  for (const v of Object.values(values)) {
    const r = snapshotResultSchema.safeParse(v);
    if (r.success) return r.data.ref;
  }
  throw new PermanentError(`archive job ${job.id} has no snapshot: it must run as the parent of a snapshot job`);
}

export function createArchiveProcessor(deps: ProcessorDeps): Processor {
  return async (job: Job): Promise<ArchiveJobResult> => {
    const data = parsePayload(archiveJobSchema, job.data, 'archive');
    const result = await archiveOnce(deps, job, data);
    // Archived, found archived or passed over: the volume's retention job follows either way.
    await deps.chain?.retentionAfter(data);
    return result;
  };
}

async function archiveOnce(deps: ProcessorDeps, job: Job, data: VolumeJob): Promise<ArchiveJobResult> {
  // Read once: a config reload between jobs must not change a running job's view.
  const { config, provider } = deps;
  const policy = policyNamed(config, data.policy);
  const ref = data.snapshotRef ?? (await snapshotRefOf(job));
  const { repo, pool, settings } = await deps.repositories.open(data.repository);
  const tags = [policyTag(policy.name), slotTag(data.slot), ...policy.tags];
  const entries = await repo.listVolumeSnapshots(data.volumeId);
  const done = entries.find((e) => tags.slice(0, 2).every((t) => e.snapshot.tags.includes(t)));
  if (done) {
    deps.log.info({ jobId: job.id, volume: data.volumeId, snapshot: done.id }, 'snapshot of this slot exists; nothing to do');
    return { snapshotId: done.id, volumeId: data.volumeId, reused: true };
  }
  const decision = await decideArchive(provider, policy, data.volumeId, data.slot, entries);
  if (!decision.archive) {
    deps.metrics.archiveSkipped();
    deps.log.info({ jobId: job.id, policy: policy.name, volume: data.volumeId, reason: decision.reason }, 'archive skipped');
    return { volumeId: data.volumeId, reused: false, skipped: true, reason: decision.reason };
  }
  const parent = entries.at(-1);
  const source = await provider.openSource(data.volumeId, ref);
  deps.log.info({ jobId: job.id, policy: policy.name, volume: data.volumeId, ...(parent ? { parent: parent.id } : {}) }, 'archiving');
  let last = 0;
  try {
    const result = await archiveVolume(repo, pool, {
      volumeId: data.volumeId,
      source,
      time: timeFromSlot(data.slot),
      clock: deps.clock,
      tags,
      zstdLevel: settings.compressionLevel,
      packSize: settings.packSizeMiB * MiB,
      ...(deps.hostname ? { hostname: deps.hostname } : {}),
      ...(deps.identity ? { identity: deps.identity } : {}),
      ...(parent ? { parent } : {}),
      onProgress: (p) => {
        const now = deps.clock.now().getTime();
        if (now - last < PROGRESS_INTERVAL_MS && p.bytesDone < p.bytesTotal) return;
        last = now;
        // Fire and forget: a slow Redis must not stall the archive pipeline.
        job.updateProgress({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal }).catch(() => {});
      },
    });
    const s = result.snapshot.stats;
    deps.metrics.archived(s);
    deps.log.info(
      { jobId: job.id, policy: policy.name, volume: data.volumeId, snapshot: result.id, readBytes: s.readBytes, storedBytes: s.storedBytes },
      'archived',
    );
    return {
      snapshotId: result.id,
      volumeId: data.volumeId,
      reused: false,
      ...(parent ? { parent: parent.id } : {}),
      readBytes: s.readBytes,
      newBytes: s.newBytes,
      storedBytes: s.storedBytes,
    };
  } finally {
    await source.close();
  }
}
