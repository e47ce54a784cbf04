/**
 * Redis keys the fleet owns besides BullMQ's queues, all under the fleet prefix so several fleets
 * (and tests) share one Redis without colliding: `${prefix}:fleet:...`.
 */
import { encodePolicyPart, encodeVolumeIdPart } from './job-ids.js';

export function stageLockKey(prefix: string, stage: string, volumeId: string): string {
  return `${prefix}:fleet:lock:${stage}:${encodeVolumeIdPart(volumeId)}`;
}

export function repositoryLockKey(prefix: string, what: string, repository: string): string {
  return `${prefix}:fleet:lock:${what}:${encodePolicyPart(repository)}`;
}

/** The slots of one policy's running jobs in a stage (a sorted set: holder token -> expiry). */
export function policySlotsKey(prefix: string, stage: string, policy: string): string {
  return `${prefix}:fleet:slots:${stage}:${encodePolicyPart(policy)}`;
}

export function lastPruneKey(prefix: string, repository: string): string {
  return `${prefix}:fleet:last-prune:${encodePolicyPart(repository)}`;
}

/** When the fleet last compacted a repository's index (a prune or a maintenance run). */
export function lastMaintenanceKey(prefix: string, repository: string): string {
  return `${prefix}:fleet:last-maintenance:${encodePolicyPart(repository)}`;
}

export function fleetMetricsKey(prefix: string): string {
  return `${prefix}:fleet:metrics`;
}

/**
 * What the fleet records for RPO compliance (docs/operations.md): per (policy, volume) its newest
 * archive, its newest provider snapshot, the last job that gave up and its last restore drill,
 * one hash each.
 */
export function complianceKey(prefix: string, kind: 'archive' | 'snapshot' | 'error' | 'drill'): string {
  return `${prefix}:fleet:compliance:${kind}`;
}

/** The volumes a policy covered at its latest full discovery (a hash: volume -> when first covered), and when it ran (a hash per policy). */
export function coveredVolumesKey(prefix: string, policy: string): string {
  return `${prefix}:fleet:compliance:covered:${encodePolicyPart(policy)}`;
}

/**
 * Each (policy, volume)'s recent archive outcomes (a hash: field [policy, volume], value a short
 * JSON list of [slot, outcome, slot time]), kept `fleet.jobs.keepHistory` after the job hashes
 * themselves are gone (docs/operations.md, "Queues and job ids").
 */
export function archiveHistoryKey(prefix: string): string {
  return `${prefix}:fleet:history:archive`;
}

export function discoveredAtKey(prefix: string): string {
  return `${prefix}:fleet:compliance:discovered-at`;
}

/** Per (policy, volume), the RPO state alerts were last decided for (a hash; docs/operations.md, "Alerts"). */
export function alertStateKey(prefix: string): string {
  return `${prefix}:fleet:alerts:rpo-state`;
}

/** Held for the quiet period after an alert about `subject` was sent: the next one waits it out. */
export function alertQuietKey(prefix: string, event: string, subject: string): string {
  return `${prefix}:fleet:alerts:quiet:${event}:${subject}`;
}

/** The fleet's audit log (a Redis stream): operator actions, never trimmed by the board. */
export function auditStreamKey(prefix: string): string {
  return `${prefix}:fleet:audit`;
}

/**
 * Retention rules an operator accepted, per subject (`policy/<name>`, `orphans`): a hash of their
 * canonical text (shared/retention/retention-change.ts; docs/operations.md, "Retention changes").
 */
export function retentionAcceptedKey(prefix: string): string {
  return `${prefix}:fleet:retention:accepted`;
}

/** Retention changes held per (subject, volume, tier), with what they would have deleted (a hash). */
export function retentionHeldKey(prefix: string): string {
  return `${prefix}:fleet:retention:held`;
}

/** The subject of a policy's rules, or of the orphans rule, in the two hashes above. */
export function retentionSubject(policy?: string): string {
  return policy === undefined ? 'orphans' : `policy/${policy}`;
}
