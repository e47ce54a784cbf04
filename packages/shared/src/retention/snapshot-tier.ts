/**
 * Snapshot-tier retention in the fleet: which provider snapshots (EBS snapshots) of one volume and
 * policy to delete. The tier's rules decide among the completed snapshots; a snapshot they do not
 * keep is deleted only once its slot's archive can no longer need it, because the archive reads
 * the provider snapshot and a deleted one cannot be archived any more.
 */
import { applyPolicy, type KeptSnapshot } from './apply-policy.js';
import type { RetentionRules } from './rules-schema.js';
import { type RetentionSnapshot, toInstant } from './snapshot-order.js';

/**
 * What became of a snapshot's archive, as the caller found it:
 * - `archived`: the repository holds the snapshot of its slot;
 * - `finished`: its archive job completed (archived, found or skipped by archive selection) or
 *   failed for good;
 * - `running`: its archive job is still to run or running (waiting, delayed, active, retrying);
 * - `unknown`: no archive job is known (removed after `keepCompleted`, or never enqueued here).
 */
export type ArchiveProgress = 'archived' | 'finished' | 'running' | 'unknown';

export interface TierSnapshot extends RetentionSnapshot {
  readonly state: 'pending' | 'completed' | 'error';
  readonly archive: ArchiveProgress;
}

export interface HeldSnapshot<S> {
  snapshot: S;
  /** Why it is not deleted although the rules did not keep it (or why the rules never saw it). */
  reason: string;
}

export interface SnapshotTierPlan<S> {
  /** Kept by the rules, with their reasons (retention.md), newest first. */
  keep: KeptSnapshot<S>[];
  /** To delete, newest first. */
  remove: S[];
  /** Neither: pending or failed snapshots, and snapshots whose archive may still need them. */
  held: HeldSnapshot<S>[];
}

export const HELD_PENDING = 'pending: not counted until completed';
export const HELD_ERROR = 'failed in the provider: not counted, left for an operator';
export const HELD_ARCHIVE_RUNNING = 'its archive has not finished';
export const HELD_MAY_BE_ARCHIVED = 'not archived and newer than the newest archived snapshot: it may still be archived';
export const HELD_NEXT_PARENT = "the next archive's parent: it reads only the blocks changed since this snapshot";

/**
 * `newestArchived` is the time of the newest archived snapshot of the volume and policy (none:
 * nothing archived yet). A snapshot whose archive job is unknown is deleted only when it is
 * older than that: an archive newer than the newest archived one may still be on its way (a
 * job the caller cannot see, such as one enqueued under another prefix); an older one is either
 * archived or was passed over.
 *
 * Pending and failed snapshots are left out of the rules: counting a snapshot that may never
 * complete could push a good one out of the quota.
 *
 * `nextParent` is the id of the provider snapshot the volume's newest archive was read from: the
 * next archive asks the provider for the blocks changed since it. It is never deleted, whatever
 * the rules say; without it the next archive would read every written block again.
 */
export function planSnapshotTier<S extends TierSnapshot>(
  snapshots: readonly S[],
  rules: RetentionRules,
  now: Date | string,
  newestArchived?: Date | string,
  nextParent?: string,
): SnapshotTierPlan<S> {
  const held: HeldSnapshot<S>[] = [];
  const completed: S[] = [];
  for (const s of snapshots) {
    if (s.state === 'pending') held.push({ snapshot: s, reason: HELD_PENDING });
    else if (s.state === 'error') held.push({ snapshot: s, reason: HELD_ERROR });
    else completed.push(s);
  }
  const result = applyPolicy(completed, rules, now);
  const newest = newestArchived === undefined ? undefined : toInstant(newestArchived, 'newest archived snapshot');
  const remove: S[] = [];
  for (const { snapshot } of result.remove) {
    const reason = snapshot.id === nextParent ? HELD_NEXT_PARENT : holdReason(snapshot, newest);
    if (reason) held.push({ snapshot, reason });
    else remove.push(snapshot);
  }
  return { keep: result.keep, remove, held };
}

function holdReason(s: TierSnapshot, newestArchived: number | undefined): string | undefined {
  switch (s.archive) {
    case 'archived':
    case 'finished':
      return undefined;
    case 'running':
      return HELD_ARCHIVE_RUNNING;
    case 'unknown':
      return newestArchived !== undefined && toInstant(s.time, `snapshot ${s.id}`) < newestArchived ? undefined : HELD_MAY_BE_ARCHIVED;
  }
}
