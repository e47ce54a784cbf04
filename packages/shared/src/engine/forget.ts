/**
 * Forget: applies retention rules to each volume's snapshots and removes the snapshot objects the
 * rules do not keep. Only snapshot objects go; the data they alone referenced becomes garbage for
 * prune. Removing a snapshot object is atomic and safe while archives run.
 */
import { applyPolicy, type RetentionRules } from '../retention/index.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { SNAPSHOTS_PREFIX, snapshotKey } from '../format/layout.js';
import { listSnapshotKeys } from './snapshot-objects.js';
import type { Repository } from './repository.js';
import { RetainedObjectError } from '../errors.js';

export interface VolumeForgetPlan {
  volumeId: string;
  keep: { entry: SnapshotEntry; reasons: string[] }[];
  remove: SnapshotEntry[];
}

/** Groups by volume and applies the rules to each group; newest first within a group. */
export function planForget(entries: readonly SnapshotEntry[], rules: RetentionRules, now: Date): VolumeForgetPlan[] {
  const byVolume = new Map<string, SnapshotEntry[]>();
  for (const e of entries) byVolume.set(e.snapshot.volumeId, [...(byVolume.get(e.snapshot.volumeId) ?? []), e]);
  return [...byVolume.keys()].sort().map((volumeId) => {
    const list = byVolume.get(volumeId)!.map((entry) => ({ id: entry.id, time: entry.snapshot.time, tags: entry.snapshot.tags, entry }));
    const result = applyPolicy(list, rules, now);
    return {
      volumeId,
      keep: result.keep.map((k) => ({ entry: k.snapshot.entry, reasons: k.reasons })),
      remove: result.remove.map((r) => r.snapshot.entry),
    };
  });
}

/**
 * Removes snapshot objects. An entry from a listing is deleted under the key it was read from
 * and under the other form of its key: a repository that `migrate` is upgrading may hold one
 * snapshot under both (docs/format.md, "Snapshot"), and deleting a missing key costs one request.
 * The flat key goes first: migrate stores the per-volume copy, then deletes its own copy again
 * if the flat key is gone by then, so a forget racing a migrate cannot bring a snapshot back.
 * A bare id (a damaged snapshot, whose volume is unknown) is removed under every key a listing
 * of the snapshot keys finds for it.
 */
export async function removeSnapshots(
  repo: Repository,
  snapshots: readonly (SnapshotEntry | string)[],
  onRemoved?: (id: string) => void,
): Promise<RemovalReport> {
  const listed = snapshots.some((s) => typeof s === 'string') ? await listSnapshotKeys(repo.store, SNAPSHOTS_PREFIX) : undefined;
  const report: RemovalReport = { removed: [], retained: [] };
  for (const s of snapshots) {
    const id = typeof s === 'string' ? s : s.id;
    const keys = typeof s === 'string' ? (listed!.get(s) ?? []).map((k) => k.key) : [snapshotKey(s.id), snapshotKey(s.id, repo.volumeKey(s.snapshot.volumeId))];
    if (typeof s !== 'string' && s.key && !keys.includes(s.key)) keys.unshift(s.key);
    try {
      for (const key of keys) await repo.store.delete(key);
    } catch (err) {
      // Object Lock: the snapshot stays until its date; a later forget removes it then.
      if (!(err instanceof RetainedObjectError)) throw err;
      report.retained.push({ id, until: err.until.toISOString() });
      continue;
    }
    report.removed.push(id);
    onRemoved?.(id);
  }
  return report;
}

export interface RemovalReport {
  removed: string[];
  /** Snapshots kept because Object Lock retention holds them, with its date. */
  retained: { id: string; until: string }[];
}
