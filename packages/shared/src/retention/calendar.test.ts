/** Units under the golden files: duration syntax, zoned wall clocks, Go-style date arithmetic, ISO weeks and bucket keys. */
import { describe, expect, it } from 'vitest';
import { bucketKey, isoWeek } from './calendar-buckets.js';
import { formatDuration, parseDuration } from './durations.js';
import { daylightSavingSlackMs, isValidTimeZone, subtractDuration, wallClock, wallToInstant, wallAsUtc } from './zoned-time.js';

const iso = (ms: number) => new Date(ms).toISOString();
const dur = (text: string) => {
  const p = parseDuration(text);
  if (!p.ok) throw new Error(p.error);
  return p.duration;
};

describe('durations', () => {
  it('parses restic syntax in any order and prints it canonically', () => {
    expect(dur('1y5m7d2h')).toEqual({ years: 1, months: 5, days: 7, hours: 2 });
    expect(formatDuration(dur('1d1m1y'))).toBe('1y1m1d');
    expect(formatDuration(dur(' 36h '))).toBe('36h');
    expect(formatDuration(dur('0d'))).toBe('0h');
  });

  it('rejects what restic would misread', () => {
    expect(parseDuration('10000y').ok).toBe(true);
    expect(parseDuration('10001y')).toEqual({ ok: false, error: expect.stringContaining('too large') });
    expect(parseDuration('7 d')).toEqual({ ok: false, error: expect.stringContaining('unknown unit " "') });
  });
});

describe('zoned wall clock', () => {
  it('reads calendar fields in the zone', () => {
    expect(wallClock(Date.parse('2024-03-30T23:30:00Z'), 'Europe/Berlin')).toMatchObject({ year: 2024, month: 3, day: 31, hour: 0, minute: 30 });
    expect(wallClock(Date.parse('2024-11-03T06:15:00Z'), 'America/New_York')).toMatchObject({ day: 3, hour: 1, minute: 15 });
    expect(wallClock(Date.parse('2024-01-01T00:00:00.250Z'), 'Asia/Kolkata')).toMatchObject({ hour: 5, minute: 30, millisecond: 250 });
  });

  it('resolves gaps forward and overlaps like Go time.Date', () => {
    // Berlin 2024-03-31 02:30 does not exist: Go moves it to 03:30 CEST (01:30Z).
    expect(iso(wallToInstant(wallAsUtc(2024, 3, 31, 2, 30), 'Europe/Berlin'))).toBe('2024-03-31T01:30:00.000Z');
    // Berlin 2024-10-27 02:30 happens twice; Go picks the offset in effect at 02:30 UTC: CET.
    expect(iso(wallToInstant(wallAsUtc(2024, 10, 27, 2, 30), 'Europe/Berlin'))).toBe('2024-10-27T01:30:00.000Z');
    expect(iso(wallToInstant(wallAsUtc(2024, 7, 1, 12), 'America/New_York'))).toBe('2024-07-01T16:00:00.000Z');
  });

  it('steps back calendar units with Go AddDate normalisation, hours as elapsed time', () => {
    const from = (t: string, d: string, zone = 'UTC') => iso(subtractDuration(Date.parse(t), dur(d), zone));
    expect(from('2024-03-31T12:00:00Z', '1m')).toBe('2024-03-02T12:00:00.000Z');
    expect(from('2023-03-31T12:00:00Z', '1m')).toBe('2023-03-03T12:00:00.000Z');
    expect(from('2024-02-29T12:00:00Z', '1y')).toBe('2023-03-01T12:00:00.000Z');
    expect(from('2024-02-29T12:00:00Z', '1m')).toBe('2024-01-29T12:00:00.000Z');
    expect(from('2024-05-31T00:00:00Z', '1y2m3d4h')).toBe('2023-03-27T20:00:00.000Z');
    // A calendar day across spring-forward in Berlin is 23 elapsed hours; 24h is 24.
    expect(from('2024-03-31T12:00:00Z', '1d', 'Europe/Berlin')).toBe('2024-03-30T13:00:00.000Z');
    expect(from('2024-03-31T12:00:00Z', '24h', 'Europe/Berlin')).toBe('2024-03-30T12:00:00.000Z');
    expect(from('0050-06-01T00:00:00Z', '1y')).toBe('0049-06-01T00:00:00.000Z');
  });

  it('knows zones and their DST amplitude', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Europe/Atlantis')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    expect(daylightSavingSlackMs('UTC')).toBe(0);
    expect(daylightSavingSlackMs('Asia/Tokyo')).toBe(0);
    expect(daylightSavingSlackMs('Europe/Berlin')).toBe(3_600_000);
    expect(daylightSavingSlackMs('Australia/Lord_Howe')).toBe(1_800_000);
  });
});

describe('calendar buckets', () => {
  it.each([
    [2020, 12, 31, 2020, 53],
    [2021, 1, 3, 2020, 53],
    [2021, 1, 4, 2021, 1],
    [2024, 12, 29, 2024, 52],
    [2024, 12, 30, 2025, 1],
    [2026, 12, 31, 2026, 53],
    [2027, 1, 1, 2026, 53],
    [2024, 1, 1, 2024, 1],
  ])('%i-%i-%i is ISO week %i-W%i', (y, m, d, weekYear, week) => {
    expect(isoWeek(y, m, d)).toEqual({ weekYear, week });
  });

  it('prefixes keys by rule so weekly and monthly keys never collide', () => {
    const w = wallClock(Date.parse('2024-01-05T10:20:30Z'), 'UTC');
    const keys = (['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const).map((p) => bucketKey(p, w));
    expect(keys).toEqual(['h:2024-01-05T10', 'd:2024-01-05', 'w:2024-W01', 'm:2024-01', 'y:2024']);
    expect(new Set(keys).size).toBe(5);
  });
});
