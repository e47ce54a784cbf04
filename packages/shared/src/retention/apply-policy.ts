/**
 * The retention decision: a pure function of (snapshots, rules, now) returning what to keep, with
 * every reason, and what to remove. It is restic's ApplyPolicy (internal/data/snapshot_policy.go):
 *
 * - snapshots are walked newest first;
 * - each count rule (last, hourly, daily, weekly, monthly, yearly) keeps the newest snapshot of
 *   each new bucket until its count is spent (-1: never spent); rules count independently and
 *   are ORed;
 * - when a count rule still has quota at the oldest snapshot, the oldest is kept too ("oldest daily
 *   snapshot"; restic >= 0.15), so a short history is not thinned below what the policy allows;
 * - keepWithin keeps everything dated after (newest - duration); keepWithin* keep the newest of
 *   each bucket inside that window (with the same "oldest" rule);
 * - keepTags keeps snapshots having every tag of any one set; an empty policy removes nothing.
 *
 * snapfleet additions: pinned snapshots are always kept (and still counted); snapshots dated after
 * `now` are kept as "future-dated" and NOT counted, so a skewed clock cannot push real history out
 * of the quotas (restic counts them and only excludes them from the keepWithin reference). Buckets
 * and durations use the policy's time zone (UTC by default), not each snapshot's recorded offset.
 */
import { bucketKey, CALENDAR_PERIODS, type CalendarPeriod } from './calendar-buckets.js';
import { type Duration, isZeroDuration } from './durations.js';
import { countReason, type CountRule, REASON_FUTURE, REASON_NO_POLICY, REASON_PINNED, tagReason, withinBucketReason, withinReason } from './keep-reasons.js';
import { isEmptyRules, type RetentionRules } from './rules-schema.js';
import { type OrderedSnapshot, orderNewestFirst, type RetentionSnapshot, toInstant } from './snapshot-order.js';
import { subtractDuration, UTC, wallClock, type WallClock } from './zoned-time.js';

export interface KeptSnapshot<S> {
  snapshot: S;
  /** Why it is kept, in a fixed order: pinned, future-dated, tags, within, counts, within-buckets. */
  reasons: string[];
}

export interface RemovedSnapshot<S> {
  snapshot: S;
}

/** Both lists are newest first; together they hold every input snapshot exactly once. */
export interface RetentionResult<S> {
  keep: KeptSnapshot<S>[];
  remove: RemovedSnapshot<S>[];
}

const COUNT_RULES: readonly { rule: CountRule; field: keyof RetentionRules }[] = [
  { rule: 'last', field: 'keepLast' },
  { rule: 'hourly', field: 'keepHourly' },
  { rule: 'daily', field: 'keepDaily' },
  { rule: 'weekly', field: 'keepWeekly' },
  { rule: 'monthly', field: 'keepMonthly' },
  { rule: 'yearly', field: 'keepYearly' },
];

const WITHIN_FIELD: Record<CalendarPeriod, keyof RetentionRules> = {
  hourly: 'keepWithinHourly',
  daily: 'keepWithinDaily',
  weekly: 'keepWithinWeekly',
  monthly: 'keepWithinMonthly',
  yearly: 'keepWithinYearly',
};

export function applyPolicy<S extends RetentionSnapshot>(snapshots: readonly S[], policy: RetentionRules, now: Date | string): RetentionResult<S> {
  const nowMs = toInstant(now, 'now');
  const ordered = orderNewestFirst(snapshots);
  const empty = isEmptyRules(policy);
  const counted = ordered.filter((s) => s.time <= nowMs);
  const ruleReasons = empty ? new Map<OrderedSnapshot<S>, string[]>() : evaluateRules(counted, policy);
  const result: RetentionResult<S> = { keep: [], remove: [] };
  for (const s of ordered) {
    const reasons: string[] = [];
    if (s.snapshot.pinned === true) reasons.push(REASON_PINNED);
    if (s.time > nowMs) reasons.push(REASON_FUTURE);
    if (empty) reasons.push(REASON_NO_POLICY);
    reasons.push(...(ruleReasons.get(s) ?? []));
    if (reasons.length > 0) result.keep.push({ snapshot: s.snapshot, reasons });
    else result.remove.push({ snapshot: s.snapshot });
  }
  return result;
}

/** One count rule's state while walking: quota left (-1 = unlimited) and the last bucket kept. */
interface CountState {
  rule: CountRule;
  remaining: number;
  last?: string;
}

/** One keepWithin* rule: its window's lower bound and the last bucket kept. */
interface WithinBucketState {
  period: CalendarPeriod;
  duration: Duration;
  threshold: number;
  last?: string;
}

/** The rule reasons for each counted (not future-dated) snapshot, `counted` newest first. */
function evaluateRules<S extends RetentionSnapshot>(counted: OrderedSnapshot<S>[], rules: RetentionRules): Map<OrderedSnapshot<S>, string[]> {
  const reasons = new Map<OrderedSnapshot<S>, string[]>();
  const reference = counted[0]?.time;
  if (reference === undefined) return reasons;
  const zone = rules.timeZone ?? UTC;
  const counts: CountState[] = COUNT_RULES.map(({ rule, field }) => ({ rule, remaining: (rules[field] as number | undefined) ?? 0 })).filter(
    (c) => c.remaining !== 0,
  );
  const withinBuckets: WithinBucketState[] = CALENDAR_PERIODS.flatMap((period) => {
    const duration = rules[WITHIN_FIELD[period]] as Duration | undefined;
    return isZeroDuration(duration) ? [] : [{ period, duration: duration!, threshold: subtractDuration(reference, duration!, zone) }];
  });
  const within = isZeroDuration(rules.keepWithin) ? undefined : rules.keepWithin!;
  const withinThreshold = within ? subtractDuration(reference, within, zone) : undefined;

  counted.forEach((s, index) => {
    const oldest = index === counted.length - 1;
    const wall = wallClock(s.time, zone);
    const matched: string[] = [];
    for (const set of rules.keepTags ?? []) if (set.every((t) => s.tags.has(t))) matched.push(tagReason(set));
    if (within && s.time > withinThreshold!) matched.push(withinReason(within));
    for (const c of counts) {
      const reason = takeCount(c, index, wall, oldest);
      if (reason) matched.push(reason);
    }
    for (const b of withinBuckets) {
      const reason = takeWithinBucket(b, s.time, wall, oldest);
      if (reason) matched.push(reason);
    }
    if (matched.length > 0) reasons.set(s, matched);
  });
  return reasons;
}

/** restic: keep when the bucket changed, or at the oldest snapshot while quota is left. */
function takeCount(c: CountState, index: number, wall: WallClock, oldest: boolean): string | undefined {
  if (c.remaining === 0) return undefined;
  const key = c.rule === 'last' ? `l:${index}` : bucketKey(c.rule, wall);
  if (key === c.last && !oldest) return undefined;
  const reason = countReason(c.rule, key === c.last);
  c.last = key;
  if (c.remaining > 0) c.remaining--;
  return reason;
}

/** The same walk inside the window (time strictly after the threshold, as Go's After), without a quota. */
function takeWithinBucket(b: WithinBucketState, time: number, wall: WallClock, oldest: boolean): string | undefined {
  if (!(time > b.threshold)) return undefined;
  const key = bucketKey(b.period, wall);
  if (key === b.last && !oldest) return undefined;
  const reason = withinBucketReason(b.period, b.duration, key === b.last);
  b.last = key;
  return reason;
}
