/**
 * The orphans rule on one (policy, volume) pair (`orphan-retention` jobs from the search in
 * orphan-sweep.ts): the pair's repository snapshots are thinned by `orphans.archiveTier`, its
 * provider snapshots by `orphans.snapshotTier`, both under the retention guard: until the
 * orphans rule is confirmed, it is compared with the rules the policy last had accepted, so a
 * removed policy's volumes do not fall to a "delete" nobody confirmed. A pair left with no
 * snapshot in either tier is dropped from the compliance records: nothing of it is left to list.
 * Space is freed by the repository's next prune.
 */
import type { Job } from 'bullmq';
import { removeSnapshots } from '@snapfleet/shared';
import { orphanGuardedRules } from '@snapfleet/shared/compliance';
import { coveredVolumesKey, discoveredAtKey, orphanRetentionJobSchema, policyTag, retentionSubject, slotOfTags, timeFromSlot } from '@snapfleet/shared/jobs';
import { KEEP_EVERYTHING, parseGuardedRules, type TierSnapshot } from '@snapfleet/shared/retention';
import { createRetentionGuardStore, type ComplianceRecorder } from '@snapfleet/providers/fleet';
import type { Redis } from 'ioredis';
import { parsePayload } from '../job-errors.js';
import type { AlertOutbox } from '../alerts/alert-outbox.js';
import type { Processor, ProcessorDeps } from './processor-deps.js';
import { createTierGuard } from './tier-guard.js';
import { archiveTierRemovals, snapshotTierRemovals } from './tier-plans.js';

export interface OrphanRetentionDeps extends Pick<ProcessorDeps, 'config' | 'provider' | 'repositories' | 'clock' | 'log'> {
  redis: Redis;
  prefix: string;
  recorder: ComplianceRecorder;
  /** Where a held orphans rule is reported. @defaultValue not reported */
  alerts?: AlertOutbox;
}

export interface OrphanRetentionResult {
  policy: string;
  volumeId: string;
  /** Repository snapshots removed, and how many are left. */
  removed: string[];
  archivesLeft: number;
  /** Provider snapshots deleted, and how many are left. */
  deletedSnapshots: string[];
  snapshotsLeft: number;
  /** Whether the pair held nothing more and left the compliance records. */
  forgotten: boolean;
  skipped?: string;
}

interface ListedSnapshot extends TierSnapshot {
  ref: string;
}

export function createOrphanRetentionProcessor(deps: OrphanRetentionDeps): Processor {
  const guards = createRetentionGuardStore(deps.redis, deps.prefix);
  return async (job: Job): Promise<OrphanRetentionResult> => {
    const data = parsePayload(orphanRetentionJobSchema, job.data, 'orphan-retention');
    const { config, provider } = deps;
    const none = { policy: data.policy, volumeId: data.volumeId, removed: [], archivesLeft: 0, deletedSnapshots: [], snapshotsLeft: 0, forgotten: false };
    if (!config.orphans) return { ...none, skipped: 'the configuration has no orphans rule' };
    // Covered again since the search (the volume came back, the policy was restored): not an orphan.
    if (config.policies.some((p) => p.name === data.policy)) {
      const discovered = await deps.redis.hget(discoveredAtKey(deps.prefix), data.policy);
      if (discovered === null || (await deps.redis.hexists(coveredVolumesKey(deps.prefix, data.policy), data.volumeId)))
        return { ...none, skipped: 'the policy covers the volume again' };
    }
    const now = deps.clock.now();
    const tag = policyTag(data.policy);
    const guard = await createTierGuard(
      {
        store: guards,
        maxShare: config.retentionGuard.maxShare,
        log: deps.log,
        now,
        jobId: job.id,
        subject: retentionSubject(),
        policy: data.policy,
        volumeId: data.volumeId,
        current: orphanGuardedRules(config.orphans),
        ...(deps.alerts ? { alerts: deps.alerts } : {}),
      },
      // Until the orphans rule is confirmed, the rules the pair lived under are the accepted ones.
      async () => parseGuardedRules((await guards.accepted(retentionSubject(data.policy))) ?? '') ?? KEEP_EVERYTHING,
    );
    let removed: string[] = [];
    let archivesLeft = 0;
    if (data.repository) {
      const { repo } = await deps.repositories.open(data.repository);
      const entries = (await repo.listVolumeSnapshots(data.volumeId)).filter((e) => e.snapshot.tags.includes(tag));
      const remove = await guard(
        'archive',
        entries.length,
        (rules) => archiveTierRemovals(entries, rules, now),
        (e) => e.id,
      );
      removed = (await removeSnapshots(repo, remove)).removed;
      archivesLeft = entries.length - removed.length;
    }
    const listed = await provider.listSnapshots(data.volumeId, [tag]);
    // No archive of an orphan is to come: every snapshot's archive is finished or never will be.
    const snapshots: ListedSnapshot[] = listed.map((s) => {
      const slot = slotOfTags(s.tags);
      return { id: s.ref, ref: s.ref, time: slot ? timeFromSlot(slot) : s.time, state: s.state, archive: 'finished' };
    });
    const completed = snapshots.filter((s) => s.state === 'completed').length;
    const deletedSnapshots: string[] = [];
    for (const s of await guard(
      'snapshot',
      completed,
      (rules) => snapshotTierRemovals(snapshots, rules, now, undefined),
      (s) => s.ref,
    )) {
      await provider.deleteSnapshot(s.ref);
      deletedSnapshots.push(s.ref);
    }
    const snapshotsLeft = snapshots.length - deletedSnapshots.length;
    const forgotten = data.repository !== undefined && archivesLeft === 0 && snapshotsLeft === 0;
    if (forgotten) await deps.recorder.forget(data.policy, data.volumeId);
    if (removed.length || deletedSnapshots.length || forgotten) {
      deps.log.info(
        {
          jobId: job.id,
          policy: data.policy,
          volume: data.volumeId,
          removed: removed.length,
          archivesLeft,
          deletedSnapshots: deletedSnapshots.length,
          snapshotsLeft,
          forgotten,
        },
        'orphans rule applied',
      );
    }
    return { policy: data.policy, volumeId: data.volumeId, removed, archivesLeft, deletedSnapshots, snapshotsLeft, forgotten };
  };
}
