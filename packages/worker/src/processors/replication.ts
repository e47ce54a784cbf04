/**
 * The policy's `replicate` stage, run by the retention job after the archive tier's retention:
 * the volume's snapshots of this policy that are newer than the replica's newest are copied into
 * the replica repository (engine/copy.ts: only the blobs it lacks), then the replica's own
 * retention rules are applied to the volume's snapshots there. Forward only: a snapshot the
 * replica's rules forgot is never copied again, whatever the primary still keeps.
 */
import { copySnapshots, planForget, removeSnapshots, type CodecPool, type Repository } from '@snapfleet/shared';
import type { PolicyConfig } from '@snapfleet/shared/config';
import { policyTag } from '@snapfleet/shared/jobs';
import type { ProcessorDeps } from './processor-deps.js';

export interface ReplicationOutcome {
  repository: string;
  /** Snapshots copied by this job. */
  copied: string[];
  /** Plaintext bytes of the blobs copied. */
  bytes: number;
  /** Replica snapshots its retention rules removed. */
  removed: string[];
}

export async function replicateVolume(
  deps: ProcessorDeps,
  policy: PolicyConfig,
  source: Repository,
  sourcePool: CodecPool,
  volumeId: string,
  jobId: string | undefined,
): Promise<ReplicationOutcome | undefined> {
  if (!policy.replicate) return undefined;
  const { repository, retention } = policy.replicate;
  const { repo: target, pool: targetPool } = await deps.repositories.open(repository);
  const tag = policyTag(policy.name);
  const ofPolicy = async (repo: Repository) => (await repo.listVolumeSnapshots(volumeId)).filter((e) => e.snapshot.tags.includes(tag));
  const there = await ofPolicy(target);
  const newest = there
    .map((e) => e.snapshot.time)
    .sort()
    .at(-1);
  const wanted = (await ofPolicy(source)).filter((e) => newest === undefined || e.snapshot.time > newest);
  const copied: string[] = [];
  const report = await copySnapshots(source, sourcePool, target, targetPool, wanted, {
    clock: deps.clock,
    ...(deps.hostname ? { hostname: deps.hostname } : {}),
    ...(deps.identity ? { identity: deps.identity } : {}),
    onSnapshot: (o) => void (o.copied && copied.push(o.id)),
  });
  if (copied.length) deps.log.info({ jobId, volume: volumeId, repository, copied: copied.length, bytes: report.bytes }, 'replicated snapshots');
  let removed: string[] = [];
  if (retention) {
    const plans = planForget(await ofPolicy(target), retention, deps.clock.now());
    removed = (
      await removeSnapshots(
        target,
        plans.flatMap((p) => p.remove),
      )
    ).removed;
    if (removed.length) deps.log.info({ jobId, volume: volumeId, repository, removed: removed.length }, 'replica retention removed snapshots');
  }
  return { repository, copied, bytes: report.bytes, removed };
}
