/**
 * Snapshot: asks the provider for a point in time of the volume, idempotent by the job id (the
 * client token), so a retried or taken-over job finds the snapshot it already started. A
 * pending snapshot (EBS takes minutes to hours) re-delays the job instead of holding the slot.
 * A completed one gets the volume's archive job (job-chain.ts).
 */
import { DelayedError, type Job } from 'bullmq';
import { PermanentError } from '@snapfleet/shared';
import { policyTag, slotTag, snapshotJobSchema, type SnapshotResult } from '@snapfleet/shared/jobs';
import { parsePayload } from '../job-errors.js';
import { policyNamed, type Processor, type ProcessorDeps } from './processor-deps.js';

export function createSnapshotProcessor(deps: Pick<ProcessorDeps, 'config' | 'provider' | 'clock' | 'log' | 'chain'>): Processor {
  return async (job: Job, token?: string): Promise<SnapshotResult> => {
    const data = parsePayload(snapshotJobSchema, job.data, 'snapshot');
    const { config, provider } = deps; // once per job: a reload must not switch providers mid-job
    const policy = policyNamed(config, data.policy);
    const tags = [policyTag(policy.name), slotTag(data.slot), ...policy.tags];
    const ref = await provider.createSnapshot(data.volumeId, tags, job.id!);
    const state = await provider.snapshotState(ref);
    if (state === 'error') throw new PermanentError(`snapshot ${ref} of volume ${data.volumeId} failed in the provider`);
    if (state === 'pending') {
      deps.log.info({ jobId: job.id, volume: data.volumeId, ref }, 'snapshot pending; re-delaying');
      await job.moveToDelayed(deps.clock.now().getTime() + config.fleet.worker.snapshotPollInterval, token);
      throw new DelayedError();
    }
    await deps.chain?.archiveAfter(data, ref);
    return { ref, volumeId: data.volumeId };
  };
}
