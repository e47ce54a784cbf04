/**
 * The `orphans` section (docs/operations.md, "Orphans"): what happens to the snapshots of a
 * (policy, volume) pair once the policy no longer covers the volume (the volume was deleted,
 * untagged or left the selector) or the policy left the config. Without the section nothing of
 * theirs is ever deleted; with it, each tier named here is thinned by its own rules (or emptied
 * with "delete") once the pair's newest recovery point is `after` old. The first run of a rule
 * that would delete more of a volume's history than `retentionGuard.maxShare` waits for
 * `snapfleet retention confirm --orphans`.
 *
 * The `retentionGuard` section: how much of one volume's history a change of retention rules
 * may delete before it is held until confirmed.
 */
import { z } from 'zod';
import { retentionRulesSchema } from '../retention/rules-schema.js';
import { interval } from './interval-schema.js';

const DAY_MS = 86_400_000;

/** A tier's rules for orphans: keep-* rules as a policy's, or "delete" for all of it. */
const orphanTierSchema = z.union([z.literal('delete'), retentionRulesSchema], {
  error: 'must be keep-* rules ({ keepLast: 1, keepMonthly: 6 }) or "delete"',
});

export const orphansSchema = z
  .strictObject({
    /**
     * How long a pair goes without a new recovery point before its rules apply: a volume missing
     * from one discovery (an API hiccup, a tag typo fixed the next day) loses nothing.
     * @defaultValue "7d"
     */
    after: interval(1000).default(7 * DAY_MS),
    /** How often the fleet looks for orphans (a job on the retention queue). @defaultValue "1d" */
    every: interval(1000).default(DAY_MS),
    /** Rules for the repository's snapshots of the pair. Absent: all kept. */
    archiveTier: orphanTierSchema.optional(),
    /** Rules for the provider's snapshots of the pair (EBS snapshots). Absent: all kept. */
    snapshotTier: orphanTierSchema.optional(),
  })
  .refine((o) => o.archiveTier !== undefined || o.snapshotTier !== undefined, {
    error: 'give archiveTier, snapshotTier or both (an orphans section without rules deletes nothing)',
  });

export const retentionGuardSchema = z.strictObject({
  /**
   * The share of one volume's snapshots in a tier, (0, 1], that a change of retention rules (a
   * policy's, the orphans rule's first run) may delete beyond what the rules it replaces would,
   * before it is held until `snapfleet retention confirm`. 1 turns the guard off.
   * @defaultValue 0.25
   */
  maxShare: z.number({ error: 'must be a number in (0, 1]' }).gt(0, { error: 'must be more than 0' }).max(1, { error: 'must be at most 1' }).default(0.25),
});

export type OrphansConfig = z.output<typeof orphansSchema>;
export type OrphanTierRules = NonNullable<OrphansConfig['archiveTier']>;
export type RetentionGuardConfig = z.output<typeof retentionGuardSchema>;
