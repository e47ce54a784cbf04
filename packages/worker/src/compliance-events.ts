/**
 * Job outcomes as RPO compliance records: a completed snapshot job is the volume's newest
 * provider snapshot, a completed archive (not skipped) its newest archive, both as of the job's
 * slot (when its data was taken); a volume job that failed for good is the volume's last error,
 * unless an earlier stage of the same flow failed first (its parents then fail only because of it).
 * Recording is fire and forget: a slow or lost Redis must not fail a job that did its work.
 */
import type { Job } from 'bullmq';
import type { Clock } from '@snapfleet/shared';
import type { RecoveryPoint } from '@snapfleet/shared/compliance';
import { snapshotResultSchema, timeFromSlot, volumeJobSchema, type WorkQueue } from '@snapfleet/shared/jobs';
import type { ComplianceRecorder } from '@snapfleet/providers/fleet';

export interface ComplianceEvents {
  completed(queue: WorkQueue, job: Job): void;
  failed(queue: WorkQueue, job: Job, err: Error): void;
}

export function recordCompliance(recorder: ComplianceRecorder, clock: Clock, onError: (err: Error) => void): ComplianceEvents {
  const settle = (p: Promise<unknown>) => void p.catch(onError);
  return {
    completed(queue, job) {
      const data = volumeJobSchema.safeParse(job.data);
      if (!data.success) return;
      const { policy, volumeId, slot } = data.data;
      const point = (id: string): RecoveryPoint => ({ time: timeFromSlot(slot).toISOString(), id });
      if (queue === 'snapshot') {
        const result = snapshotResultSchema.safeParse(job.returnvalue);
        if (result.success) settle(recorder.snapshotted(policy, volumeId, point(result.data.ref)));
      } else if (queue === 'archive') {
        const id = (job.returnvalue as { snapshotId?: unknown } | undefined)?.snapshotId;
        if (typeof id === 'string') settle(recorder.archived(policy, volumeId, { ...point(id), repository: data.data.repository }));
      }
    },
    failed(queue, job, err) {
      const data = volumeJobSchema.safeParse(job.data);
      if (!data.success) return;
      const { policy, volumeId, slot } = data.data;
      settle(recorder.failed(policy, volumeId, { queue, ...(job.id ? { jobId: job.id } : {}), slot, message: err.message, at: clock.now().toISOString() }));
    },
  };
}
