/**
 * Snapshot-tier retention: applies the policy's `snapshotTier` rules to the provider snapshots of
 * one volume and policy and deletes those not kept, through the provider. What the rules let go
 * is deleted only once its slot's archive can no longer need it (planSnapshotTier): the archive
 * reads the provider snapshot, so deleting it early would fail or lose that archive. Whether an
 * archive is done comes from the repository (its slot is archived) and the archive queue (its
 * job completed, was skipped, or failed for good).
 */
import type { SnapshotEntry } from '@snapfleet/shared';
import type { PolicyConfig } from '@snapfleet/shared/config';
import { policyTag, slotOfTags, timeFromSlot, volumeJobId } from '@snapfleet/shared/jobs';
import { planSnapshotTier, tierRules, type ArchiveProgress, type RetentionPolicy, type TierSnapshot } from '@snapfleet/shared/retention';
import type { ProcessorDeps } from './processor-deps.js';
import type { TierGuard } from './tier-guard.js';
import { snapshotTierRemovals } from './tier-plans.js';

/** Why a snapshot the rules let go stays: the change of rules that lets it go is not confirmed. */
export const HELD_CHANGE_UNCONFIRMED = 'the retention change that drops it deletes more than retentionGuard.maxShare: held until snapfleet retention confirm';

/** BullMQ's job states (Queue.getJobState); "unknown" when no such job exists. */
/** The BullMQ state of an archive job, looked up in the queue of `region` when jobs are routed by region. */
export type ArchiveJobState = (jobId: string, region?: string) => Promise<string>;

export interface SnapshotTierDeps extends Pick<ProcessorDeps, 'provider' | 'clock' | 'log'> {
  archiveJobState: ArchiveJobState;
}

export interface SnapshotTierOutcome {
  /** Provider snapshot refs deleted. */
  deleted: string[];
  /** Not deleted although the rules did not keep them (or not counted), with the reason. */
  held: { ref: string; reason: string }[];
}

interface ListedSnapshot extends TierSnapshot {
  ref: string;
}

function progressOf(state: string): ArchiveProgress {
  if (state === 'completed' || state === 'failed') return 'finished';
  return state === 'unknown' ? 'unknown' : 'running';
}

/**
 * `archived`: the repository's snapshots of this volume and policy, as listed before this job's
 * archive-tier retention removed any (a slot archived once has finished its archive).
 * `newest`: the volume's newest repository snapshot (of any policy). The next archive lists the
 * blocks changed since the provider snapshot it was read from, which is kept whatever the rules
 * say. That is the listed snapshot of its policy and slot: provider refs need not equal the
 * source's own id (AWS: aws:<region>:<snapshot id>), a slot is the same everywhere.
 */
export async function applySnapshotTier(
  deps: SnapshotTierDeps,
  policy: PolicyConfig & { retention: RetentionPolicy },
  volumeId: string,
  archived: readonly SnapshotEntry[],
  jobId: string | undefined,
  guard?: TierGuard,
  newest?: SnapshotEntry,
): Promise<SnapshotTierOutcome> {
  const listed = await deps.provider.listSnapshots(volumeId, [policyTag(policy.name)]);
  if (listed.length === 0) return { deleted: [], held: [] };
  const archivedSlots = new Set(archived.flatMap((e) => slotOfTags(e.snapshot.tags) ?? []));
  const newestArchived = archived
    .map((e) => new Date(e.snapshot.time))
    .sort((a, b) => a.getTime() - b.getTime())
    .at(-1);
  const parentSlot = newest && newest.snapshot.tags.includes(policyTag(policy.name)) ? slotOfTags(newest.snapshot.tags) : undefined;
  let nextParent: string | undefined;
  const snapshots: ListedSnapshot[] = [];
  for (const s of listed) {
    const slot = slotOfTags(s.tags);
    if (slot !== undefined && slot === parentSlot) nextParent = s.ref;
    let archive: ArchiveProgress = 'unknown';
    if (slot && archivedSlots.has(slot)) archive = 'archived';
    // Only a completed snapshot can be up for deletion; the others need no queue lookup.
    else if (slot && s.state === 'completed') archive = progressOf(await deps.archiveJobState(volumeJobId('archive', policy.name, volumeId, slot)));
    // The slot time, as in the archive tier, so both tiers put a point in time in the same buckets.
    snapshots.push({ id: s.ref, ref: s.ref, time: slot ? timeFromSlot(slot) : s.time, state: s.state, archive });
  }
  const now = deps.clock.now();
  const plan = planSnapshotTier(snapshots, tierRules(policy.retention, 'snapshot'), now, newestArchived, nextParent);
  const completed = snapshots.filter((s) => s.state === 'completed').length;
  const remove = guard
    ? await guard(
        'snapshot',
        completed,
        (rules) => snapshotTierRemovals(snapshots, rules, now, newestArchived, nextParent),
        (s) => s.ref,
      )
    : plan.remove;
  const removing = new Set(remove.map((s) => s.ref));
  const unconfirmed = plan.remove.filter((s) => !removing.has(s.ref)).map((s) => ({ snapshot: s, reason: HELD_CHANGE_UNCONFIRMED }));
  const deleted: string[] = [];
  for (const s of remove) {
    await deps.provider.deleteSnapshot(s.ref);
    deleted.push(s.ref);
  }
  const held = [...plan.held, ...unconfirmed].map((h) => ({ ref: h.snapshot.ref, reason: h.reason }));
  if (deleted.length || held.length) deps.log.info({ jobId, policy: policy.name, volume: volumeId, deleted, held }, 'snapshot tier retention applied');
  return { deleted, held };
}
