/**
 * Orphans (docs/operations.md, "Orphans"): the (policy, volume) pairs whose snapshots no policy
 * looks after any more, a volume `gone` from its policy or `orphan` under a policy the config no
 * longer has, and when the config's `orphans` rule reaches them: once their newest recovery
 * point is `after` old, so a volume that comes back within it loses nothing.
 */
import type { OrphansConfig } from '../config/orphans-schema.js';
import type { GuardedRules } from '../retention/retention-change.js';
import type { VolumeCompliance } from './assess.js';

export function isOrphan(v: Pick<VolumeCompliance, 'state'>): boolean {
  return v.state === 'gone' || v.state === 'orphan';
}

/** ISO 8601: from when the rule applies to this orphan; undefined without a rule or a recovery point. */
export function orphanRuleFrom(v: VolumeCompliance, orphans: OrphansConfig | undefined): string | undefined {
  if (!orphans || !isOrphan(v) || !v.recoveryPoint) return undefined;
  return new Date(Date.parse(v.recoveryPoint.time) + orphans.after).toISOString();
}

/** The orphans the rule applies to now, oldest recovery point first. */
export function dueOrphans(volumes: readonly VolumeCompliance[], orphans: OrphansConfig, now: Date): VolumeCompliance[] {
  return volumes
    .filter((v) => {
      const from = orphanRuleFrom(v, orphans);
      return from !== undefined && Date.parse(from) <= now.getTime();
    })
    .sort((a, b) => Date.parse(a.recoveryPoint!.time) - Date.parse(b.recoveryPoint!.time));
}

/** Each orphan gone or orphaned gets the time its rule applies from. */
export function withOrphanRules(volumes: readonly VolumeCompliance[], orphans: OrphansConfig | undefined): VolumeCompliance[] {
  return volumes.map((v) => {
    const from = orphanRuleFrom(v, orphans);
    return from ? { ...v, orphanRuleFrom: from } : v;
  });
}

/** The orphans rule in the form the retention guard compares (a tier it does not name keeps everything). */
export function orphanGuardedRules(orphans: OrphansConfig): GuardedRules {
  return { archive: orphans.archiveTier ?? null, snapshot: orphans.snapshotTier ?? null };
}
