/**
 * Disaster-recovery copies in the retention stage: for a provider with copy targets (AWS: other
 * regions), copies this slot's provider snapshot of the volume to every target, then applies each
 * target's own retention to the copies kept there. It runs before the snapshot tier, which may
 * delete the source snapshot. Every step is idempotent (a copy is found again by its source, a
 * deleted copy is gone), so a retried retention job repeats it safely.
 */
import { applyPolicy, type RetentionRules } from '@snapfleet/shared/retention';
import type { PolicyConfig } from '@snapfleet/shared/config';
import { policyTag, slotTag } from '@snapfleet/shared/jobs';
import { tierRules } from '@snapfleet/shared/retention';
import type { ProcessorDeps } from './processor-deps.js';

export interface SnapshotCopiesOutcome {
  /** Copy refs made or found for this slot. */
  copied: string[];
  /** Copy refs deleted by the targets' retention. */
  deleted: string[];
}

/** `targetRules`: the rules of each target that has its own (the fleet config's `copyRetentionOf`). */
export async function applySnapshotCopies(
  deps: Pick<ProcessorDeps, 'provider' | 'clock' | 'log'>,
  policy: PolicyConfig,
  volumeId: string,
  slot: string,
  targetRules: ReadonlyMap<string, RetentionRules>,
): Promise<SnapshotCopiesOutcome> {
  const copies = deps.provider.copies;
  const outcome: SnapshotCopiesOutcome = { copied: [], deleted: [] };
  if (!copies || copies.targets.length === 0) return outcome;
  const sources = (await deps.provider.listSnapshots(volumeId, [policyTag(policy.name), slotTag(slot)])).filter((s) => s.state === 'completed');
  for (const target of copies.targets) {
    for (const source of sources) outcome.copied.push(await copies.copy(volumeId, source.ref, target.name));
    // A target without rules of its own keeps what the policy's snapshot tier keeps; with neither, everything.
    const rules: RetentionRules | undefined = targetRules.get(target.name) ?? (policy.retention ? tierRules(policy.retention, 'snapshot') : undefined);
    if (!rules) continue;
    // Pending copies are neither counted nor deleted: a copy in flight is not yet a copy.
    const kept = (await copies.listCopies(volumeId, target.name, [policyTag(policy.name)])).filter((c) => c.state === 'completed');
    const plan = applyPolicy(
      kept.map((c) => ({ id: c.ref, time: c.time, tags: c.tags })),
      rules,
      deps.clock.now(),
    );
    for (const r of plan.remove) {
      await deps.provider.deleteSnapshot(r.snapshot.id);
      outcome.deleted.push(r.snapshot.id);
    }
    if (plan.remove.length) deps.log.info({ volume: volumeId, target: target.name, deleted: plan.remove.length }, 'copy retention deleted copies');
  }
  return outcome;
}
