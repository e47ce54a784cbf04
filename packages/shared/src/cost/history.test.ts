import { describe, expect, it } from 'vitest';
import { parseRetentionPolicy } from '../retention/policy-schema.js';
import { MAX_SIMULATED_RUNS, simulateHistory } from './history.js';

const NOW = new Date('2026-12-05T12:00:00Z');

describe('simulateHistory', () => {
  it('applies calendar rules in the policy time zone to the runs the schedules make', () => {
    // Hourly for a year: 8,760 runs. Now is Saturday 2026-12-05 12:00 UTC (13:00 in Berlin, UTC+1).
    // keepDaily 7 keeps the newest run of each of the last 7 Berlin days: today's 12:00 UTC, then
    // 22:00 UTC (23:00 in Berlin) of Dec 4, 3, 2, 1, Nov 30 and 29. keepWeekly 4 keeps the newest of
    // 4 ISO weeks: this week's and Sunday Nov 29's are kept already; Sundays Nov 22 and 15 are added.
    const retention = parseRetentionPolicy({ timeZone: 'Europe/Berlin', snapshotTier: { keepDaily: 7, keepWeekly: 4 }, archiveTier: { keepLast: 1 } });
    const h = simulateHistory({ schedules: [{ every: 3_600_000 }], retention, now: NOW, historyMonths: 12 });
    expect(h.snapshotsPerMonth).toBeCloseTo(730, 9);
    expect(h.snapshotTier.kept).toBe(9);
    // Nov 15 -> 22 -> 29: 7 days each; then a day each up to Dec 4 22:00; Dec 5 12:00 is 14 hours on.
    expect(h.snapshotTier.gapsDays).toEqual([7, 7, 1, 1, 1, 1, 1, expect.closeTo(14 / 24, 12)]);
    expect(h.archiveTier).toEqual({ kept: 1, gapsDays: [] });
    expect(h.shortened).toBe(false);
  });

  it('merges schedules that fire at the same time into one run', () => {
    const h = simulateHistory({ schedules: [{ cron: '0 0 * * *', timeZone: 'UTC' }, { every: 86_400_000 }], now: NOW, historyMonths: 12 });
    expect(h.snapshotsPerMonth * 12).toBeCloseTo(365, 9);
  });

  it('archives every nth run, or the first of each month', () => {
    const retention = (archiveSelection: object) =>
      parseRetentionPolicy({ snapshotTier: { keepLast: 3 }, archiveTier: { keepLast: 'unlimited' }, archiveSelection });
    const daily = [{ cron: '0 2 * * *', timeZone: 'UTC' }];
    // 365 runs, every 5th archived from the first: 73 archives, 5 days apart.
    const nth = simulateHistory({ schedules: daily, retention: retention({ mode: 'every-nth', n: 5 }), now: NOW, historyMonths: 12 });
    expect(nth.archivesPerMonth * 12).toBeCloseTo(73, 9);
    expect(nth.archiveGapDays).toBeCloseTo(5, 9);
    expect(nth.archiveTier.gapsDays.every((g) => g === 5)).toBe(true);
    // (2025-12-05, 2026-12-05]: December 2025 (its 6th) and every month of 2026: 13 archives.
    const monthly = simulateHistory({ schedules: daily, retention: retention({ mode: 'first-of-month' }), now: NOW, historyMonths: 12 });
    expect(monthly.archiveTier.kept).toBe(13);
    expect(monthly.archiveTier.gapsDays[0]).toBe(26);
    expect(monthly.snapshotTier.kept).toBe(3);
  });

  it('simulates the newest runs only of a schedule too busy for the whole history, and says so', () => {
    // Every minute: 20,000 runs span 13d 21h 20m, a fraction of the year asked for.
    const h = simulateHistory({ schedules: [{ every: 60_000 }], now: NOW, historyMonths: 12 });
    expect(h.shortened).toBe(true);
    expect(h.snapshotTier.kept).toBe(MAX_SIMULATED_RUNS);
    expect(h.months).toBeCloseTo((MAX_SIMULATED_RUNS * 60_000) / (730 * 3_600_000), 2);
    expect(h.snapshotsPerMonth).toBeCloseTo(730 * 60, 0);
  });

  it('keeps nothing when the schedules never fire in the history', () => {
    // February 29th comes again in 2028, not in the month before now.
    const h = simulateHistory({ schedules: [{ cron: '0 0 29 2 *', timeZone: 'UTC' }], now: NOW, historyMonths: 1 });
    expect(h).toMatchObject({ snapshotsPerMonth: 0, archivesPerMonth: 0, archiveGapDays: 0, snapshotTier: { kept: 0, gapsDays: [] } });
  });
});
