/**
 * A volume's jobs of one slot run as a chain: the planner adds the snapshot job; the snapshot
 * job, once its snapshot completed, adds the volume's archive job naming that snapshot; the
 * archive job, once done (archived, found archived, or passed over by archive selection), adds
 * the retention job. Each is added by the job before it returns, under its deterministic id, so
 * a retried job adds nothing twice and a job that died before adding adds on its retry; a job
 * that fails for good adds nothing after it.
 *
 * Why not BullMQ flows (all three added at once, parents waiting for children): a tick then
 * writes three jobs and two dependency sets per volume up front, which made a tick of 100,000
 * volumes take 48 s and 4.5 KB of Redis per volume before any work; a chain adds one job per
 * volume at the tick. Flows still queued from before run as they were: a job adding an id that
 * exists adds nothing.
 */
import type { JobsOptions } from 'bullmq';
import type { FleetConfig } from '@snapfleet/shared/config';
import { QUEUE, stageQueue, volumeJobId, workJobOptions, type VolumeJob } from '@snapfleet/shared/jobs';

/** What the chain needs of a BullMQ Queue: adding a job (what `add` returns is not used). */
export interface JobAdder {
  add(name: string, data: VolumeJob, opts: JobsOptions): Promise<unknown>;
}

export interface JobChain {
  /** Adds the archive job of the snapshot job `payload`, for the provider snapshot `snapshotRef`. */
  archiveAfter(payload: VolumeJob, snapshotRef: string): Promise<void>;
  /** Adds the retention job of the archive job `payload`. */
  retentionAfter(payload: VolumeJob): Promise<void>;
}

/**
 * `queue(name)` gives the queue of that name (archive, retention, or a region's: the next job goes
 * where the one before it came from, `stageQueue` of the payload's region).
 */
export function createJobChain(queue: (name: string) => JobAdder, config: () => FleetConfig): JobChain {
  // The stage-independent part of a payload: what the next job is about.
  const base = (p: VolumeJob): VolumeJob => ({
    v: 1,
    policy: p.policy,
    volumeId: p.volumeId,
    slot: p.slot,
    repository: p.repository,
    ...(p.region ? { region: p.region } : {}),
  });
  return {
    async archiveAfter(payload, snapshotRef) {
      const data: VolumeJob = { ...base(payload), snapshotRef };
      await queue(stageQueue('archive', payload.region)).add(QUEUE.archive, data, {
        ...workJobOptions(config()),
        jobId: volumeJobId('archive', payload.policy, payload.volumeId, payload.slot),
      });
    },
    async retentionAfter(payload) {
      await queue(stageQueue('retention', payload.region)).add(QUEUE.retention, base(payload), {
        ...workJobOptions(config()),
        jobId: volumeJobId('retention', payload.policy, payload.volumeId, payload.slot),
      });
    },
  };
}
