import { describe, expect, it } from 'vitest';
import { canonicalRules, guardPlan, KEEP_EVERYTHING, parseGuardedRules, policyGuardedRules, sameTierRules } from './retention-change.js';
import { parseRetentionPolicy } from './policy-schema.js';

const id = (s: string) => s;
const history = Array.from({ length: 20 }, (_, i) => `s${i}`);

describe('guardPlan', () => {
  it('applies the rules as they are when they are the accepted ones', () => {
    expect(guardPlan(20, ['s0', 's1'], undefined, id, 0.25)).toEqual({ remove: ['s0', 's1'], held: false });
  });

  it('lets a change through that deletes at most maxShare of the history beyond the accepted rules', () => {
    // accepted: delete s0..s4; new: s0..s9, 5 more of 20 = 25%
    const g = guardPlan(20, history.slice(0, 10), history.slice(0, 5), id, 0.25);
    expect(g.held).toBe(false);
    expect(g.remove).toEqual(history.slice(0, 10));
    expect(g.impact).toEqual({ total: 20, extra: 5, share: 0.25 });
  });

  it('holds a larger change and deletes only what both rule sets delete', () => {
    const g = guardPlan(20, history.slice(0, 15), history.slice(3, 8), id, 0.25);
    expect(g.held).toBe(true);
    expect(g.impact).toEqual({ total: 20, extra: 10, share: 0.5 });
    expect(g.remove).toEqual(history.slice(3, 8));
  });

  it('never holds a change that deletes less than the accepted rules', () => {
    const g = guardPlan(20, [], history.slice(0, 15), id, 0.25);
    expect(g).toEqual({ remove: [], impact: { total: 20, extra: 0, share: 0 }, held: false });
  });

  it('counts against keep-everything: adding rules to a policy that had none', () => {
    const g = guardPlan(4, ['a', 'b', 'c'], [], id, 0.5);
    expect(g.held).toBe(true);
    expect(g.remove).toEqual([]);
  });
});

describe('canonical rules', () => {
  it('are the same text whatever order the fields were written in', () => {
    const a = policyGuardedRules(parseRetentionPolicy({ snapshotTier: { keepLast: 2, keepDaily: 3 }, archiveTier: { keepWithin: '7d', keepMonthly: 6 } }));
    const b = policyGuardedRules(parseRetentionPolicy({ archiveTier: { keepMonthly: 6, keepWithin: '7d' }, snapshotTier: { keepDaily: 3, keepLast: 2 } }));
    expect(canonicalRules(a)).toBe(canonicalRules(b));
    expect(sameTierRules(a.archive, b.archive)).toBe(true);
    expect(sameTierRules(a.archive, a.snapshot)).toBe(false);
  });

  it('read back to rules that plan the same', () => {
    const rules = policyGuardedRules(parseRetentionPolicy({ snapshotTier: { keepLast: 2 }, archiveTier: { keepDaily: 7 } }));
    const back = parseGuardedRules(canonicalRules(rules))!;
    expect(sameTierRules(back.archive, rules.archive)).toBe(true);
    expect(canonicalRules(back)).toBe(canonicalRules(rules));
  });

  it('keep everything without a policy, and unreadable text is no rules at all', () => {
    expect(policyGuardedRules(undefined)).toEqual(KEEP_EVERYTHING);
    expect(parseGuardedRules(canonicalRules({ archive: 'delete', snapshot: null }))).toEqual({ archive: 'delete', snapshot: null });
    expect(parseGuardedRules('not json')).toBeUndefined();
    expect(parseGuardedRules('{"archive":[1]}')).toBeUndefined();
    expect(parseGuardedRules('null')).toBeUndefined();
  });
});
