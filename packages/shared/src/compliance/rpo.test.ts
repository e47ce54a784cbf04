import { describe, expect, it } from 'vitest';
import { derivedRpoMs, longestScheduleGapMs, policyRpoMs } from './rpo.js';

const H = 3_600_000;
const D = 24 * H;
const from = new Date('2026-12-05T10:00:00Z'); // a Saturday

describe('longestScheduleGapMs', () => {
  it('is the interval of an every schedule', () => {
    expect(longestScheduleGapMs([{ every: 5 * 60_000 }], from)).toBe(5 * 60_000);
  });

  it('is a day for a daily cron, in any time zone', () => {
    expect(longestScheduleGapMs([{ cron: '0 2 * * *', timeZone: 'UTC' }], from)).toBe(D);
    // Daylight saving moves one day's 02:00 by an hour: that day's gap is 25 hours.
    expect(longestScheduleGapMs([{ cron: '0 2 * * *', timeZone: 'Europe/Berlin' }], from)).toBe(25 * H);
  });

  it('sees the weekend a weekday cron skips', () => {
    // Friday 02:00 to Monday 02:00.
    expect(longestScheduleGapMs([{ cron: '0 2 * * 1-5', timeZone: 'UTC' }], from)).toBe(3 * D);
  });

  it('merges several schedules: the longest gap of their runs together', () => {
    // 02:00 and 14:00 every day: 12 hours apart.
    expect(
      longestScheduleGapMs(
        [
          { cron: '0 2 * * *', timeZone: 'UTC' },
          { cron: '0 14 * * *', timeZone: 'UTC' },
        ],
        from,
      ),
    ).toBe(12 * H);
    // Weekdays at 02:00 plus Sundays at 02:00: the longest gap is Friday to Sunday.
    expect(
      longestScheduleGapMs(
        [
          { cron: '0 2 * * 1-5', timeZone: 'UTC' },
          { cron: '0 2 * * 0', timeZone: 'UTC' },
        ],
        from,
      ),
    ).toBe(2 * D);
  });

  it('counts a monthly cron by its longest month', () => {
    expect(longestScheduleGapMs([{ cron: '0 3 1 * *', timeZone: 'UTC' }], from)).toBe(31 * D);
  });

  it('stays fast for a schedule that fires every second', () => {
    expect(
      longestScheduleGapMs(
        [
          { cron: '* * * * * *', timeZone: 'UTC' },
          { cron: '0 2 * * *', timeZone: 'UTC' },
        ],
        from,
      ),
    ).toBe(1000);
  });
});

describe('policyRpoMs', () => {
  it('adds half the gap as grace, at most an hour', () => {
    expect(derivedRpoMs(D)).toBe(25 * H);
    expect(derivedRpoMs(H)).toBe(1.5 * H);
    expect(derivedRpoMs(5 * 60_000)).toBe(7.5 * 60_000);
  });

  it('prefers the configured rpo', () => {
    expect(policyRpoMs({ rpo: 6 * H, schedules: [{ cron: '0 2 * * *', timeZone: 'UTC' }] }, from)).toBe(6 * H);
    expect(policyRpoMs({ schedules: [{ cron: '0 2 * * *', timeZone: 'UTC' }] }, from)).toBe(25 * H);
  });
});
