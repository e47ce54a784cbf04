/**
 * The alert for a job that failed after its last attempt: a volume job's (quiet per volume, so a
 * flow whose snapshot failed alerts once, not again for the parents that failed because of it)
 * or a verify job's (quiet per repository).
 */
import type { Job } from 'bullmq';
import { verifyJobSchema, volumeJobSchema, type Alert, type WorkQueue } from '@snapfleet/shared/jobs';

export function jobFailedAlert(queue: WorkQueue, job: Job, err: Error, now: Date): { alert: Alert; quietSubject: string } | undefined {
  const attempts = job.attemptsMade;
  const details = { queue, ...(job.id ? { jobId: job.id } : {}), attempts };
  const message = err.message.slice(0, 1500);
  const volume = volumeJobSchema.safeParse(job.data);
  if (volume.success) {
    const { policy, volumeId, repository } = volume.data;
    return {
      alert: {
        event: 'job-failed',
        at: now.toISOString(),
        summary: `${queue} of ${policy}/${volumeId} failed after ${attempts} attempt(s): ${message}`,
        policy,
        volumeId,
        repository,
        details,
      },
      quietSubject: JSON.stringify(['volume', policy, volumeId]),
    };
  }
  const verify = verifyJobSchema.safeParse(job.data);
  if (verify.success) {
    const { repository } = verify.data;
    return {
      alert: {
        event: 'job-failed',
        at: now.toISOString(),
        summary: `verify of repository ${repository} failed after ${attempts} attempt(s): ${message}`,
        repository,
        details,
      },
      quietSubject: JSON.stringify(['repository', repository]),
    };
  }
  return undefined;
}
