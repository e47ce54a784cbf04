import { describe, expect, it } from 'vitest';
import { assessCompliance, summarizeCompliance, type CompliancePolicy, type VolumeRecord } from './assess.js';

const H = 3_600_000;
const now = new Date('2026-12-05T12:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * H).toISOString();

describe('assessCompliance', () => {
  const policies: CompliancePolicy[] = [
    { name: 'daily', rpoMs: 25 * H, volumes: ['vol-ok', 'vol-late', 'vol-new', 'vol-snap'] },
    { name: 'hourly', rpoMs: 1.5 * H, volumes: ['vol-ok'] },
  ];
  const records: VolumeRecord[] = [
    { policy: 'daily', volumeId: 'vol-ok', lastArchive: { time: hoursAgo(10), id: 'snap-a' } },
    {
      policy: 'daily',
      volumeId: 'vol-late',
      lastArchive: { time: hoursAgo(49), id: 'snap-b' },
      lastError: { queue: 'archive', jobId: 'j1', message: 'volume not readable', at: hoursAgo(1) },
    },
    // Its archive is old, but the snapshot tier holds a newer point (archive selection skipped it).
    { policy: 'daily', volumeId: 'vol-snap', lastArchive: { time: hoursAgo(30), id: 'snap-c' }, lastSnapshot: { time: hoursAgo(2), id: 'snap-0123' } },
    { policy: 'daily', volumeId: 'vol-deleted', lastArchive: { time: hoursAgo(3), id: 'snap-d' } },
    { policy: 'hourly', volumeId: 'vol-ok', lastArchive: { time: hoursAgo(2), id: 'snap-e' } },
    { policy: 'removed', volumeId: 'vol-x', lastArchive: { time: hoursAgo(100), id: 'snap-f' } },
  ];

  it('judges each volume against its policy, worst first', () => {
    const rows = assessCompliance(policies, records, now);
    expect(rows.map((r) => [r.policy, r.volumeId, r.state])).toEqual([
      ['daily', 'vol-new', 'never'],
      ['daily', 'vol-late', 'breached'],
      ['hourly', 'vol-ok', 'breached'],
      ['daily', 'vol-deleted', 'gone'],
      ['removed', 'vol-x', 'orphan'],
      ['daily', 'vol-ok', 'ok'],
      ['daily', 'vol-snap', 'ok'],
    ]);
    const late = rows.find((r) => r.volumeId === 'vol-late')!;
    expect(late).toMatchObject({ rpoSeconds: 25 * 3600, ageSeconds: 49 * 3600, overBySeconds: 24 * 3600, lastError: { message: 'volume not readable' } });
    expect(rows.find((r) => r.volumeId === 'vol-snap')).toMatchObject({ recoveryPoint: { id: 'snap-0123' }, ageSeconds: 2 * 3600 });
    expect(rows.find((r) => r.policy === 'hourly')).toMatchObject({ overBySeconds: 0.5 * 3600 });
  });

  it('gives a newly covered volume one RPO for its first backup', () => {
    const p: CompliancePolicy = {
      name: 'daily',
      rpoMs: 25 * H,
      volumes: ['new', 'old', 'unknown'],
      coveredSince: new Map([
        ['new', hoursAgo(2)],
        ['old', hoursAgo(30)],
      ]),
    };
    const rows = assessCompliance([p], [], now);
    expect(rows.map((r) => [r.volumeId, r.state, r.overBySeconds])).toEqual([
      ['unknown', 'never', undefined],
      ['old', 'never', 5 * 3600],
      ['new', 'pending', -23 * 3600],
    ]);
    expect(summarizeCompliance([p], rows)[0]).toMatchObject({ volumes: 3, never: 2, pending: 1 });
  });

  it('judges recorded volumes as covered when the policy has not been discovered', () => {
    const rows = assessCompliance(
      [{ name: 'daily', rpoMs: 25 * H }],
      records.filter((r) => r.policy === 'daily'),
      now,
    );
    expect(rows.map((r) => r.state).sort()).toEqual(['breached', 'ok', 'ok', 'ok']);
  });

  it('counts per policy', () => {
    const rows = assessCompliance(policies, records, now);
    expect(summarizeCompliance(policies, rows)).toEqual([
      { policy: 'daily', rpoSeconds: 25 * 3600, volumes: 4, breached: 1, never: 1, pending: 0, gone: 1 },
      { policy: 'hourly', rpoSeconds: 1.5 * 3600, volumes: 1, breached: 1, never: 0, pending: 0, gone: 0 },
    ]);
  });
});
