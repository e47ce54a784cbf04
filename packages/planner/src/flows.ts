/**
 * One flow per volume and slot: retention (root) <- archive <- snapshot (leaf). BullMQ runs
 * children before parents, so the leaf, the snapshot, runs first, then archive, then retention.
 * Every job has a deterministic id, and BullMQ ignores a flow whose jobs exist: enqueueing the
 * same (policy, volume, slot) twice adds nothing. A child that fails for good fails its parent
 * (failParentOnFailure), so a broken snapshot never leaves an archive waiting forever.
 */
import type { FlowJob, JobsOptions } from 'bullmq';
import { QUEUE, volumeJobId, type VolumeJob } from '@snapfleet/shared/jobs';

export function volumeFlow(payload: VolumeJob, options: JobsOptions): FlowJob {
  const id = (kind: 'snapshot' | 'archive' | 'retention') => volumeJobId(kind, payload.policy, payload.volumeId, payload.slot);
  const child = { ...options, failParentOnFailure: true };
  return {
    name: 'retention',
    queueName: QUEUE.retention,
    data: payload,
    opts: { ...options, jobId: id('retention') },
    children: [
      {
        name: 'archive',
        queueName: QUEUE.archive,
        data: payload,
        opts: { ...child, jobId: id('archive') },
        children: [{ name: 'snapshot', queueName: QUEUE.snapshot, data: payload, opts: { ...child, jobId: id('snapshot') } }],
      },
    ],
  };
}
