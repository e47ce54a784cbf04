/**
 * Cold storage classes (S3 Glacier Flexible Retrieval / Glacier Instant Retrieval, EBS Snapshots
 * Archive) bill a minimum storage duration of 90 days: deleting earlier is charged as if the
 * object had stayed. An archive tier on such a class must therefore never delete a snapshot younger
 * than the minimum. This module decides whether a rule set guarantees that.
 *
 * The guarantee, precisely: every snapshot whose age (now - time) is below the minimum is kept.
 * Only three rule sets give it, whatever the snapshot history looks like:
 *   1. no rules at all (the tier keeps everything);
 *   2. keepLast "unlimited";
 *   3. keepWithin W where W surely spans the minimum. keepWithin keeps everything dated after
 *      (newest - W); the newest counted snapshot is never after now, so a snapshot younger than W
 *      by the clock is always inside the window.
 * Count rules (keepDaily 100 ...) and keepWithin* buckets cannot give it: they drop the second
 * snapshot of a day the moment it exists. Tags and pins depend on data, not on the policy.
 *
 * "Surely spans": months count as 28 days and years as 365 (their shortest calendar length), and
 * in a zone with daylight saving the calendar part may be one DST shift shorter in elapsed time,
 * so in Europe/Berlin "90d" is not enough and "90d1h" is.
 */
import { type Duration, formatDuration, isZeroDuration, minimumSpanMs } from './durations.js';
import { type RetentionRules, UNLIMITED, isEmptyRules } from './rules-schema.js';
import { daylightSavingSlackMs } from './zoned-time.js';

/** S3 Glacier Flexible Retrieval and EBS Snapshots Archive: 90-day minimum storage duration. */
export const COLD_STORAGE_MINIMUM_DAYS = 90;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The elapsed time keepWithin `d` reaches back at least, from any reference, in `zone`. */
export function guaranteedSpanMs(d: Duration, zone: string): number {
  const calendar: Duration = { ...d, hours: 0 };
  const calendarMs = minimumSpanMs(calendar);
  const slack = calendarMs > 0 ? daylightSavingSlackMs(zone) : 0;
  return calendarMs - slack + d.hours * HOUR_MS;
}

function formatSpan(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  const hours = Math.ceil((ms - days * DAY_MS) / HOUR_MS);
  return formatDuration({ years: 0, months: 0, days, hours });
}

/**
 * Returns undefined when `rules` keep every snapshot for `minimumDays`, else a message naming the
 * shortfall and the smallest keepWithin that would do.
 */
export function coldStorageProblem(rules: RetentionRules, zone: string, minimumDays: number): string | undefined {
  if (isEmptyRules(rules) || rules.keepLast === UNLIMITED) return undefined;
  const requiredMs = minimumDays * DAY_MS;
  const within = rules.keepWithin;
  if (!isZeroDuration(within) && guaranteedSpanMs(within!, zone) >= requiredMs) return undefined;
  const slack = daylightSavingSlackMs(zone);
  const suggestion = formatSpan(requiredMs + slack);
  const dstNote = slack > 0 ? ` (in ${zone} a DST switch can shorten a calendar span by ${formatSpan(slack)})` : '';
  const have = isZeroDuration(within)
    ? 'there is no keepWithin'
    : `keepWithin "${formatDuration(within!)}" is only guaranteed to span ${formatSpan(guaranteedSpanMs(within!, zone))}` +
      ' (months count as 28 days, years as 365)';
  return (
    `coldStorage: every archived snapshot must be kept at least ${minimumDays} days (earlier deletion is billed ` +
    `as if kept), but ${have}. Use keepWithin of at least "${suggestion}"${dstNote}, or keepLast: "unlimited".`
  );
}
