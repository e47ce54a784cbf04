/**
 * The keep-* rules of one retention tier, as restic's `forget` options, validated with zod so a
 * bad configuration fails at the edge with the field named ("keepDaily: must be a whole number
 * >= 0 ..."). Input is the human form (counts or "unlimited", durations like "1y6m", tag sets as
 * "a,b" or ["a", "b"]); output is the parsed form apply-policy.ts works on.
 */
import { z } from 'zod';
import { type Duration, isZeroDuration, parseDuration } from './durations.js';
import { isValidTimeZone } from './zoned-time.js';

/** -1 means unlimited, as in restic. */
export const UNLIMITED = -1;

/** A keep count: a whole number >= 0, or "unlimited" / -1. */
export type KeepCountInput = number | 'unlimited';

const countSchema = z
  .union([z.literal('unlimited'), z.number()], {
    error: (iss) => `must be a whole number >= 0, or "unlimited" (or -1) for no limit; got ${JSON.stringify(iss.input)}`,
  })
  .transform((value, ctx) => {
    if (value === 'unlimited') return UNLIMITED;
    if (!Number.isSafeInteger(value) || value < UNLIMITED) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number >= 0, or "unlimited" (or -1) for no limit; got ${value}` });
      return z.NEVER;
    }
    return value;
  });

const durationSchema = z
  .string({ error: (iss) => `must be a duration such as "7d", "36h" or "1y6m"; got ${JSON.stringify(iss.input)}` })
  .transform((text, ctx): Duration => {
    const parsed = parseDuration(text);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }
    return parsed.duration;
  });

/** One tag set: "a,b" or ["a", "b"] both mean "has a and b" (restic's `--keep-tag a,b`). */
const tagSetSchema = z
  .union([z.string(), z.array(z.string())], { error: 'each entry must be a tag, "tag1,tag2", or an array of tags' })
  .transform((value, ctx) => {
    const tags = (typeof value === 'string' ? value.split(',') : value).map((t) => t.trim());
    if (tags.length === 0 || tags.some((t) => t === '')) {
      ctx.addIssue({ code: 'custom', message: `empty tag in ${JSON.stringify(value)} (restic's '' for "untagged" is not supported)` });
      return z.NEVER;
    }
    return [...new Set(tags)];
  });

export const timeZoneSchema = z.string().refine(isValidTimeZone, {
  error: (iss) => `unknown time zone ${JSON.stringify(iss.input)} (expected an IANA name such as "Europe/Berlin" or "UTC")`,
});

export const COUNT_FIELDS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;
export const WITHIN_FIELDS = ['keepWithin', 'keepWithinHourly', 'keepWithinDaily', 'keepWithinWeekly', 'keepWithinMonthly', 'keepWithinYearly'] as const;

/** The keep-* fields shared by a standalone rule set and by each tier. */
export const ruleShape = {
  /** Keep the N newest snapshots. @defaultValue 0 (rule off) */
  keepLast: countSchema.optional(),
  /** For the N newest hours that have snapshots, keep the newest of each. @defaultValue 0 */
  keepHourly: countSchema.optional(),
  /** For the N newest calendar days that have snapshots, keep the newest of each. @defaultValue 0 */
  keepDaily: countSchema.optional(),
  /** Same for ISO weeks (Monday to Sunday). @defaultValue 0 */
  keepWeekly: countSchema.optional(),
  /** Same for calendar months. @defaultValue 0 */
  keepMonthly: countSchema.optional(),
  /** Same for calendar years. @defaultValue 0 */
  keepYearly: countSchema.optional(),
  /** Keep every snapshot dated after (newest snapshot - duration). @defaultValue unset */
  keepWithin: durationSchema.optional(),
  /** Keep the newest snapshot of each hour inside the window. @defaultValue unset */
  keepWithinHourly: durationSchema.optional(),
  keepWithinDaily: durationSchema.optional(),
  keepWithinWeekly: durationSchema.optional(),
  keepWithinMonthly: durationSchema.optional(),
  keepWithinYearly: durationSchema.optional(),
  /** Keep snapshots that carry all tags of any one set. @defaultValue [] */
  keepTags: z.array(tagSetSchema, { error: 'must be an array of tag sets, e.g. ["monthly", "a,b"]' }).optional(),
};

/** Parsed rules: counts are numbers (-1 = unlimited), durations are components, tag sets are arrays. */
export interface RetentionRules {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithin?: Duration;
  keepWithinHourly?: Duration;
  keepWithinDaily?: Duration;
  keepWithinWeekly?: Duration;
  keepWithinMonthly?: Duration;
  keepWithinYearly?: Duration;
  keepTags?: string[][];
  /** IANA zone whose wall clock defines hours, days, weeks, months and years. @defaultValue "UTC" */
  timeZone?: string;
}

/** True when no rule would keep anything: restic's ExpirePolicy.Empty(). apply-policy keeps all then. */
export function isEmptyRules(rules: RetentionRules): boolean {
  return COUNT_FIELDS.every((f) => (rules[f] ?? 0) === 0) && WITHIN_FIELDS.every((f) => isZeroDuration(rules[f])) && (rules.keepTags ?? []).length === 0;
}

/** True when the input mentions any keep-* field at all (even as 0). */
export function mentionsAnyRule(rules: object): boolean {
  return [...COUNT_FIELDS, ...WITHIN_FIELDS, 'keepTags'].some((f) => f in rules && (rules as Record<string, unknown>)[f] !== undefined);
}

/**
 * Rejects rules that are present but all zero ({ keepLast: 0 }): almost always a mistake, and in
 * restic it silently means "remove nothing". Leaving out every rule is the explicit way to say
 * "keep everything".
 */
export function refineKeepsSomething(rules: RetentionRules, ctx: z.RefinementCtx, path: (string | number)[] = []): void {
  if (mentionsAnyRule(rules) && isEmptyRules(rules)) {
    ctx.addIssue({
      code: 'custom',
      path,
      message:
        'policy keeps nothing: every keep count is 0 and there is no keepWithin* duration or keepTags. ' +
        'Set at least one rule, or leave out all keep* fields to keep every snapshot.',
    });
  }
}

export const retentionRulesSchema = z
  .strictObject({ ...ruleShape, timeZone: timeZoneSchema.optional() })
  .superRefine((rules, ctx) => refineKeepsSomething(rules, ctx));

export type RetentionRulesInput = z.input<typeof retentionRulesSchema>;
