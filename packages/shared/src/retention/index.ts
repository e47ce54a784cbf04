/**
 * @snapfleet/shared/retention: which snapshots to keep and why. Pure (no clock, no I/O): callers
 * pass `now` and the snapshot list, and get back keep/remove lists with reasons, restic-style.
 * See docs/retention.md for the rules, the reason strings, time zones and the tiers.
 */
export { applyPolicy, type KeptSnapshot, type RemovedSnapshot, type RetentionResult } from './apply-policy.js';
export { applyTieredPolicy, type TieredRetentionResult } from './tiers.js';
export { shouldArchive, type ArchiveDecision, type SelectionSnapshot } from './archive-selection.js';
export { selectionHistory, type SlotEntry } from './selection-history.js';
export {
  planSnapshotTier,
  HELD_ARCHIVE_RUNNING,
  HELD_ERROR,
  HELD_MAY_BE_ARCHIVED,
  HELD_PENDING,
  HELD_NEXT_PARENT,
  type ArchiveProgress,
  type HeldSnapshot,
  type SnapshotTierPlan,
  type TierSnapshot,
} from './snapshot-tier.js';
export type { RetentionSnapshot } from './snapshot-order.js';
export {
  parseRetentionPolicy,
  validateRetentionPolicy,
  parseRetentionRules,
  validateRetentionRules,
  retentionPolicySchema,
  tierRules,
  type ArchiveSelection,
  type PolicyIssue,
  type PolicyValidation,
  type RetentionPolicy,
  type RetentionPolicyInput,
  type Tier,
} from './policy-schema.js';
export { retentionRulesSchema, isEmptyRules, UNLIMITED, type KeepCountInput, type RetentionRules, type RetentionRulesInput } from './rules-schema.js';
export { parseDuration, formatDuration, type Duration, type DurationParse } from './durations.js';
export { COLD_STORAGE_MINIMUM_DAYS, coldStorageProblem, guaranteedSpanMs } from './cold-storage.js';
export { isoWeek, bucketKey, type CalendarPeriod } from './calendar-buckets.js';
export { isValidTimeZone, subtractDuration, wallClock, type WallClock } from './zoned-time.js';
export { REASON_FUTURE, REASON_NO_POLICY, REASON_PINNED, countReason, tagReason, withinBucketReason, withinReason } from './keep-reasons.js';
export {
  canonicalRules,
  guardPlan,
  KEEP_EVERYTHING,
  parseGuardedRules,
  policyGuardedRules,
  sameTierRules,
  type ChangeImpact,
  type GuardedPlan,
  type GuardedRules,
  type GuardedTierRules,
} from './retention-change.js';
