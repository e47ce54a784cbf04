/**
 * The history that archive selection (archive-selection.ts) decides against, built from what a
 * worker can see when an archive job runs: the provider's snapshot tier of one volume and policy,
 * and the repository's archived snapshots of the same. Both name a point in time by the same key
 * (the fleet's slot), so a point in time present in both lists is one entry, marked archived.
 * Deriving the history from these two lists, rather than from a record of earlier decisions,
 * lets a retried job and any worker reach the same answer from the same state.
 */
import type { ArchiveSelection } from './policy-schema.js';
import type { SelectionSnapshot } from './archive-selection.js';

export interface SlotEntry {
  /** The key both lists share (the fleet's slot). */
  readonly id: string;
  readonly time: Date | string;
}

/**
 * `tier`: the provider snapshots; `archived`: the repository's snapshots. Duplicate ids in one
 * list count once.
 *
 * "every-nth" counts the snapshots since the last archived one, which only a gap-free list can
 * tell: the snapshot tier. An archived snapshot whose provider snapshot retention has already
 * deleted is therefore left out: the unarchived snapshots deleted with it would go uncounted,
 * and counting from it could stop archiving for good. Without one, the rule archives (it
 * degrades to archiving more often, never to never). "first-of-month" only asks whether the
 * month already has an archived snapshot, which the repository answers even after the snapshot
 * tier let go of it.
 */
export function selectionHistory(tier: readonly SlotEntry[], archived: readonly SlotEntry[], selection: ArchiveSelection): SelectionSnapshot[] {
  const archivedIds = new Set(archived.map((a) => a.id));
  const out = new Map<string, SelectionSnapshot>();
  for (const s of tier) if (!out.has(s.id)) out.set(s.id, { id: s.id, time: s.time, archived: archivedIds.has(s.id) });
  if (selection.mode !== 'every-nth') {
    for (const a of archived) if (!out.has(a.id)) out.set(a.id, { id: a.id, time: a.time, archived: true });
  }
  return [...out.values()];
}
