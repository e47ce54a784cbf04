/**
 * Which RPO alerts to send: a breach once, when a volume leaves `ok` (or first shows up without
 * any recovery point), and a recovery once, when a volume whose breach was alerted is `ok` again.
 * A volume that flaps is quiet for `quietMs` after its last breach alert: a new breach inside
 * that time is recorded but not sent, and neither is its recovery. Pure: the caller keeps the
 * states (one per policy and volume) and sends what this returns.
 */
import type { VolumeCompliance } from './assess.js';

export interface RpoAlertState {
  state: 'breached' | 'ok';
  /** Whether this breach was alerted (so its recovery is too). */
  alerted: boolean;
  /** ISO 8601: when the last breach alert was sent. */
  alertedAt?: string;
}

export interface RpoAlertDecision {
  policy: string;
  volumeId: string;
  /** The state to keep from now on; undefined: forget the volume (it left its policy). */
  next: RpoAlertState | undefined;
  send?: 'rpo-breached' | 'rpo-recovered';
  volume?: VolumeCompliance;
}

export const rpoAlertKey = (policy: string, volumeId: string) => JSON.stringify([policy, volumeId]);

/** The changes to make: volumes whose state does not change are left out. */
export function decideRpoAlerts(
  volumes: readonly VolumeCompliance[],
  prev: ReadonlyMap<string, RpoAlertState>,
  now: Date,
  quietMs: number,
): RpoAlertDecision[] {
  const out: RpoAlertDecision[] = [];
  const seen = new Set<string>();
  for (const v of volumes) {
    const key = rpoAlertKey(v.policy, v.volumeId);
    seen.add(key);
    const before = prev.get(key);
    const at = { policy: v.policy, volumeId: v.volumeId, volume: v };
    if (v.state === 'breached' || v.state === 'never') {
      if (before?.state === 'breached') continue;
      const quiet = before?.alertedAt !== undefined && now.getTime() - Date.parse(before.alertedAt) < quietMs;
      if (quiet) out.push({ ...at, next: { state: 'breached', alerted: false, alertedAt: before.alertedAt! } });
      else out.push({ ...at, next: { state: 'breached', alerted: true, alertedAt: now.toISOString() }, send: 'rpo-breached' });
    } else if (v.state === 'ok' || v.state === 'pending') {
      if (before?.state !== 'breached') continue;
      out.push({
        ...at,
        next: { state: 'ok', alerted: false, ...(before.alertedAt ? { alertedAt: before.alertedAt } : {}) },
        ...(before.alerted ? { send: 'rpo-recovered' as const } : {}),
      });
    } else if (before) {
      // Gone or orphaned: status and metrics report it; its alert state has no use left.
      out.push({ policy: v.policy, volumeId: v.volumeId, next: undefined });
    }
  }
  for (const key of prev.keys()) {
    if (seen.has(key)) continue;
    const [policy, volumeId] = JSON.parse(key) as [string, string];
    out.push({ policy, volumeId, next: undefined });
  }
  return out;
}
