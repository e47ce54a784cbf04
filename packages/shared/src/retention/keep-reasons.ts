/**
 * The reason strings attached to every kept snapshot. They are part of the output contract
 * (golden files, `forget --dry-run`, logs), so they are built only here and never change meaning.
 * Wording follows restic's `forget` output where restic has the concept ("daily snapshot",
 * "oldest daily snapshot", "within 7d", "daily within 30d"); snapfleet's own reasons are "pinned",
 * "future-dated", "no policy", and "tag a,b" (restic prints "has tags [a b]").
 */
import type { CalendarPeriod } from './calendar-buckets.js';
import { type Duration, formatDuration } from './durations.js';

export type CountRule = 'last' | CalendarPeriod;

export const REASON_PINNED = 'pinned';
/** Dated after `now`: kept and not counted by any rule (see apply-policy.ts). */
export const REASON_FUTURE = 'future-dated';
/** The policy has no rule at all, so nothing is removed (restic refuses an empty policy the same way). */
export const REASON_NO_POLICY = 'no policy';

/** "last snapshot", "daily snapshot"; with `oldest`: "oldest daily snapshot" (quota left at the oldest). */
export function countReason(rule: CountRule, oldest: boolean): string {
  const base = rule === 'last' ? 'last snapshot' : `${rule} snapshot`;
  return oldest ? `oldest ${base}` : base;
}

/** "within 7d": dated after the newest snapshot minus the duration. */
export function withinReason(d: Duration): string {
  return `within ${formatDuration(d)}`;
}

/** "daily within 30d"; with `oldest`: "oldest daily within 30d". */
export function withinBucketReason(period: CalendarPeriod, d: Duration, oldest: boolean): string {
  const base = `${period} within ${formatDuration(d)}`;
  return oldest ? `oldest ${base}` : base;
}

/** "tag daily" for a one-tag set, "tag a,b" for a snapshot that has both a and b. */
export function tagReason(tagSet: readonly string[]): string {
  return `tag ${tagSet.join(',')}`;
}
