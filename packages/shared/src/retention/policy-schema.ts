/**
 * A volume's retention policy: two tiers, each with its own keep-* rules, plus which snapshots
 * the archive tier receives. The snapshot tier holds the provider's volume snapshots (EBS
 * snapshots: cheap to restore, costly to keep, short retention); the archive tier is the
 * repository (deduplicated, long retention, possibly cold storage). Parsed once at the edge
 * (STYLE 9); every error names its field, e.g. "archiveTier.keepWithin: ...".
 */
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { COLD_STORAGE_MINIMUM_DAYS, coldStorageProblem } from './cold-storage.js';
import { type RetentionRules, refineKeepsSomething, retentionRulesSchema, ruleShape, timeZoneSchema } from './rules-schema.js';
import { UTC } from './zoned-time.js';

const snapshotTierSchema = z.strictObject(ruleShape).superRefine((rules, ctx) => refineKeepsSomething(rules, ctx));

const archiveTierSchema = z
  .strictObject({
    ...ruleShape,
    /**
     * The repository lives on a storage class with a minimum storage duration (S3 Glacier, EBS
     * Snapshots Archive): the tier must then keep every snapshot that long (see cold-storage.ts).
     * @defaultValue false
     */
    coldStorage: z.boolean({ error: 'must be true or false' }).default(false),
    /** The storage class's minimum, in days (Glacier Deep Archive: 180). @defaultValue 90 */
    coldStorageMinimumDays: z
      .number({ error: 'must be a number of days' })
      .int({ error: 'must be a whole number of days' })
      .positive({ error: 'must be at least 1 day' })
      .default(COLD_STORAGE_MINIMUM_DAYS),
  })
  .superRefine((rules, ctx) => refineKeepsSomething(rules, ctx));

/** Which new snapshot-tier snapshots are also archived (archive-selection.ts). */
const archiveSelectionSchema = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({ mode: z.literal('every-snapshot') }),
    z.strictObject({
      mode: z.literal('every-nth'),
      n: z.number({ error: 'must be a number' }).int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }),
    }),
    z.strictObject({ mode: z.literal('first-of-month') }),
  ],
  { error: 'mode must be "every-snapshot", "every-nth" (with n) or "first-of-month"' },
);

export const retentionPolicySchema = z
  .strictObject({
    /** IANA zone whose calendar defines hours, days, ISO weeks, months and years. @defaultValue "UTC" */
    timeZone: timeZoneSchema.default(UTC),
    snapshotTier: snapshotTierSchema,
    archiveTier: archiveTierSchema,
    /** @defaultValue { mode: "every-snapshot" } */
    archiveSelection: archiveSelectionSchema.default({ mode: 'every-snapshot' }),
  })
  .superRefine((policy, ctx) => {
    const archive = policy.archiveTier;
    if (!archive.coldStorage) return;
    const problem = coldStorageProblem(archive, policy.timeZone, archive.coldStorageMinimumDays);
    if (problem) ctx.addIssue({ code: 'custom', path: ['archiveTier', 'keepWithin'], message: problem });
  });

export type RetentionPolicyInput = z.input<typeof retentionPolicySchema>;
export type RetentionPolicy = z.output<typeof retentionPolicySchema>;
export type ArchiveSelection = RetentionPolicy['archiveSelection'];
export type Tier = 'snapshot' | 'archive';

export interface PolicyIssue {
  /** Dotted path of the offending field ("archiveTier.keepDaily"); "" for the whole policy. */
  path: string;
  message: string;
}

export type PolicyValidation<T> = { success: true; value: T } | { success: false; issues: PolicyIssue[] };

function toIssues(error: z.ZodError): PolicyIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

function validate<T>(schema: z.ZodType<T>, input: unknown): PolicyValidation<T> {
  const result = schema.safeParse(input);
  return result.success ? { success: true, value: result.data } : { success: false, issues: toIssues(result.error) };
}

function orThrow<T>(what: string, v: PolicyValidation<T>): T {
  if (v.success) return v.value;
  const text = v.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new InvalidInputError(`invalid ${what}: ${text}`, v.issues[0]?.path);
}

export function validateRetentionPolicy(input: unknown): PolicyValidation<RetentionPolicy> {
  return validate(retentionPolicySchema, input);
}

/** Parses a two-tier policy or throws InvalidInputError listing every problem with its field. */
export function parseRetentionPolicy(input: unknown): RetentionPolicy {
  return orThrow('retention policy', validateRetentionPolicy(input));
}

export function validateRetentionRules(input: unknown): PolicyValidation<RetentionRules> {
  return validate(retentionRulesSchema, input);
}

/** Parses one tier's rules (with an optional timeZone) or throws InvalidInputError. */
export function parseRetentionRules(input: unknown): RetentionRules {
  return orThrow('retention rules', validateRetentionRules(input));
}

/** The rules apply-policy.ts runs for one tier, with the policy's time zone attached. */
export function tierRules(policy: RetentionPolicy, tier: Tier): RetentionRules {
  const { coldStorage: _c, coldStorageMinimumDays: _m, ...archive } = policy.archiveTier;
  const rules = tier === 'snapshot' ? policy.snapshotTier : archive;
  return { ...rules, timeZone: policy.timeZone };
}
