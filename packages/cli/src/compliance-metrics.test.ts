import { describe, expect, it } from 'vitest';
import { assessCompliance, summarizeCompliance, type CompliancePolicy, type VolumeRecord } from '@snapfleet/shared/compliance';
import { complianceMetricsText } from './compliance-metrics.js';

const H = 3_600_000;
const now = new Date('2026-12-05T12:00:00Z');
const ago = (h: number) => new Date(now.getTime() - h * H).toISOString();

function view(policies: CompliancePolicy[], records: VolumeRecord[]) {
  const volumes = assessCompliance(policies, records, now);
  return { policies: summarizeCompliance(policies, volumes), volumes };
}

describe('complianceMetricsText', () => {
  const policies: CompliancePolicy[] = [{ name: 'daily', rpoMs: 25 * H, volumes: ['vol-ok', 'vol-late', 'vol-"new"'] }];
  const records: VolumeRecord[] = [
    { policy: 'daily', volumeId: 'vol-ok', lastArchive: { time: ago(1) } },
    { policy: 'daily', volumeId: 'vol-late', lastArchive: { time: ago(30) } },
    { policy: 'daily', volumeId: 'vol-gone', lastArchive: { time: ago(2) } },
  ];

  it('counts volumes per policy and state, and gives the worst volumes their own series', () => {
    const text = complianceMetricsText(view(policies, records));
    expect(text).toContain('snapfleet_policy_rpo_seconds{policy="daily"} 90000\n');
    for (const [state, n] of [
      ['ok', 1],
      ['pending', 0],
      ['breached', 1],
      ['never', 1],
      ['gone', 1],
      ['orphan', 0],
    ] as const) {
      expect(text).toContain(`snapfleet_policy_volumes{policy="daily",state="${state}"} ${n}\n`);
    }
    expect(text).toContain('snapfleet_volume_recovery_point_age_seconds{policy="daily",volume="vol-late",state="breached"} 108000\n');
    expect(text).toContain('snapfleet_volume_rpo_breached{policy="daily",volume="vol-late"} 1\n');
    // A label value is escaped; a volume without any recovery point has no age, but is breached.
    expect(text).toContain('snapfleet_volume_rpo_breached{policy="daily",volume="vol-\\"new\\""} 1\n');
    expect(text).not.toMatch(/recovery_point_age_seconds\{[^}]*vol-\\"new/);
    expect(text).toContain('snapfleet_volume_rpo_breached{policy="daily",volume="vol-ok"} 0\n');
    expect(text).toContain('snapfleet_compliance_volume_series_omitted 0\n');
  });

  it('bounds the per-volume series to the worst volumes', () => {
    const many = Array.from({ length: 50 }, (_, i) => `vol-${String(i).padStart(2, '0')}`);
    const recs = many.map((v, i) => ({ policy: 'daily', volumeId: v, lastArchive: { time: ago(i) } }));
    const text = complianceMetricsText(view([{ name: 'daily', rpoMs: 25 * H, volumes: many }], recs), 10);
    const series = text.split('\n').filter((l) => l.startsWith('snapfleet_volume_rpo_breached{'));
    expect(series).toHaveLength(10);
    // The 24 oldest (26 to 49 hours) are past the RPO; 25 hours is not over 25 hours.
    expect(series.every((l) => l.endsWith(' 1'))).toBe(true);
    expect(series[0]).toContain('volume="vol-49"');
    expect(text).toContain('snapfleet_compliance_volume_series_omitted 40\n');
    expect(text).toContain('snapfleet_policy_volumes{policy="daily",state="breached"} 24\n');
  });
});
