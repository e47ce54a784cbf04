/**
 * RPO compliance of every volume the fleet backs up: from what the fleet recorded per (policy,
 * volume) (its newest archive, its newest provider snapshot, the last error of a job that gave
 * up) and which volumes each policy covers now, the age of each volume's newest recovery point
 * against its policy's RPO. Pure: status, the board and metrics feed it what they read.
 *
 * A volume that disappeared or left a policy (it has recovery points under the policy but the
 * policy no longer covers it) is reported as `gone`, and one under a policy that the config no
 * longer has as `orphan`: never silently dropped.
 */

/** A recovery point in time: the scheduled slot its data is from, and which snapshot holds it. */
export interface RecoveryPoint {
  /** ISO 8601: when the volume's data was taken (the job's slot). */
  time: string;
  /** The repository snapshot id (an archive) or the provider's snapshot reference. */
  id?: string;
  /** The repository an archive is in: what orphan expiry opens once the policy left the config. */
  repository?: string;
}

export interface JobFailure {
  queue: string;
  jobId?: string;
  /** The flow's slot: a flow's first failure is its cause, its parents then fail only because of it. */
  slot?: string;
  message: string;
  /** ISO 8601: when the job gave up. */
  at: string;
}

/** The outcome of a volume's last restore drill (docs/operations.md, "Restore drills"). */
export interface DrillResult {
  /** ISO 8601: when the drill ran. */
  at: string;
  snapshotId: string;
  ok: boolean;
  /** Seconds the restore took: the measured recovery time. */
  rtoSeconds?: number;
  /** Why it failed. */
  message?: string;
}

/** What the fleet recorded of one volume under one policy. */
export interface VolumeRecord {
  policy: string;
  volumeId: string;
  lastArchive?: RecoveryPoint;
  /** The newest provider snapshot (the snapshot tier), archived or not. */
  lastSnapshot?: RecoveryPoint;
  /** The last job of the volume's flow that failed for good, since its last success. */
  lastError?: JobFailure;
  lastDrill?: DrillResult;
}

export interface CompliancePolicy {
  name: string;
  rpoMs: number;
  /** The volumes the policy covers now; undefined when discovery has not run or failed. */
  volumes?: readonly string[];
  /** ISO 8601 per volume: since when the policy has covered it (a new volume gets one RPO for its first backup). */
  coveredSince?: ReadonlyMap<string, string>;
}

export type ComplianceState =
  /** The newest recovery point is within the RPO. */
  | 'ok'
  /** The newest recovery point is older than the RPO. */
  | 'breached'
  /** Covered by the policy for longer than the RPO (or since unknown), and no recovery point exists. */
  | 'never'
  /** Covered for less than the RPO, and no recovery point yet: its first backup is not due. */
  | 'pending'
  /** Has recovery points under the policy, which no longer covers it. */
  | 'gone'
  /** Has recovery points under a policy the config no longer has. */
  | 'orphan';

export interface VolumeCompliance {
  policy: string;
  volumeId: string;
  state: ComplianceState;
  /** The policy's RPO; absent for orphans. */
  rpoSeconds?: number;
  /** The newer of lastArchive and lastSnapshot: what a restore could go back to. */
  recoveryPoint?: RecoveryPoint;
  /** Age of the recovery point. */
  ageSeconds?: number;
  /**
   * ageSeconds - rpoSeconds: how far past (positive) or within (negative) the RPO. Without a
   * recovery point, the time covered takes the place of the age.
   */
  overBySeconds?: number;
  /** ISO 8601: since when the policy has covered the volume, where known. */
  coveredSince?: string;
  lastArchive?: RecoveryPoint;
  lastSnapshot?: RecoveryPoint;
  lastError?: JobFailure;
  lastDrill?: DrillResult;
  /**
   * Gone and orphan volumes under an `orphans` rule: ISO 8601, from when the rule applies to
   * their snapshots (compliance/orphans.ts). Absent on such a volume: its snapshots are kept.
   */
  orphanRuleFrom?: string;
}

export interface PolicyCompliance {
  policy: string;
  rpoSeconds: number;
  volumes: number;
  breached: number;
  never: number;
  pending: number;
  gone: number;
}

/** Worst first: breached and never (the longest past the RPO first), then gone, orphan, then ok and pending (the closest to it first). */
const RANK: Record<ComplianceState, number> = { never: 0, breached: 0, gone: 1, orphan: 2, pending: 3, ok: 3 };

const key = (policy: string, volumeId: string) => `${policy}\u0000${volumeId}`;

export function assessCompliance(policies: readonly CompliancePolicy[], records: readonly VolumeRecord[], now: Date): VolumeCompliance[] {
  const byKey = new Map(records.map((r) => [key(r.policy, r.volumeId), r]));
  const byName = new Map(policies.map((p) => [p.name, p]));
  const out: VolumeCompliance[] = [];
  const seen = new Set<string>();
  for (const p of policies) {
    for (const volumeId of p.volumes ?? []) {
      const k = key(p.name, volumeId);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(judge(p, byKey.get(k) ?? { policy: p.name, volumeId }, now, true));
    }
  }
  for (const r of records) {
    const k = key(r.policy, r.volumeId);
    if (seen.has(k)) continue;
    seen.add(k);
    const p = byName.get(r.policy);
    // Without a discovery to go by, a recorded volume is judged as covered.
    out.push(p ? judge(p, r, now, p.volumes === undefined) : { ...withPoint(r, now), state: 'orphan' });
  }
  return out.sort(worstFirst);
}

export function summarizeCompliance(policies: readonly CompliancePolicy[], volumes: readonly VolumeCompliance[]): PolicyCompliance[] {
  return policies.map((p) => {
    const mine = volumes.filter((v) => v.policy === p.name);
    const count = (s: ComplianceState) => mine.filter((v) => v.state === s).length;
    return {
      policy: p.name,
      rpoSeconds: p.rpoMs / 1000,
      volumes: mine.length - count('gone'),
      breached: count('breached'),
      never: count('never'),
      pending: count('pending'),
      gone: count('gone'),
    };
  });
}

function judge(p: CompliancePolicy, r: VolumeRecord, now: Date, covered: boolean): VolumeCompliance {
  const base = withPoint(r, now);
  const rpoSeconds = p.rpoMs / 1000;
  if (!covered) return { ...base, rpoSeconds, state: 'gone' };
  if (base.ageSeconds === undefined) {
    const since = p.coveredSince?.get(r.volumeId);
    if (since === undefined) return { ...base, rpoSeconds, state: 'never' };
    const overBySeconds = (now.getTime() - Date.parse(since)) / 1000 - rpoSeconds;
    return { ...base, rpoSeconds, coveredSince: since, overBySeconds, state: overBySeconds > 0 ? 'never' : 'pending' };
  }
  const overBySeconds = base.ageSeconds - rpoSeconds;
  return { ...base, rpoSeconds, overBySeconds, state: overBySeconds > 0 ? 'breached' : 'ok' };
}

function withPoint(r: VolumeRecord, now: Date): Omit<VolumeCompliance, 'state'> {
  const point = newer(r.lastArchive, r.lastSnapshot);
  return {
    policy: r.policy,
    volumeId: r.volumeId,
    ...(point ? { recoveryPoint: point, ageSeconds: Math.max(0, (now.getTime() - Date.parse(point.time)) / 1000) } : {}),
    ...(r.lastArchive ? { lastArchive: r.lastArchive } : {}),
    ...(r.lastSnapshot ? { lastSnapshot: r.lastSnapshot } : {}),
    ...(r.lastError ? { lastError: r.lastError } : {}),
    ...(r.lastDrill ? { lastDrill: r.lastDrill } : {}),
  };
}

function newer(a: RecoveryPoint | undefined, b: RecoveryPoint | undefined): RecoveryPoint | undefined {
  if (!a || !b) return a ?? b;
  return Date.parse(b.time) > Date.parse(a.time) ? b : a;
}

function worstFirst(a: VolumeCompliance, b: VolumeCompliance): number {
  return (
    RANK[a.state] - RANK[b.state] ||
    (b.overBySeconds ?? Infinity) - (a.overBySeconds ?? Infinity) ||
    a.policy.localeCompare(b.policy) ||
    a.volumeId.localeCompare(b.volumeId)
  );
}
