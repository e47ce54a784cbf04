/**
 * RPO compliance as status and the board's metrics show it: the fleet's records from Redis
 * (providers/compliance), the policies' RPOs from the config, optionally overlaid with what the
 * repositories and a fresh discovery say (status), then judged by the shared engine.
 */
import type { Redis } from 'ioredis';
import type { FleetConfig } from '@snapfleet/shared/config';
import {
  assessCompliance,
  policyRpos,
  summarizeCompliance,
  withOrphanRules,
  type CompliancePolicy,
  type PolicyCompliance,
  type VolumeCompliance,
  type VolumeRecord,
} from '@snapfleet/shared/compliance';
import { readComplianceRecords } from '@snapfleet/providers/fleet';

export interface ComplianceView {
  policies: PolicyCompliance[];
  volumes: VolumeCompliance[];
}

/** What status learned first hand, which outranks the records: per policy, covered volumes and newest archives. */
export interface FirstHand {
  covered: Map<string, readonly string[]>;
  archives: VolumeRecord[];
}

export async function complianceView(
  redis: Pick<Redis, 'hgetall'>,
  prefix: string,
  config: FleetConfig,
  now: Date,
  firstHand?: FirstHand,
): Promise<ComplianceView> {
  const rpos = policyRpos(config, now);
  const recorded = await readComplianceRecords(redis, prefix, [...rpos.keys()]);
  const records = new Map<string, VolumeRecord>();
  const k = (r: { policy: string; volumeId: string }) => JSON.stringify([r.policy, r.volumeId]);
  for (const r of recorded.records) records.set(k(r), { ...r });
  for (const a of firstHand?.archives ?? []) {
    const r = records.get(k(a)) ?? { policy: a.policy, volumeId: a.volumeId };
    // The repository is the truth about archives; the record may lag it or outlive it.
    if (a.lastArchive) r.lastArchive = a.lastArchive;
    else delete r.lastArchive;
    records.set(k(a), r);
  }
  const policies: CompliancePolicy[] = [...rpos].map(([name, rpoMs]) => {
    const since = recorded.covered.get(name)?.since;
    const volumes = firstHand?.covered.get(name) ?? (since ? [...since.keys()] : undefined);
    // A volume status discovers that no planner has recorded yet is new: covered from now.
    const coveredSince = new Map((volumes ?? []).map((v) => [v, since?.get(v) ?? now.toISOString()]));
    return { name, rpoMs, ...(volumes ? { volumes, coveredSince } : {}) };
  });
  const volumes = withOrphanRules(assessCompliance(policies, [...records.values()], now), config.orphans);
  return { policies: summarizeCompliance(policies, volumes), volumes };
}
