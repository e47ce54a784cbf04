/** The two tiers are separate populations with separate rules and one time zone. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { parseRetentionPolicy } from './policy-schema.js';
import { applyTieredPolicy } from './tiers.js';

const policy = parseRetentionPolicy({
  timeZone: 'Europe/Berlin',
  snapshotTier: { keepLast: 2 },
  archiveTier: { keepWithin: '90d1h', keepMonthly: 'unlimited', coldStorage: true },
});

describe('applyTieredPolicy', () => {
  it('applies each tier its own rules', () => {
    const days = ['2024-01-31T23:30:00Z', '2024-03-01T12:00:00Z', '2024-05-20T12:00:00Z', '2024-06-01T12:00:00Z', '2024-06-02T12:00:00Z'];
    const snapshots = days.flatMap((time, i) => [
      { id: `ebs-${i}`, time, tier: 'snapshot' as const },
      { id: `repo-${i}`, time, tier: 'archive' as const },
    ]);
    const result = applyTieredPolicy(snapshots, policy, '2024-06-03T00:00:00Z');
    expect(result.snapshotTier.keep.map((k) => k.snapshot.id)).toEqual(['ebs-4', 'ebs-3']);
    expect(result.snapshotTier.remove.map((r) => r.snapshot.id)).toEqual(['ebs-2', 'ebs-1', 'ebs-0']);
    // Archive: within 90d1h of 2024-06-02T12:00Z reaches back to 2024-03-04; monthly (Berlin months) keeps the rest:
    // 2024-01-31T23:30Z is 2024-02-01 in Berlin, the only February snapshot.
    expect(result.archiveTier.keep.map((k) => [k.snapshot.id, k.reasons])).toEqual([
      ['repo-4', ['within 90d1h', 'monthly snapshot']],
      ['repo-3', ['within 90d1h']],
      ['repo-2', ['within 90d1h', 'monthly snapshot']],
      ['repo-1', ['monthly snapshot']],
      ['repo-0', ['monthly snapshot']],
    ]);
    expect(result.archiveTier.remove).toEqual([]);
  });

  it('requires a tier on every snapshot', () => {
    expect(() => applyTieredPolicy([{ id: 'x', time: '2024-01-01T00:00:00Z' }], policy, '2024-01-02T00:00:00Z')).toThrow(InvalidInputError);
  });
});
