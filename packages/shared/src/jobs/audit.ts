/**
 * An audit entry: who did what to what, when, and how it ended (docs/operations.md, "Audit
 * log"). Ids, names and outcomes only: an entry never holds a secret, so `details` takes short
 * strings and numbers that the caller picks, never a config or a request body.
 */
/**
 * Actions on a repository (`snapfleet forget --repo ...` and the like): recorded in the repository
 * itself (docs/format.md, "Audit entries") and, when the command knows the fleet, here too.
 */
export const REPOSITORY_AUDIT_ACTIONS = [
  'forget',
  'prune',
  'key-add',
  'key-remove',
  'key-passwd',
  'unlock',
  'repair-index',
  'repair-packs',
  'repair-snapshots',
  'migrate',
  'maintenance',
] as const;
export type RepositoryAuditAction = (typeof REPOSITORY_AUDIT_ACTIONS)[number];

export const AUDIT_ACTIONS = [
  'backup-now',
  'config-reload',
  'job-retry',
  'job-remove',
  'job-promote',
  'board-action',
  'retention-confirm',
  ...REPOSITORY_AUDIT_ACTIONS,
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}

export interface AuditEntry {
  /** ISO 8601. */
  at: string;
  /** Who: a board user (`alice (board)`), or the OS user and host of a CLI or fleet process. */
  actor: string;
  action: AuditAction;
  /** What it acted on: a policy, a queue and job id, a config file. */
  target: string;
  outcome: 'ok' | 'refused' | 'failed';
  details?: Record<string, string | number | boolean>;
}

/** An entry read back, with its position in the log. */
export interface StoredAuditEntry extends AuditEntry {
  id: string;
}
