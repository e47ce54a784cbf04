/**
 * Job outcomes as RPO compliance records: a completed snapshot job is the volume's newest
 * provider snapshot, a completed archive (not skipped) its newest archive, both as of the job's
 * slot (when its data was taken); a volume job that failed for good is the volume's last error,
 * unless an earlier stage of the same flow failed first (its parents then fail only because of it).
 * Every archive job that ended (archived, found, passed over, failed for good) also goes into
 * the volume's archive history, which outlives the job hashes (providers' redis-archive-history.ts).
 * Recording is fire and forget: a slow or lost Redis must not fail a job that did its work.
 */
import type { Job } from 'bullmq';
import type { Clock } from '@snapfleet/shared';
import type { RecoveryPoint } from '@snapfleet/shared/compliance';
import { snapshotResultSchema, timeFromSlot, volumeJobSchema, type WorkQueue } from '@snapfleet/shared/jobs';
import type { ArchiveHistory, ArchiveOutcome, ComplianceRecorder } from '@snapfleet/providers/fleet';

/** Where archive outcomes go, kept for `keepMs()` (fleet.jobs.keepHistory, read per event: a reload may change it). */
export interface HistorySink {
  store: ArchiveHistory;
  keepMs: () => number;
}

export interface ComplianceEvents {
  completed(queue: WorkQueue, job: Job): void;
  failed(queue: WorkQueue, job: Job, err: Error): void;
}

export function recordCompliance(recorder: ComplianceRecorder, clock: Clock, onError: (err: Error) => void, history?: HistorySink): ComplianceEvents {
  const settle = (p: Promise<unknown>) => void p.catch(onError);
  const ended = (policy: string, volumeId: string, slot: string, outcome: ArchiveOutcome) => {
    if (history) settle(history.store.record(policy, volumeId, slot, timeFromSlot(slot), outcome, history.keepMs(), clock.now()));
  };
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
        const result = job.returnvalue as { snapshotId?: unknown; reused?: unknown; skipped?: unknown } | undefined;
        if (typeof result?.snapshotId === 'string')
          settle(recorder.archived(policy, volumeId, { ...point(result.snapshotId), repository: data.data.repository }));
        ended(policy, volumeId, slot, result?.skipped ? 'skipped' : result?.reused ? 'reused' : 'archived');
      }
    },
    failed(queue, job, err) {
      const data = volumeJobSchema.safeParse(job.data);
      if (!data.success) return;
      const { policy, volumeId, slot } = data.data;
      if (queue === 'archive') ended(policy, volumeId, slot, 'failed');
      settle(recorder.failed(policy, volumeId, { queue, ...(job.id ? { jobId: job.id } : {}), slot, message: err.message, at: clock.now().toISOString() }));
    },
  };
}
