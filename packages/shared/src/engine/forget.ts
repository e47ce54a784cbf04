/**
 * Forget: applies retention rules to each volume's snapshots and removes the snapshot objects the
 * rules do not keep. Only snapshot objects go; the data they alone referenced becomes garbage for
 * prune. Removing a snapshot object is atomic and safe while archives run.
 */
import { applyPolicy, type RetentionRules } from '../retention/index.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { snapshotKey } from '../format/layout.js';
import type { Repository } from './repository.js';

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

export async function removeSnapshots(repo: Repository, ids: readonly string[]): Promise<void> {
  for (const id of ids) await repo.store.delete(snapshotKey(id));
}
