/**
 * Whether a slot's snapshot goes to the archive tier, by the policy's archive selection
 * (docs/retention.md). Decided when the archive job runs, from the provider's snapshot tier of
 * the volume and policy and the repository's archived snapshots of the same: a retried job and
 * any worker see the same lists and reach the same answer, and archives of one volume never run
 * at once (the per-(volume, stage) lock), so no decision races another.
 */
import type { SnapshotEntry, VolumeProvider } from '@snapfleet/shared';
import type { PolicyConfig } from '@snapfleet/shared/config';
import { policyTag, slotOfTags, timeFromSlot } from '@snapfleet/shared/jobs';
import { selectionHistory, shouldArchive, type ArchiveDecision, type SlotEntry } from '@snapfleet/shared/retention';

export const EVERY_SNAPSHOT: ArchiveDecision = { archive: true, reason: 'every-snapshot' };

/** `entries`: the repository's snapshots of the volume (any policy). */
export async function decideArchive(
  provider: VolumeProvider,
  policy: PolicyConfig,
  volumeId: string,
  slot: string,
  entries: readonly SnapshotEntry[],
): Promise<ArchiveDecision> {
  const retention = policy.retention;
  if (!retention || retention.archiveSelection.mode === 'every-snapshot') return EVERY_SNAPSHOT;
  const tag = policyTag(policy.name);
  const tier: SlotEntry[] = (await provider.listSnapshots(volumeId, [tag]))
    // A failed provider snapshot is no member of the tier: it must not advance every-nth's count.
    .filter((s) => s.state !== 'error')
    .map((s) => slotEntry(s.tags, s.ref, s.time));
  const archived = entries.filter((e) => e.snapshot.tags.includes(tag)).map((e) => slotEntry(e.snapshot.tags, e.id, e.snapshot.time));
  const history = selectionHistory(tier, archived, retention.archiveSelection);
  return shouldArchive(history, { id: slot, time: timeFromSlot(slot) }, retention.archiveSelection, retention.timeZone);
}

/** Both tiers are keyed by the slot their tags name, the instant the fleet archives them at. */
function slotEntry(tags: readonly string[], fallbackId: string, fallbackTime: Date | string): SlotEntry {
  const slot = slotOfTags(tags);
  return slot ? { id: slot, time: timeFromSlot(slot) } : { id: fallbackId, time: fallbackTime };
}
