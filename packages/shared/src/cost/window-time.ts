/**
 * How long one scheduled run of a policy needs at the configured rate limits: the larger of the
 * time its block reads take at the EBS direct API budgets and the time its jobs take to start at
 * the job rate limits. Every limit is a throughput bound, so the run cannot be faster than the
 * slowest of them; the time the work itself takes (hashing, compressing, uploading) and a
 * policy's `concurrency` come on top and are not estimated here.
 */

/** AWS API budgets (provider.limits), requests per second. */
export interface AwsRateLimits {
  ebsBlockRequestsPerSecond: number;
  ebsBlockRequestsPerSnapshotPerSecond: number;
  ebsListRequestsPerSecond: number;
  /** CreateSnapshot is a mutating EC2 call: one per volume per run. */
  ec2MutatingRequestsPerSecond: number;
}

/** A job limiter: at most `max` jobs start per `perMs`. */
export interface JobRate {
  max: number;
  perMs: number;
}

export interface JobRateLimits {
  /** The policy's `rateLimit` (its archive jobs). */
  policy?: JobRate | undefined;
  /** `fleet.queues.archive.rateLimit`. */
  archiveQueue?: JobRate | undefined;
  /** `fleet.queues.snapshot.rateLimit`. */
  snapshotQueue?: JobRate | undefined;
}

export type WindowLimit =
  | 'ebs-block-requests'
  | 'ebs-block-requests-per-snapshot'
  | 'ebs-list-requests'
  | 'ec2-create-snapshot'
  | 'policy-rate-limit'
  | 'archive-queue-rate-limit'
  | 'snapshot-queue-rate-limit';

export interface WindowPart {
  limit: WindowLimit;
  seconds: number;
}

export interface WindowTime {
  seconds: number;
  /** The limit that sets `seconds`; absent when nothing limits the run (no volumes, no limits). */
  boundBy?: WindowLimit;
  /** Every limit that applies, slowest first. */
  parts: WindowPart[];
}

export interface RunWork {
  volumes: number;
  /** GetSnapshotBlock calls per volume in the run (AWS). */
  blocksPerVolume: readonly number[];
  /** List calls of the whole run (AWS). */
  lists: number;
}

export function windowTime(run: RunWork, aws: AwsRateLimits | undefined, jobs: JobRateLimits): WindowTime {
  const parts: WindowPart[] = [];
  if (aws && run.volumes > 0) {
    const blocks = run.blocksPerVolume.reduce((n, b) => n + b, 0);
    parts.push({ limit: 'ebs-block-requests', seconds: blocks / aws.ebsBlockRequestsPerSecond });
    // One volume's blocks come from one snapshot, whose own budget bounds it however idle the rest is.
    parts.push({
      limit: 'ebs-block-requests-per-snapshot',
      seconds: run.blocksPerVolume.reduce((n, b) => Math.max(n, b), 0) / aws.ebsBlockRequestsPerSnapshotPerSecond,
    });
    parts.push({ limit: 'ebs-list-requests', seconds: run.lists / aws.ebsListRequestsPerSecond });
    parts.push({ limit: 'ec2-create-snapshot', seconds: run.volumes / aws.ec2MutatingRequestsPerSecond });
  }
  // N jobs at `max` per `perMs` take N / max windows.
  const jobTime = (rate: JobRate | undefined, limit: WindowLimit) => {
    if (rate && run.volumes > 0) parts.push({ limit, seconds: (run.volumes / rate.max) * (rate.perMs / 1000) });
  };
  jobTime(jobs.policy, 'policy-rate-limit');
  jobTime(jobs.archiveQueue, 'archive-queue-rate-limit');
  jobTime(jobs.snapshotQueue, 'snapshot-queue-rate-limit');
  parts.sort((a, b) => b.seconds - a.seconds);
  const slowest = parts[0];
  return slowest && slowest.seconds > 0 ? { seconds: slowest.seconds, boundBy: slowest.limit, parts } : { seconds: 0, parts };
}
