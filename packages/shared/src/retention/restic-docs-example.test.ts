/**
 * The examples from restic's forget documentation (doc/060_forget.rst), rebuilt as snapshot lists
 * and asserted exactly, so "same semantics as restic" is checked against restic's own words.
 */
import { describe, expect, it } from 'vitest';
import { applyPolicy } from './apply-policy.js';
import { parseRetentionRules } from './policy-schema.js';

const DAY_MS = 86_400_000;

/** One snapshot a day at 11:00 UTC, from `first` to `last` inclusive, id = the date. */
function daily(first: string, last: string): { id: string; time: string }[] {
  const out = [];
  for (let t = Date.parse(`${first}T11:00:00Z`); t <= Date.parse(`${last}T11:00:00Z`); t += DAY_MS) {
    const time = new Date(t).toISOString();
    out.push({ id: time.slice(0, 10), time });
  }
  return out;
}

function kept(result: ReturnType<typeof applyPolicy>): Record<string, string[]> {
  return Object.fromEntries(result.keep.map((k) => [k.snapshot.id, k.reasons]));
}

describe("restic docs: 'Removing snapshots according to a policy'", () => {
  it('12 Sundays with --keep-daily 4 keep the last four Sundays', () => {
    const sundays = Array.from({ length: 12 }, (_, i) => {
      const time = new Date(Date.parse('2019-09-01T11:00:00Z') + i * 7 * DAY_MS).toISOString();
      return { id: time.slice(0, 10), time };
    });
    const result = applyPolicy(sundays, parseRetentionRules({ keepDaily: 4 }), '2019-11-18T00:00:00Z');
    expect(kept(result)).toEqual({
      '2019-11-17': ['daily snapshot'],
      '2019-11-10': ['daily snapshot'],
      '2019-11-03': ['daily snapshot'],
      '2019-10-27': ['daily snapshot'],
    });
    expect(result.remove).toHaveLength(8);
  });

  // "keeps the most recent 7 daily snapshots and 4 last-day-of-the-week ones (since the 7 dailies
  // already include 1 weekly)": with daily backups whose newest is a Sunday, the 7 dailies are
  // exactly one ISO week (Monday..Sunday); its Sunday is weekly #1, and weeklies #2-#5 are the four
  // Sundays before.
  it('daily backups, --keep-daily 7 --keep-weekly 5: 7 dailies and 4 more week ends', () => {
    const snapshots = daily('2019-01-01', '2019-11-17'); // 2019-11-17 is a Sunday
    const result = applyPolicy(snapshots, parseRetentionRules({ keepDaily: 7, keepWeekly: 5 }), '2019-11-18T00:00:00Z');
    expect(kept(result)).toEqual({
      '2019-11-17': ['daily snapshot', 'weekly snapshot'],
      '2019-11-16': ['daily snapshot'],
      '2019-11-15': ['daily snapshot'],
      '2019-11-14': ['daily snapshot'],
      '2019-11-13': ['daily snapshot'],
      '2019-11-12': ['daily snapshot'],
      '2019-11-11': ['daily snapshot'],
      '2019-11-10': ['weekly snapshot'],
      '2019-11-03': ['weekly snapshot'],
      '2019-10-27': ['weekly snapshot'],
      '2019-10-20': ['weekly snapshot'],
    });
    expect(result.keep).toHaveLength(11);
    expect(result.keep.length + result.remove.length).toBe(snapshots.length);
  });

  // The docs' sentence is exact only when the newest snapshot ends a week. Ending on a Wednesday,
  // the 7 dailies (Thursday..Wednesday) hold two week buckets, so only 3 extra Sundays are kept.
  it('the same policy ending mid-week keeps 7 dailies and 3 more week ends', () => {
    const result = applyPolicy(daily('2019-01-01', '2019-11-20'), parseRetentionRules({ keepDaily: 7, keepWeekly: 5 }), '2019-11-21T00:00:00Z');
    expect(result.keep.map((k) => k.snapshot.id)).toEqual([
      '2019-11-20',
      '2019-11-19',
      '2019-11-18',
      '2019-11-17',
      '2019-11-16',
      '2019-11-15',
      '2019-11-14',
      '2019-11-10',
      '2019-11-03',
      '2019-10-27',
    ]);
  });

  // "--keep-daily 7 --keep-weekly 5 --keep-monthly 12 --keep-yearly 75" over 100 years of daily
  // backups ending Sunday 2019-11-17: 7 dailies, 4 more Sundays, 11 more month ends (November is
  // the newest daily), and 73 more year ends (2019 is the newest daily, 2018-12-31 is a monthly).
  it('100 years of daily backups with the full example policy', () => {
    const snapshots = daily('1919-11-18', '2019-11-17');
    const rules = parseRetentionRules({ keepDaily: 7, keepWeekly: 5, keepMonthly: 12, keepYearly: 75 });
    const result = applyPolicy(snapshots, rules, '2019-11-18T00:00:00Z');
    const ids = result.keep.map((k) => k.snapshot.id);
    expect(ids.slice(0, 7)).toEqual(['2019-11-17', '2019-11-16', '2019-11-15', '2019-11-14', '2019-11-13', '2019-11-12', '2019-11-11']);
    const rest = ids.slice(7);
    expect(rest.filter((id) => id >= '2018-12-31')).toEqual([
      '2019-11-10',
      '2019-11-03',
      '2019-10-31',
      '2019-10-27',
      '2019-10-20',
      '2019-09-30',
      '2019-08-31',
      '2019-07-31',
      '2019-06-30',
      '2019-05-31',
      '2019-04-30',
      '2019-03-31',
      '2019-02-28',
      '2019-01-31',
      '2018-12-31',
    ]);
    expect(kept(result)['2018-12-31']).toEqual(['monthly snapshot', 'yearly snapshot']);
    const yearEnds = ids.filter((id) => id < '2018-12-31');
    expect(yearEnds).toHaveLength(73);
    expect(yearEnds.every((id) => id.endsWith('-12-31'))).toBe(true);
    expect(yearEnds.at(-1)).toBe('1945-12-31');
    expect(result.keep).toHaveLength(7 + 4 + 11 + 73);
  });
});
