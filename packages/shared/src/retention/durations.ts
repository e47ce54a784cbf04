/**
 * restic's duration syntax for keep-within rules: `1y5m7d2h` (years, months, days, hours, any
 * order). Kept as calendar components rather than milliseconds because months and years have no
 * fixed length: "1m" back from 2024-03-31 is a different number of days than from 2024-02-29.
 * The arithmetic itself lives in zoned-time.ts, which knows the policy's time zone.
 */

export interface Duration {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly hours: number;
}

export const ZERO_DURATION: Duration = { years: 0, months: 0, days: 0, hours: 0 };

const UNIT_FIELDS = { y: 'years', m: 'months', d: 'days', h: 'hours' } as const;
type Unit = keyof typeof UNIT_FIELDS;

/**
 * Upper bound per unit: 10,000 years each (restic's own tests use "9999y" to mean "forever").
 * Even all four at their maximum reach back 40,000 years, inside the range JavaScript dates can
 * represent (±273,790 years around 1970), so threshold arithmetic never yields an invalid date.
 */
const MAX_COMPONENT: Record<Unit, number> = { y: 10_000, m: 120_000, d: 3_660_000, h: 87_840_000 };

export type DurationParse = { ok: true; duration: Duration } | { ok: false; error: string };

/**
 * Parses `1y5m7d2h`. Stricter than restic (which silently lets a repeated unit overwrite the
 * earlier one and accepts negative numbers): each unit at most once, non-negative integers only.
 * Surrounding white space is ignored, as restic does.
 */
export function parseDuration(text: string): DurationParse {
  const input = text.trim();
  if (input === '') return { ok: false, error: 'empty duration (expected e.g. "7d", "1y6m", "36h")' };
  const fields: Record<string, number> = { years: 0, months: 0, days: 0, hours: 0 };
  const seen = new Set<string>();
  let rest = input;
  while (rest !== '') {
    const match = /^(\d+)(.?)/.exec(rest);
    if (!match) return { ok: false, error: `malformed duration "${input}": expected a number at "${rest}"` };
    const [whole, digits = '', unit = ''] = match;
    if (unit === '') return { ok: false, error: `malformed duration "${input}": number ${digits} has no unit (use y, m, d or h)` };
    if (!(unit in UNIT_FIELDS)) {
      return { ok: false, error: `unknown unit "${unit}" in duration "${input}" (use y=years, m=months, d=days, h=hours; weeks are "7d")` };
    }
    if (seen.has(unit)) return { ok: false, error: `malformed duration "${input}": unit "${unit}" appears twice` };
    seen.add(unit);
    const value = Number(digits);
    if (value > MAX_COMPONENT[unit as Unit]) return { ok: false, error: `duration "${input}": ${digits}${unit} is too large (at most 10000 years)` };
    fields[UNIT_FIELDS[unit as Unit]] = value;
    rest = rest.slice(whole.length);
  }
  return { ok: true, duration: { years: fields.years!, months: fields.months!, days: fields.days!, hours: fields.hours! } };
}

/** A zero duration means "rule not set", exactly as in restic. */
export function isZeroDuration(d: Duration | undefined): boolean {
  return d === undefined || (d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0);
}

/** Canonical text, as restic prints it: components in y, m, d, h order, zero ones left out. */
export function formatDuration(d: Duration): string {
  const parts = [
    [d.years, 'y'],
    [d.months, 'm'],
    [d.days, 'd'],
    [d.hours, 'h'],
  ] as const;
  const text = parts
    .filter(([n]) => n !== 0)
    .map(([n, u]) => `${n}${u}`)
    .join('');
  return text === '' ? '0h' : text;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The shortest a calendar year can be (a common year). */
const MIN_YEAR_DAYS = 365;
/**
 * The shortest a calendar month can be under Go/JS date normalisation: stepping back one month
 * from March 29-31 of a common year lands on March 1-3 (February has no 29-31), i.e. 28 days.
 */
const MIN_MONTH_DAYS = 28;

/**
 * A lower bound, in milliseconds, for how far back the calendar part of `d` reaches, in a zone
 * without daylight saving (UTC). Exact for day/hour durations; conservative for months/years.
 */
export function minimumSpanMs(d: Duration): number {
  return (d.years * MIN_YEAR_DAYS + d.months * MIN_MONTH_DAYS + d.days) * DAY_MS + d.hours * HOUR_MS;
}
