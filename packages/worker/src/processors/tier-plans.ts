/**
 * What one tier's rules delete of one volume, for every form of rules a job may run or be
 * compared with (shared/retention/retention-change.ts): keep-* rules, "delete" (the orphans
 * rule's "all of it") and null (keep everything: a policy without retention).
 */
import { planForget, type SnapshotEntry } from '@snapfleet/shared';
import { planSnapshotTier, type GuardedTierRules, type TierSnapshot } from '@snapfleet/shared/retention';

export function archiveTierRemovals(entries: readonly SnapshotEntry[], rules: GuardedTierRules, now: Date): SnapshotEntry[] {
  if (rules === null) return [];
  if (rules === 'delete') return [...entries];
  return planForget(entries, rules, now).flatMap((p) => p.remove);
}

/** Pending and failed snapshots, and those an archive may still need, are never deleted (snapshot-tier.ts). */
export function snapshotTierRemovals<S extends TierSnapshot>(
  snapshots: readonly S[],
  rules: GuardedTierRules,
  now: Date,
  newestArchived: Date | undefined,
  nextParent?: string,
): S[] {
  if (rules === null) return [];
  if (rules === 'delete')
    return snapshots.filter((s) => s.state === 'completed' && (s.archive === 'archived' || s.archive === 'finished') && s.id !== nextParent);
  return planSnapshotTier(snapshots, rules, now, newestArchived, nextParent).remove;
}
