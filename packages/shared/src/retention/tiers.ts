/**
 * Two-tier retention: the snapshot tier (provider volume snapshots, e.g. EBS) and the archive tier
 * (the repository) are separate populations with separate rules, so a volume's snapshots are split
 * by `tier` and each part runs through applyPolicy with its own rules and the policy's time zone.
 * A snapshot that exists in both tiers appears twice (once per tier) and may be removed from one
 * while kept in the other: that is the point of tiers.
 */
import { applyPolicy, type RetentionResult } from './apply-policy.js';
import { type RetentionPolicy, type Tier, tierRules } from './policy-schema.js';
import type { RetentionSnapshot } from './snapshot-order.js';
import { InvalidInputError } from '../errors.js';

export interface TieredRetentionResult<S> {
  snapshotTier: RetentionResult<S>;
  archiveTier: RetentionResult<S>;
}

export function applyTieredPolicy<S extends RetentionSnapshot>(snapshots: readonly S[], policy: RetentionPolicy, now: Date | string): TieredRetentionResult<S> {
  const byTier: Record<Tier, S[]> = { snapshot: [], archive: [] };
  for (const s of snapshots) {
    if (s.tier !== 'snapshot' && s.tier !== 'archive') {
      throw new InvalidInputError(`snapshot ${s.id}: tier must be "snapshot" or "archive", got ${JSON.stringify(s.tier)}`, 'tier');
    }
    byTier[s.tier].push(s);
  }
  return {
    snapshotTier: applyPolicy(byTier.snapshot, tierRules(policy, 'snapshot'), now),
    archiveTier: applyPolicy(byTier.archive, tierRules(policy, 'archive'), now),
  };
}
