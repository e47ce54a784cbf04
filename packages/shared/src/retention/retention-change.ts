/**
 * Retention changes held until confirmed (docs/operations.md, "Retention changes"). The fleet
 * remembers the rules an operator accepted for each policy (and for orphans); a job whose rules
 * differ plans its volume under both, and when the new rules would delete more than a set share
 * of the volume's snapshots beyond what the accepted ones would, it deletes only what both agree
 * on and reports the change as held. A typo ("keepDaily: 7" for "keepWeekly: 7"), a removed
 * policy's volumes falling to a "delete" orphans rule, or a selector that stopped matching then
 * costs nothing until someone confirms it. Pure: callers plan and store.
 */
import { tierRules, type RetentionPolicy } from './policy-schema.js';
import type { RetentionRules } from './rules-schema.js';

/** One tier's rules as the guard compares them: keep-* rules, "delete" (every snapshot), or null (keep every snapshot). */
export type GuardedTierRules = RetentionRules | 'delete' | null;

export interface GuardedRules {
  archive: GuardedTierRules;
  snapshot: GuardedTierRules;
}

export const KEEP_EVERYTHING: GuardedRules = { archive: null, snapshot: null };

/** A policy's rules (absent: it keeps everything). */
export function policyGuardedRules(retention: RetentionPolicy | undefined): GuardedRules {
  return retention ? { archive: tierRules(retention, 'archive'), snapshot: tierRules(retention, 'snapshot') } : KEEP_EVERYTHING;
}

/** The same rules give the same text whatever order their fields were written in. */
export function canonicalRules(rules: GuardedRules): string {
  return JSON.stringify(sortKeys(rules));
}

/** Whether two tiers' rules are the same, whatever order their fields were written in. */
export function sameTierRules(a: GuardedTierRules, b: GuardedTierRules): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

/** Rules stored by canonicalRules; undefined when the text is not such rules (then nothing counts as accepted). */
export function parseGuardedRules(text: string): GuardedRules | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object') return undefined;
    const { archive, snapshot } = value as Record<string, unknown>;
    const tier = (t: unknown) => t === null || t === 'delete' || (typeof t === 'object' && !Array.isArray(t));
    return tier(archive) && tier(snapshot) ? (value as GuardedRules) : undefined;
  } catch {
    return undefined;
  }
}

export interface ChangeImpact {
  /** Snapshots of the volume in the tier. */
  total: number;
  /** Deleted under the new rules but kept under the accepted ones. */
  extra: number;
  /** extra / total. */
  share: number;
}

export interface GuardedPlan<T> {
  /** What to delete now. */
  remove: T[];
  /** Set when the rules differ from the accepted ones: what the change costs this volume. */
  impact?: ChangeImpact;
  /** Whether the change is held: `remove` is then only what both rule sets delete. */
  held: boolean;
}

/**
 * `underAccepted` undefined: the rules are the accepted ones, nothing to guard. A change whose
 * extra deletions stay within `maxShare` of the history goes ahead; a larger one is held.
 */
export function guardPlan<T>(
  total: number,
  underCurrent: readonly T[],
  underAccepted: readonly T[] | undefined,
  id: (t: T) => string,
  maxShare: number,
): GuardedPlan<T> {
  if (underAccepted === undefined) return { remove: [...underCurrent], held: false };
  const accepted = new Set(underAccepted.map(id));
  const extra = underCurrent.filter((t) => !accepted.has(id(t))).length;
  const impact: ChangeImpact = { total, extra, share: total === 0 ? 0 : extra / total };
  if (extra === 0 || impact.share <= maxShare) return { remove: [...underCurrent], impact, held: false };
  return { remove: underCurrent.filter((t) => accepted.has(id(t))), impact, held: true };
}
