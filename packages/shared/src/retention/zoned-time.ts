/**
 * Wall-clock arithmetic in an IANA time zone, with nothing but Intl.DateTimeFormat (no time-zone
 * library: Node ships full ICU). Retention buckets are calendar hours/days/weeks/months/years in
 * the policy's zone (UTC by default), and keep-within thresholds step back calendar months and
 * days there, the way restic's Go code does with time.AddDate in the snapshot's own zone.
 */
import type { Duration } from './durations.js';

export const UTC = 'UTC';

/** The calendar fields of one instant as a clock in the zone shows them. month is 1-12. */
export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
}

const HOUR_MS = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    // h23: midnight is hour 0 (some ICU versions print "24" under hour12: false).
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when Intl knows the zone name ("Europe/Berlin", "UTC"); abbreviations like "CET" are IANA links and also pass. */
export function isValidTimeZone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

function isUtc(zone: string): boolean {
  return zone === UTC || zone === 'Etc/UTC';
}

function floorMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** The wall clock of `instant` (ms since the epoch) in `zone`. */
export function wallClock(instant: number, zone: string): WallClock {
  const millisecond = floorMod(instant, 1000);
  if (isUtc(zone)) {
    const d = new Date(instant);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      millisecond,
    };
  }
  const parts: Record<string, string> = {};
  for (const p of formatterFor(zone).formatToParts(new Date(instant))) parts[p.type] = p.value;
  const yearOfEra = Number(parts.year);
  // Intl counts years before 1 CE as "1 BC", "2 BC"...; astronomical numbering makes 1 BC year 0.
  const year = parts.era === 'BC' || parts.era === 'B' ? 1 - yearOfEra : yearOfEra;
  return {
    year,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    millisecond,
  };
}

/**
 * Wall-clock fields read as if they were UTC, normalising overflow exactly like Go's time.Date and
 * JS Date.UTC (February 31 is March 2 or 3). setUTCFullYear avoids Date.UTC's mapping of years
 * 0-99 to 1900-1999.
 */
export function wallAsUtc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

/** The zone's offset from UTC at `instant`, in ms (Berlin in summer: +2 h). */
export function offsetAt(instant: number, zone: string): number {
  if (isUtc(zone)) return 0;
  const w = wallClock(instant, zone);
  return wallAsUtc(w.year, w.month, w.day, w.hour, w.minute, w.second, w.millisecond) - instant;
}

/**
 * The instant a wall-clock time (given as wallAsUtc ms) denotes in `zone`, resolved as Go's
 * time.Date resolves it: in a spring-forward gap the time moves forward by the gap (02:30 on the
 * Berlin switch day is 03:30 CEST); in a fall-back overlap this picks the offset in effect at the
 * wall time read as UTC, which for Europe and the Americas is the later (standard-time) instant.
 */
export function wallToInstant(wall: number, zone: string): number {
  if (isUtc(zone)) return wall;
  const first = offsetAt(wall, zone);
  const guess = wall - first;
  const second = offsetAt(guess, zone);
  return second === first ? guess : wall - second;
}

/**
 * restic's keep-within threshold: `reference.AddDate(-y, -m, -d).Add(-h hours)`. Years, months
 * and days are calendar steps on the zone's wall clock (with Go's overflow normalisation: one
 * month back from 2024-03-31 is 2024-03-02); hours are elapsed time, as in Go.
 */
export function subtractDuration(reference: number, d: Duration, zone: string): number {
  const w = wallClock(reference, zone);
  const wall = wallAsUtc(w.year - d.years, w.month - d.months, w.day - d.days, w.hour, w.minute, w.second, w.millisecond);
  const result = wallToInstant(wall, zone) - d.hours * HOUR_MS;
  // Durations are capped (durations.ts) so this stays finite; if it ever did not, treat the
  // window as unbounded, which keeps snapshots rather than deleting them.
  return Number.isFinite(result) ? result : -Infinity;
}

/** First day of each month of 2024: a leap year that covers every DST rule in use today. */
const SAMPLE_INSTANTS = Array.from({ length: 12 }, (_, m) => wallAsUtc(2024, m + 1, 1));

/**
 * How much the zone's offset varies over a year (1 h for Berlin and New York, 0 for UTC and Tokyo,
 * 30 min for Lord Howe, 2 h for Antarctica/Troll), sampled over 2024. A calendar span of N days in
 * the zone can be this much shorter in elapsed time when a DST switch falls inside it.
 */
export function daylightSavingSlackMs(zone: string): number {
  if (isUtc(zone)) return 0;
  const offsets = SAMPLE_INSTANTS.map((t) => offsetAt(t, zone));
  return Math.max(...offsets) - Math.min(...offsets);
}
