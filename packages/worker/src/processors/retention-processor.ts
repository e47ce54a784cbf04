/**
 * Retention: applies the policy's archive tier to this volume's snapshots of this policy in the
 * repository (planForget / removeSnapshots) and its snapshot tier to the provider's snapshots
 * (snapshot-tier-retention.ts; the local provider keeps none), then, at most once per the
 * policy's prune interval and never twice at once per repository, collects the garbage (prune
 * is safe while archives run); at most once per the policy's maintenance interval, compacts the
 * repository's index (a prune does that too, and counts as one).
 */
import type { Job } from 'bullmq';
import {
  compactIndex,
  InvalidInputError,
  maintainLocality,
  type CodecPool,
  type VolumeLocality,
  pruneRepository,
  removeSnapshots,
  RepositoryLockedError,
  type Repository,
  type SnapshotEntry,
} from '@snapfleet/shared';
import { policyGuardedRules } from '@snapfleet/shared/retention';
import { copyRetentionOf } from '@snapfleet/shared/config';
import {
  lastMaintenanceKey,
  lastPruneKey,
  policyTag,
  repositoryLockKey,
  retentionJobSchema,
  retentionSubject,
  volumeJobId,
  type VolumeJob,
} from '@snapfleet/shared/jobs';
import { createArchiveHistory, createRetentionGuardStore, type ArchiveHistory } from '@snapfleet/providers/fleet';
import type { Redis } from 'ioredis';
import { parsePayload } from '../job-errors.js';
import { policyNamed, type Processor, type ProcessorDeps } from './processor-deps.js';
import { applySnapshotTier, type ArchiveJobState, type SnapshotTierOutcome } from './snapshot-tier-retention.js';
import { applySnapshotCopies, type SnapshotCopiesOutcome } from './snapshot-copies.js';
import { replicateVolume, type ReplicationOutcome } from './replication.js';
import type { AlertOutbox } from '../alerts/alert-outbox.js';
import { createTierGuard } from './tier-guard.js';
import { archiveTierRemovals } from './tier-plans.js';

/** A prune of a large repository takes minutes; the lock is renewed while it runs. */
const PRUNE_LOCK_TTL_MS = 60_000;

export interface RetentionDeps extends ProcessorDeps {
  redis: Redis;
  prefix: string;
  /** The state of an archive job by id, to tell a finished archive from one still to run. */
  archiveJobState: ArchiveJobState;
  /** Where a prune that left objects behind is reported. @defaultValue not reported */
  alerts?: AlertOutbox;
}

export interface RetentionJobResult {
  volumeId: string;
  /** Repository snapshots removed by the archive tier. */
  removed: string[];
  /** Provider snapshots deleted by the snapshot tier. */
  deletedSnapshots: string[];
  /** Provider snapshots the snapshot tier's rules did not keep but that were not deleted, and why. */
  heldSnapshots: SnapshotTierOutcome['held'];
  pruned: boolean;
  /** Whether this job compacted the repository's index (the policy's `maintenance`). */
  compacted: boolean;
  /** Disaster-recovery copies made or found, and copies the targets' retention deleted. */
  copies: SnapshotCopiesOutcome;
  /** The volume's newest snapshot assessed, and relocated if scattered (the policy's `maintenance`); absent when skipped. */
  locality?: VolumeLocality;
  /** The policy's `replicate` stage: what was copied into the replica, and what its retention removed there. */
  replication?: ReplicationOutcome;
}

export function createRetentionProcessor(deps: RetentionDeps): Processor {
  const guards = createRetentionGuardStore(deps.redis, deps.prefix);
  const history = createArchiveHistory(deps.redis, deps.prefix);
  return async (job: Job): Promise<RetentionJobResult> => {
    const data = parsePayload(retentionJobSchema, job.data, 'retention');
    const { config, provider } = deps; // once per job (a reload replaces them between jobs)
    const policy = policyNamed(config, data.policy);
    const { repo, pool } = await deps.repositories.open(data.repository);
    let removed: string[] = [];
    let tier: SnapshotTierOutcome = { deleted: [], held: [] };
    // Before the snapshot tier, which may delete the snapshot the copies are made from.
    const copies = await applySnapshotCopies(
      { provider, clock: deps.clock, log: deps.log },
      policy,
      data.volumeId,
      data.slot,
      copyRetentionOf(config.provider),
    );
    const now = deps.clock.now();
    // Every job compares its rules with the accepted ones, also without retention: adding rules
    // to a policy that kept everything is a change like any other.
    const guard = await createTierGuard({
      store: guards,
      maxShare: config.retentionGuard.maxShare,
      log: deps.log,
      now,
      jobId: job.id,
      subject: retentionSubject(policy.name),
      policy: policy.name,
      volumeId: data.volumeId,
      current: policyGuardedRules(policy.retention),
      ...(deps.alerts ? { alerts: deps.alerts } : {}),
    });
    if (policy.retention) {
      const all = await repo.listVolumeSnapshots(data.volumeId);
      const entries = all.filter((e) => e.snapshot.tags.includes(policyTag(policy.name)));
      // The next archive of the volume (whichever policy) starts from its newest snapshot's source.
      const newest = newestOf(all);
      const removedEntries = await guard(
        'archive',
        entries.length,
        (rules) => archiveTierRemovals(entries, rules, now),
        (e) => e.id,
      );
      const removal = await removeSnapshots(repo, removedEntries);
      removed = removal.removed;
      if (removed.length) deps.log.info({ jobId: job.id, volume: data.volumeId, removed: removed.length }, 'retention removed snapshots');
      if (removal.retained.length) {
        const until = removal.retained
          .map((r) => r.until)
          .sort()
          .at(-1);
        deps.log.info(
          { jobId: job.id, volume: data.volumeId, retained: removal.retained.length, until },
          'retention kept snapshots still under Object Lock retention',
        );
      }
      const retention = policy.retention;
      tier = await applySnapshotTier(
        { provider, clock: deps.clock, log: deps.log, archiveJobState: await archiveStates(history, deps.archiveJobState, data) },
        { ...policy, retention },
        data.volumeId,
        entries,
        job.id,
        guard,
        newest,
      );
    }
    const replication = await replicateVolume(deps, policy, repo, pool, data.volumeId, job.id);
    let pruned = false;
    if (policy.prune) {
      const now = deps.clock.now().getTime();
      const last = Number((await deps.redis.get(lastPruneKey(deps.prefix, data.repository))) ?? 0);
      if (now - last >= policy.prune.every) {
        const lock = await deps.locks.tryAcquire(repositoryLockKey(deps.prefix, 'prune', data.repository), PRUNE_LOCK_TTL_MS);
        if (lock) {
          try {
            const report = await pruneRepository(repo, pool, {
              clock: deps.clock,
              ...(deps.hostname ? { hostname: deps.hostname } : {}),
              ...(deps.identity ? { identity: deps.identity } : {}),
            });
            await deps.redis.set(lastPruneKey(deps.prefix, data.repository), String(now));
            await deps.redis.set(lastMaintenanceKey(deps.prefix, data.repository), String(now));
            deps.log.info({ jobId: job.id, repository: data.repository, deletedPacks: report.deletedPacks, freedBytes: report.freedBytes }, 'pruned');
            if (report.retainedPacks > 0 && deps.alerts) {
              const summary = `prune of repository ${data.repository} left ${report.retainedPacks} unneeded pack(s) in place: Object Lock retains them until ${report.retainedUntil ?? 'a later date'}; the first prune after that deletes them`;
              await deps.alerts
                .send(
                  {
                    event: 'prune-leftovers',
                    at: deps.clock.now().toISOString(),
                    summary,
                    repository: data.repository,
                    details: { retainedPacks: report.retainedPacks, ...(report.retainedUntil ? { retainedUntil: report.retainedUntil } : {}) },
                  },
                  JSON.stringify(['repository', data.repository]),
                )
                .catch((err: Error) => deps.log.warn({ err: err.message }, 'could not enqueue a prune-leftovers alert'));
            }
            pruned = true;
          } catch (err) {
            // A prune outside the fleet (the CLI) holds the repository: the next retention job
            // after it prunes; failing this job would redo its forget for nothing.
            if (!(err instanceof RepositoryLockedError)) throw err;
            deps.log.warn({ jobId: job.id, repository: data.repository, err: err.message }, 'prune skipped: another prune holds the repository');
          } finally {
            await lock.release();
          }
        }
      }
    }
    const compacted = policy.maintenance && !pruned ? await maintain(deps, repo, data.repository, policy.maintenance.every, job.id) : false;
    const locality = policy.maintenance ? await relocate(deps, repo, pool, data.repository, data.volumeId, job.id) : undefined;
    return {
      volumeId: data.volumeId,
      removed,
      deletedSnapshots: tier.deleted,
      heldSnapshots: tier.held,
      pruned,
      compacted,
      copies,
      ...(locality ? { locality } : {}),
      ...(replication ? { replication } : {}),
    };
  };
}

function newestOf(entries: readonly SnapshotEntry[]): SnapshotEntry | undefined {
  let newest: SnapshotEntry | undefined;
  for (const e of entries) if (!newest || Date.parse(e.snapshot.time) >= Date.parse(newest.snapshot.time)) newest = e;
  return newest;
}

/**
 * Locality for this job's volume (engine/locality.ts): its newest snapshot, written by the
 * archive this retention job follows, is relocated when its restore would be scattered. Every
 * job of the volume assesses it (a walk of its manifest); the work is skipped, not awaited, while
 * a prune or maintenance holds the repository, and the next job of the volume does it.
 */
async function relocate(
  deps: RetentionDeps,
  repo: Repository,
  pool: CodecPool,
  repository: string,
  volumeId: string,
  jobId: string | undefined,
): Promise<VolumeLocality | undefined> {
  const lock = await deps.locks.tryAcquire(repositoryLockKey(deps.prefix, 'prune', repository), PRUNE_LOCK_TTL_MS);
  if (!lock) return undefined;
  try {
    const report = await maintainLocality(repo, pool, {
      volumes: [volumeId],
      clock: deps.clock,
      ...(deps.hostname ? { hostname: deps.hostname } : {}),
      ...(deps.identity ? { identity: deps.identity } : {}),
    });
    const v = report.volumes[0];
    if (v?.relocated)
      deps.log.info(
        {
          jobId,
          repository,
          volumeId,
          snapshotId: v.snapshotId,
          copiedBytes: v.copiedBytes,
          storedBytes: v.storedBytes,
          decodeAmplification: v.decodeAmplification,
          readsPerGiB: v.readsPerGiB,
        },
        'relocated the newest snapshot',
      );
    return v;
  } catch (err) {
    if (err instanceof RepositoryLockedError) return undefined;
    throw err;
  } finally {
    await lock.release();
  }
}

/**
 * Compacts the repository's index when its last compaction is `every` ago, under the same Redis
 * lock as prune (both take the repository's prune lease; the loser would only wait for it).
 */
async function maintain(deps: RetentionDeps, repo: Repository, repository: string, every: number, jobId: string | undefined): Promise<boolean> {
  const now = deps.clock.now().getTime();
  const last = Number((await deps.redis.get(lastMaintenanceKey(deps.prefix, repository))) ?? 0);
  if (now - last < every) return false;
  const lock = await deps.locks.tryAcquire(repositoryLockKey(deps.prefix, 'prune', repository), PRUNE_LOCK_TTL_MS);
  if (!lock) return false;
  try {
    const report = await compactIndex(repo, {
      clock: deps.clock,
      ...(deps.hostname ? { hostname: deps.hostname } : {}),
      ...(deps.identity ? { identity: deps.identity } : {}),
    });
    await deps.redis.set(lastMaintenanceKey(deps.prefix, repository), String(now));
    deps.log.info(
      { jobId, repository, adoptedPacks: report.adoptedPacks, objectsBefore: report.objectsBefore, objectsAfter: report.objectsAfter },
      'compacted the index',
    );
    return true;
  } catch (err) {
    if (err instanceof RepositoryLockedError) {
      deps.log.warn({ jobId, repository, err: err.message }, 'maintenance skipped: a prune holds the repository');
      return false;
    }
    if (err instanceof InvalidInputError) {
      // A format-1 repository cannot be compacted until it is migrated: say so once per
      // interval rather than fail every retention job of the policy.
      await deps.redis.set(lastMaintenanceKey(deps.prefix, repository), String(now));
      deps.log.warn({ jobId, repository, err: err.message }, 'maintenance skipped');
      return false;
    }
    throw err;
  } finally {
    await lock.release();
  }
}

/**
 * The state of the volume's archive jobs by id: the job itself while BullMQ keeps it, else what
 * the volume's archive history says of its slot (an archive that ended is gone from the queue
 * after `keepCompleted`, but recorded for `keepHistory`); "unknown" when neither knows it.
 */
async function archiveStates(history: ArchiveHistory, jobState: ArchiveJobState, data: VolumeJob): Promise<(jobId: string) => Promise<string>> {
  const ended = new Set(
    (await history.read(data.policy, data.volumeId).catch(() => [])).map((e) => volumeJobId('archive', data.policy, data.volumeId, e.slot)),
  );
  return async (jobId) => {
    const state = await jobState(jobId, data.region);
    return state === 'unknown' && ended.has(jobId) ? 'completed' : state;
  };
}
