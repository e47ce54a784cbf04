/**
 * RPO compliance as Prometheus text for the board's /metrics. Per policy, always: its RPO and
 * how many volumes are in each state. Per volume, only for the worst VOLUME_SERIES volumes (by
 * the engine's worst-first order): a fleet of 100,000 volumes must not become 200,000 series.
 * snapfleet_compliance_volume_series_omitted says how many volumes were left out.
 */
import type { ComplianceState } from '@snapfleet/shared/compliance';
import type { ComplianceView } from './compliance-view.js';

/** Volumes with their own series, worst first. */
export const VOLUME_SERIES = 200;
const STATES: readonly ComplianceState[] = ['ok', 'pending', 'breached', 'never', 'gone', 'orphan'];

export function complianceMetricsText(view: ComplianceView, volumeSeries = VOLUME_SERIES): string {
  const out: string[] = [];
  const metric = (name: string, help: string, samples: [Record<string, string>, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) out.push(`${name}${labelText(labels)} ${value}`);
  };
  metric(
    'snapfleet_policy_rpo_seconds',
    "The policy's recovery point objective (configured, or derived from its schedules).",
    view.policies.map((p) => [{ policy: p.policy }, p.rpoSeconds]),
  );
  const counts = new Map<string, number>();
  for (const v of view.volumes) counts.set(JSON.stringify([v.policy, v.state]), (counts.get(JSON.stringify([v.policy, v.state])) ?? 0) + 1);
  const policyNames = [...new Set([...view.policies.map((p) => p.policy), ...view.volumes.map((v) => v.policy)])];
  metric(
    'snapfleet_policy_volumes',
    'Volumes per policy and RPO state (ok, pending: new, first backup not due yet, breached, never: no recovery point past the RPO, gone: left the policy, orphan: the policy left the config).',
    policyNames.flatMap((policy) =>
      STATES.map((state): [Record<string, string>, number] => [{ policy, state }, counts.get(JSON.stringify([policy, state])) ?? 0]),
    ),
  );
  const drills = new Map<string, number>();
  for (const v of view.volumes) {
    if (!v.lastDrill) continue;
    const k = JSON.stringify([v.policy, v.lastDrill.ok ? 'passed' : 'failed']);
    drills.set(k, (drills.get(k) ?? 0) + 1);
  }
  metric(
    'snapfleet_policy_drills',
    'Volumes per policy whose last restore drill passed or failed.',
    policyNames.flatMap((policy) =>
      (['passed', 'failed'] as const).map((result): [Record<string, string>, number] => [
        { policy, result },
        drills.get(JSON.stringify([policy, result])) ?? 0,
      ]),
    ),
  );
  const shown = view.volumes.slice(0, volumeSeries);
  metric(
    'snapfleet_volume_last_drill_rto_seconds',
    `Restore time measured by the volume's last passed drill; only the ${volumeSeries} worst volumes.`,
    shown
      .filter((v) => v.lastDrill?.ok && v.lastDrill.rtoSeconds !== undefined)
      .map((v) => [{ policy: v.policy, volume: v.volumeId }, v.lastDrill!.rtoSeconds!]),
  );
  metric(
    'snapfleet_volume_recovery_point_age_seconds',
    `Age of the volume's newest archive or provider snapshot; only the ${volumeSeries} worst volumes; absent when it has none.`,
    shown.filter((v) => v.ageSeconds !== undefined).map((v) => [{ policy: v.policy, volume: v.volumeId, state: v.state }, Math.round(v.ageSeconds!)]),
  );
  metric(
    'snapfleet_volume_rpo_breached',
    `1 when the volume is past its RPO or has no recovery point; only the ${volumeSeries} worst volumes.`,
    shown
      .filter((v) => v.state !== 'orphan' && v.state !== 'gone')
      .map((v) => [{ policy: v.policy, volume: v.volumeId }, v.state === 'breached' || v.state === 'never' ? 1 : 0]),
  );
  metric('snapfleet_compliance_volume_series_omitted', 'Volumes left out of the per-volume series (the best ones).', [
    [{}, Math.max(0, view.volumes.length - shown.length)],
  ]);
  return out.join('\n') + '\n';
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}
