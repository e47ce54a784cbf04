/** Validation: every bad policy fails with the offending field named and a message that says what to write instead. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { parseRetentionPolicy, parseRetentionRules, type PolicyIssue, validateRetentionPolicy, validateRetentionRules } from './policy-schema.js';

function issues(input: unknown): PolicyIssue[] {
  const v = validateRetentionPolicy(input);
  if (v.success) throw new Error('expected a validation failure');
  return v.issues;
}

function ruleIssues(input: unknown): PolicyIssue[] {
  const v = validateRetentionRules(input);
  if (v.success) throw new Error('expected a validation failure');
  return v.issues;
}

const base = { snapshotTier: { keepLast: 7 }, archiveTier: { keepDaily: 30 } };

describe('retention rules', () => {
  it('accepts counts, "unlimited", -1, durations and tag sets', () => {
    expect(parseRetentionRules({ keepLast: 3, keepDaily: 'unlimited', keepWeekly: -1, keepWithin: '1y5m7d2h', keepTags: ['a', 'b, c', ['d', 'e']] })).toEqual({
      keepLast: 3,
      keepDaily: -1,
      keepWeekly: -1,
      keepWithin: { years: 1, months: 5, days: 7, hours: 2 },
      keepTags: [['a'], ['b', 'c'], ['d', 'e']],
    });
  });

  it.each([
    [{ keepDaily: -2 }, 'keepDaily', 'whole number >= 0'],
    [{ keepLast: 1.5 }, 'keepLast', 'whole number >= 0'],
    [{ keepHourly: 'lots' }, 'keepHourly', '"unlimited"'],
    [{ keepWithin: '2w' }, 'keepWithin', 'unknown unit "w"'],
    [{ keepWithinDaily: '5' }, 'keepWithinDaily', 'has no unit'],
    [{ keepWithin: 'd5' }, 'keepWithin', 'expected a number'],
    [{ keepWithin: '1y2y' }, 'keepWithin', 'appears twice'],
    [{ keepWithin: '' }, 'keepWithin', 'empty duration'],
    [{ keepWithin: '-1d' }, 'keepWithin', 'expected a number'],
    [{ keepWithin: 7 }, 'keepWithin', 'must be a duration'],
    [{ keepTags: ['a,,b'] }, 'keepTags.0', 'empty tag'],
    [{ keepLast: 1, timeZone: 'Mars/Olympus_Mons' }, 'timeZone', 'unknown time zone "Mars/Olympus_Mons"'],
    [{ keepDialy: 3 }, '', 'keepDialy'],
  ])('rejects %j at %s', (input, path, text) => {
    const found = ruleIssues(input);
    expect(found.map((i) => i.path)).toContain(path);
    expect(found.find((i) => i.path === path)?.message).toContain(text);
  });

  it('rejects rules that are all zero, but accepts no rules at all (keep everything)', () => {
    expect(ruleIssues({ keepLast: 0, keepDaily: 0 })[0]?.message).toContain('policy keeps nothing');
    expect(ruleIssues({ keepWithin: '0d', keepTags: [] })[0]?.message).toContain('policy keeps nothing');
    expect(parseRetentionRules({})).toEqual({});
    expect(parseRetentionRules({ keepLast: 0, keepTags: ['keep'] })).toEqual({ keepLast: 0, keepTags: [['keep']] });
  });
});

describe('two-tier retention policy', () => {
  it('fills defaults', () => {
    expect(parseRetentionPolicy(base)).toEqual({
      timeZone: 'UTC',
      snapshotTier: { keepLast: 7 },
      archiveTier: { keepDaily: 30, coldStorage: false, coldStorageMinimumDays: 90 },
      archiveSelection: { mode: 'every-snapshot' },
    });
  });

  it('names the tier in every error', () => {
    const found = issues({ snapshotTier: { keepDaily: -5 }, archiveTier: { keepWithin: '3w' }, timeZone: 'Nowhere/Special' });
    expect(found.map((i) => i.path).sort()).toEqual(['archiveTier.keepWithin', 'snapshotTier.keepDaily', 'timeZone']);
  });

  it('rejects a tier that keeps nothing', () => {
    const found = issues({ ...base, snapshotTier: { keepLast: 0 } });
    expect(found).toEqual([{ path: 'snapshotTier', message: expect.stringContaining('policy keeps nothing') }]);
  });

  it('rejects a timeZone inside a tier (one zone per policy)', () => {
    expect(issues({ ...base, snapshotTier: { keepLast: 1, timeZone: 'UTC' } })[0]?.path).toBe('snapshotTier');
  });

  it('validates archive selection', () => {
    expect(parseRetentionPolicy({ ...base, archiveSelection: { mode: 'every-nth', n: 7 } }).archiveSelection).toEqual({ mode: 'every-nth', n: 7 });
    expect(issues({ ...base, archiveSelection: { mode: 'every-nth', n: 0 } })[0]?.path).toBe('archiveSelection.n');
    expect(issues({ ...base, archiveSelection: { mode: 'weekly' } })[0]?.message).toContain('first-of-month');
  });

  it('throws InvalidInputError listing every problem with its field', () => {
    try {
      parseRetentionPolicy({ snapshotTier: { keepLast: -3 }, archiveTier: {} });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as InvalidInputError).field).toBe('snapshotTier.keepLast');
      expect((err as Error).message).toMatch(/^invalid retention policy: snapshotTier\.keepLast: must be a whole number/);
    }
  });
});

describe('cold storage minimum (90 days)', () => {
  const cold = (archiveTier: object, timeZone = 'UTC') => ({ timeZone, snapshotTier: { keepLast: 7 }, archiveTier: { coldStorage: true, ...archiveTier } });

  it.each([
    [{ keepWithin: '90d' }, 'UTC'],
    [{ keepWithin: '2160h' }, 'UTC'],
    [{ keepWithin: '89d24h' }, 'UTC'],
    [{ keepWithin: '4m' }, 'UTC'],
    [{ keepWithin: '1y', keepMonthly: 12 }, 'Europe/Berlin'],
    [{ keepWithin: '90d1h' }, 'Europe/Berlin'],
    [{ keepWithin: '90d' }, 'Asia/Tokyo'],
    [{ keepWithin: '2160h' }, 'America/New_York'],
    [{ keepLast: 'unlimited' }, 'UTC'],
    [{}, 'UTC'],
  ])('accepts %j in %s', (tier, zone) => {
    expect(validateRetentionPolicy(cold(tier, zone)).success).toBe(true);
  });

  it.each([
    [{ keepDaily: 365 }, 'UTC', 'there is no keepWithin', '"90d"'],
    [{ keepWithin: '89d23h' }, 'UTC', 'only guaranteed to span 89d23h', '"90d"'],
    [{ keepWithin: '3m' }, 'UTC', 'only guaranteed to span 84d', '"90d"'],
    [{ keepWithin: '90d' }, 'Europe/Berlin', 'only guaranteed to span 89d23h', '"90d1h"'],
    [{ keepWithinDaily: '1y' }, 'UTC', 'there is no keepWithin', '"90d"'],
    [{ keepWithin: '90d', coldStorageMinimumDays: 180 }, 'UTC', 'at least 180 days', '"180d"'],
  ])('rejects %j in %s', (tier, zone, why, suggestion) => {
    const found = issues(cold(tier, zone));
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe('archiveTier.keepWithin');
    expect(found[0]?.message).toContain(why);
    expect(found[0]?.message).toContain(`keepWithin of at least ${suggestion}`);
  });

  it('does not apply without coldStorage', () => {
    expect(validateRetentionPolicy({ snapshotTier: { keepLast: 1 }, archiveTier: { keepDaily: 3 } }).success).toBe(true);
  });
});
