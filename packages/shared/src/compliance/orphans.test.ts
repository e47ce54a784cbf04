import { describe, expect, it } from 'vitest';
import { orphansSchema } from '../config/orphans-schema.js';
import { fleetConfigSchema } from '../config/fleet-config-schema.js';
import { assessCompliance } from './assess.js';
import { dueOrphans, orphanGuardedRules, orphanRuleFrom, withOrphanRules } from './orphans.js';

const now = new Date('2026-06-30T00:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();
const DAY = 86_400_000;

describe('orphans', () => {
  const orphans = orphansSchema.parse({ after: '10d', archiveTier: { keepLast: 1 }, snapshotTier: 'delete' });
  const volumes = assessCompliance(
    [{ name: 'daily', rpoMs: DAY, volumes: ['vol-a'] }],
    [
      { policy: 'daily', volumeId: 'vol-a', lastArchive: { time: daysAgo(20) } }, // covered: breached, not an orphan
      { policy: 'daily', volumeId: 'vol-gone-old', lastArchive: { time: daysAgo(30) } },
      { policy: 'daily', volumeId: 'vol-gone-new', lastArchive: { time: daysAgo(3) } },
      { policy: 'removed', volumeId: 'vol-x', lastSnapshot: { time: daysAgo(12) }, lastArchive: { time: daysAgo(40), repository: 'main' } },
    ],
    now,
  );

  it('are due once their newest recovery point is `after` old, oldest first', () => {
    expect(dueOrphans(volumes, orphans, now).map((v) => v.volumeId)).toEqual(['vol-gone-old', 'vol-x']);
  });

  it('say from when the rule applies, and nothing without a rule', () => {
    const x = volumes.find((v) => v.volumeId === 'vol-x')!;
    expect(x.state).toBe('orphan');
    expect(orphanRuleFrom(x, orphans)).toBe(new Date(Date.parse(daysAgo(12)) + 10 * DAY).toISOString());
    expect(orphanRuleFrom(x, undefined)).toBeUndefined();
    expect(withOrphanRules(volumes, orphans).find((v) => v.volumeId === 'vol-a')!.orphanRuleFrom).toBeUndefined();
    expect(withOrphanRules(volumes, undefined).every((v) => v.orphanRuleFrom === undefined)).toBe(true);
  });

  it('compare as the rules they name, a tier not named keeping everything', () => {
    const rules = orphanGuardedRules(orphansSchema.parse({ archiveTier: 'delete' }));
    expect(rules).toEqual({ archive: 'delete', snapshot: null });
  });
});

describe('the orphans and retentionGuard sections', () => {
  const base = { repositories: { main: { url: '/r' } } };

  it('default to no orphans rule and a guard at 25%', () => {
    const c = fleetConfigSchema.parse(base);
    expect(c.orphans).toBeUndefined();
    expect(c.retentionGuard.maxShare).toBe(0.25);
  });

  it('take rules or "delete" per tier, with defaults for after and every', () => {
    const c = fleetConfigSchema.parse({ ...base, orphans: { archiveTier: { keepMonthly: 3 }, snapshotTier: 'delete' } });
    expect(c.orphans).toMatchObject({ after: 7 * DAY, every: DAY, snapshotTier: 'delete' });
  });

  it('reject a section without rules, an unknown tier rule and a share out of range, naming the field', () => {
    const issue = (input: object) => fleetConfigSchema.safeParse({ ...base, ...input }).error!.issues[0]!;
    expect(issue({ orphans: { after: '30d' } })).toMatchObject({
      path: ['orphans'],
      message: expect.stringContaining('give archiveTier, snapshotTier or both'),
    });
    expect(issue({ orphans: { archiveTier: 'everything' } }).path).toEqual(['orphans', 'archiveTier']);
    expect(issue({ retentionGuard: { maxShare: 0 } })).toMatchObject({ path: ['retentionGuard', 'maxShare'], message: 'must be more than 0' });
    expect(issue({ retentionGuard: { maxShare: 1.5 } }).path).toEqual(['retentionGuard', 'maxShare']);
  });
});
