/**
 * Which new snapshot-tier snapshots are also archived into the repository. Archiving every EBS
 * snapshot is the default; "every Nth" and "first of each month" trade archive granularity for
 * cost. A pure function of the snapshot tier's history, so a retried planner reaches the same
 * answer, and robust to that history having been pruned: it looks for the last snapshot that was
 * *selected*, not at positions (positions shift every time retention removes an old snapshot).
 */
import { bucketKey } from './calendar-buckets.js';
import type { ArchiveSelection } from './policy-schema.js';
import { type RetentionSnapshot, toInstant } from './snapshot-order.js';
import { UTC, wallClock } from './zoned-time.js';

export interface SelectionSnapshot extends RetentionSnapshot {
  /**
   * True once the snapshot was selected for archiving (its archive job was enqueued), whether or
   * not the archive has finished: that keeps a second snapshot from being selected for the same
   * month while the first is still being archived.
   */
  readonly archived: boolean;
}

export interface ArchiveDecision {
  archive: boolean;
  /** Stable text for logs and `--dry-run`, e.g. "every-nth: 2 snapshots since the last archived (n=3)". */
  reason: string;
}

/**
 * Decides whether `candidate` should also be archived. `history` is the snapshot tier's current
 * list (it may include the candidate itself, which is ignored); only history older than the
 * candidate counts. `timeZone` defines months for "first-of-month" (the policy's zone).
 */
export function shouldArchive(
  history: readonly SelectionSnapshot[],
  candidate: RetentionSnapshot,
  selection: ArchiveSelection,
  timeZone: string = UTC,
): ArchiveDecision {
  const at = toInstant(candidate.time, `snapshot ${candidate.id}`);
  const older = history
    .filter((s) => s.id !== candidate.id)
    .map((s) => ({ s, time: toInstant(s.time, `snapshot ${s.id}`) }))
    // Same order as retention (snapshot-order.ts): newest first, equal times by id.
    .filter((e) => e.time < at || (e.time === at && e.s.id > candidate.id))
    .sort((a, b) => b.time - a.time || (a.s.id < b.s.id ? -1 : 1));
  switch (selection.mode) {
    case 'every-snapshot':
      return { archive: true, reason: 'every-snapshot' };
    case 'every-nth': {
      const sinceLast = older.findIndex((e) => e.s.archived);
      if (sinceLast === -1) {
        // Nothing selected in the visible history: either the first snapshot ever, or the last
        // archived one was already pruned from the snapshot tier. Archiving errs on the safe side.
        return { archive: true, reason: `every-nth: no archived snapshot in the snapshot tier (n=${selection.n})` };
      }
      const archive = sinceLast >= selection.n - 1;
      return { archive, reason: `every-nth: ${sinceLast} snapshots since the last archived (n=${selection.n})` };
    }
    case 'first-of-month': {
      const month = bucketKey('monthly', wallClock(at, timeZone));
      const taken = older.find((e) => e.s.archived && bucketKey('monthly', wallClock(e.time, timeZone)) === month);
      return taken
        ? { archive: false, reason: `first-of-month: ${taken.s.id} already archived for ${month.slice(2)}` }
        : { archive: true, reason: `first-of-month: first archived snapshot of ${month.slice(2)}` };
    }
  }
}
