/**
 * The search for orphans (`orphan-sweep` jobs on the retention queue, from the planner's
 * scheduler when the config has an `orphans` rule): from the fleet's compliance records, the
 * (policy, volume) pairs no policy covers any more whose newest recovery point is older than
 * `orphans.after` (shared/compliance/orphans.ts), each given an `orphan-retention` job. The
 * records are what status reads too, so a volume status shows as gone or orphan is the one
 * expired; a policy whose discovery has not run or failed has no gone volumes.
 */
import type { Job, Queue } from 'bullmq';
import { assessCompliance, dueOrphans, policyRpos, type CompliancePolicy } from '@snapfleet/shared/compliance';
import { orphanJobId, orphanSweepJobSchema, slotFromTime, type OrphanRetentionJob } from '@snapfleet/shared/jobs';
import { readComplianceRecords } from '@snapfleet/providers/fleet';
import type { Redis } from 'ioredis';
import { parsePayload } from '../job-errors.js';
import type { Processor, ProcessorDeps } from './processor-deps.js';

/** Jobs per addBulk: bounded, so 100,000 orphans are 100 commands, not one giant one. */
const JOBS_PER_BATCH = 1000;

export interface OrphanSweepDeps extends Pick<ProcessorDeps, 'config' | 'clock' | 'log'> {
  redis: Redis;
  prefix: string;
  retentionQueue: Pick<Queue, 'addBulk'>;
}

export interface OrphanSweepResult {
  /** Orphans the rule applies to now. */
  due: number;
  enqueued: number;
  /** Orphans of a removed policy whose repository is not known (recorded before repositories were): their provider snapshots only. */
  withoutRepository: number;
  skipped?: string;
}

export function createOrphanSweepProcessor(deps: OrphanSweepDeps): Processor {
  return async (job: Job): Promise<OrphanSweepResult> => {
    parsePayload(orphanSweepJobSchema, job.data, 'orphan-sweep');
    const config = deps.config;
    if (!config.orphans) return { due: 0, enqueued: 0, withoutRepository: 0, skipped: 'the configuration has no orphans rule' };
    const now = deps.clock.now();
    const rpos = policyRpos(config, now);
    const recorded = await readComplianceRecords(deps.redis, deps.prefix, [...rpos.keys()]);
    const policies: CompliancePolicy[] = [...rpos].map(([name, rpoMs]) => {
      const since = recorded.covered.get(name)?.since;
      return { name, rpoMs, ...(since ? { volumes: [...since.keys()] } : {}) };
    });
    const due = dueOrphans(assessCompliance(policies, recorded.records, now), config.orphans, now);
    const repositories = Object.keys(config.repositories);
    const run = slotFromTime(now);
    let withoutRepository = 0;
    const jobs = due.map((v) => {
      const repository =
        v.lastArchive?.repository ?? config.policies.find((p) => p.name === v.policy)?.repository ?? (repositories.length === 1 ? repositories[0] : undefined);
      if (!repository || !config.repositories[repository]) withoutRepository++;
      const data: OrphanRetentionJob = {
        v: 1,
        policy: v.policy,
        volumeId: v.volumeId,
        ...(repository && config.repositories[repository] ? { repository } : {}),
      };
      const { attempts, backoff, keepCompleted, keepFailed } = config.fleet.jobs;
      return {
        name: 'orphan-retention',
        data,
        opts: {
          jobId: orphanJobId(v.policy, v.volumeId, run),
          attempts,
          backoff: { type: 'exponential', delay: backoff },
          removeOnComplete: { age: keepCompleted / 1000 },
          removeOnFail: { age: keepFailed / 1000 },
        },
      };
    });
    for (let i = 0; i < jobs.length; i += JOBS_PER_BATCH) await deps.retentionQueue.addBulk(jobs.slice(i, i + JOBS_PER_BATCH));
    if (jobs.length) deps.log.info({ jobId: job.id, due: due.length, withoutRepository }, 'orphans due for the orphans rule');
    return { due: due.length, enqueued: jobs.length, withoutRepository };
  };
}
