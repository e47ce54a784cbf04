/**
 * Calendar buckets: the hour, day, ISO week, month or year a snapshot falls in, as a string key.
 * Keys carry a rule prefix ("w:2024-W01", "m:2024-01") so a weekly key can never equal a monthly
 * one (kopia once compared weekly and monthly keys that were both "2024-01"). Buckets are taken on
 * the wall clock of the policy's zone, so they follow natural boundaries (restic: weeks run Monday
 * 00:00 to Sunday 23:59) and only ever grow as time moves forward.
 */
import { type WallClock, wallAsUtc } from './zoned-time.js';

export type CalendarPeriod = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

export const CALENDAR_PERIODS: readonly CalendarPeriod[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];

const DAY_MS = 86_400_000;

function pad(n: number, width = 2): string {
  const sign = n < 0 ? '-' : '';
  return sign + String(Math.abs(n)).padStart(width, '0');
}

/**
 * ISO 8601 week date: weeks start on Monday and week 1 is the week with the year's first
 * Thursday, so 2021-01-03 (a Sunday) is in 2020-W53 and 2024-12-30 (a Monday) in 2025-W01.
 */
export function isoWeek(year: number, month: number, day: number): { weekYear: number; week: number } {
  const date = wallAsUtc(year, month, day);
  const weekday = floorMod(new Date(date).getUTCDay() + 6, 7) + 1; // Monday 1 .. Sunday 7
  const thursday = date + (4 - weekday) * DAY_MS;
  const weekYear = new Date(thursday).getUTCFullYear();
  const dayOfYear = Math.round((thursday - wallAsUtc(weekYear, 1, 1)) / DAY_MS) + 1;
  return { weekYear, week: Math.floor((dayOfYear - 1) / 7) + 1 };
}

function floorMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** The bucket key of a wall clock for one calendar period, e.g. "d:2024-03-31". */
export function bucketKey(period: CalendarPeriod, w: WallClock): string {
  const ymd = `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
  switch (period) {
    case 'hourly':
      return `h:${ymd}T${pad(w.hour)}`;
    case 'daily':
      return `d:${ymd}`;
    case 'weekly': {
      const { weekYear, week } = isoWeek(w.year, w.month, w.day);
      return `w:${pad(weekYear, 4)}-W${pad(week)}`;
    }
    case 'monthly':
      return `m:${pad(w.year, 4)}-${pad(w.month)}`;
    case 'yearly':
      return `y:${pad(w.year, 4)}`;
  }
}
