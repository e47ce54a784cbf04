/**
 * Properties every retention result must have, whatever the snapshots and the policy: a partition
 * of the input, pins and the newest snapshot survive, more generous rules never remove more, the
 * result is a fixed point, and input order does not matter.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyPolicy } from './apply-policy.js';
import type { Duration } from './durations.js';
import { COUNT_FIELDS, type RetentionRules, WITHIN_FIELDS } from './rules-schema.js';
import type { RetentionSnapshot } from './snapshot-order.js';

const START = Date.parse('2019-12-20T00:00:00Z');
const MINUTE = 60_000;
/** Two years of minutes: dense enough for many snapshots per hour/day, sparse enough for gaps. */
const SPAN_MINUTES = 2 * 366 * 24 * 60;

interface Snap extends RetentionSnapshot {
  time: string;
}

const snapshotsArb = fc
  .array(
    fc.record({
      // Cluster half of the snapshots into one week so buckets hold several snapshots.
      minute: fc.oneof(fc.integer({ min: 0, max: SPAN_MINUTES }), fc.integer({ min: SPAN_MINUTES - 7 * 24 * 60, max: SPAN_MINUTES })),
      tags: fc.subarray(['a', 'b', 'c']),
      pinned: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((rows) =>
    rows.map((r, i): Snap => ({
      id: `s${String(i).padStart(2, '0')}`,
      time: new Date(START + r.minute * MINUTE).toISOString(),
      tags: r.tags,
      pinned: r.pinned,
    })),
  );

const countArb = fc.option(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constant(-1)), { nil: undefined });
const durationArb: fc.Arbitrary<Duration | undefined> = fc.option(
  fc.record({
    years: fc.integer({ min: 0, max: 1 }),
    months: fc.integer({ min: 0, max: 8 }),
    days: fc.integer({ min: 0, max: 40 }),
    hours: fc.integer({ min: 0, max: 72 }),
  }),
  { nil: undefined },
);

const rulesArb: fc.Arbitrary<RetentionRules> = fc.record({
  keepLast: countArb,
  keepHourly: countArb,
  keepDaily: countArb,
  keepWeekly: countArb,
  keepMonthly: countArb,
  keepYearly: countArb,
  keepWithin: durationArb,
  keepWithinHourly: durationArb,
  keepWithinDaily: durationArb,
  keepWithinWeekly: durationArb,
  keepWithinMonthly: durationArb,
  keepWithinYearly: durationArb,
  keepTags: fc.option(fc.subarray([['a'], ['b', 'c']]), { nil: undefined }),
  timeZone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'),
});

/** `now` from two days before the newest snapshot (some are future-dated) to a month after. */
function nowFor(snapshots: Snap[], offsetMinutes: number): string {
  const newest = Math.max(...snapshots.map((s) => Date.parse(s.time)));
  return new Date(newest + offsetMinutes * MINUTE).toISOString();
}
const offsetArb = fc.integer({ min: -2 * 24 * 60, max: 30 * 24 * 60 });

const keptIds = (snapshots: Snap[], rules: RetentionRules, now: string) => new Set(applyPolicy(snapshots, rules, now).keep.map((k) => k.snapshot.id));

const hasCountOrWithin = (r: RetentionRules) =>
  COUNT_FIELDS.some((f) => (r[f] ?? 0) !== 0) ||
  WITHIN_FIELDS.some((f) => {
    const d = r[f];
    return d !== undefined && d.years + d.months + d.days + d.hours > 0;
  });

const RUNS = { numRuns: 300 };

describe('applyPolicy properties', () => {
  it('keep and remove partition the input; every kept snapshot has a reason', () => {
    fc.assert(
      fc.property(snapshotsArb, rulesArb, offsetArb, (snapshots, rules, offset) => {
        const r = applyPolicy(snapshots, rules, nowFor(snapshots, offset));
        const ids = [...r.keep.map((k) => k.snapshot.id), ...r.remove.map((x) => x.snapshot.id)];
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.sort()).toEqual(snapshots.map((s) => s.id).sort());
        for (const k of r.keep) expect(k.reasons.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('never removes a pinned snapshot, nor the newest when a count or keepWithin* rule is set', () => {
    fc.assert(
      fc.property(snapshotsArb, rulesArb, offsetArb, (snapshots, rules, offset) => {
        const r = applyPolicy(snapshots, rules, nowFor(snapshots, offset));
        const removed = r.remove.map((x) => x.snapshot);
        expect(removed.filter((s) => s.pinned)).toEqual([]);
        if (hasCountOrWithin(rules)) {
          const newestTime = Math.max(...snapshots.map((s) => Date.parse(s.time)));
          // Among equal newest times the order is by id: the smallest id is "the newest".
          const newest = snapshots
            .filter((s) => Date.parse(s.time) === newestTime)
            .map((s) => s.id)
            .sort()[0];
          expect(removed.map((s) => s.id)).not.toContain(newest);
        }
      }),
      RUNS,
    );
  });

  it('is monotone: raising a count (or making it unlimited) or lengthening a duration never removes more', () => {
    const bumpArb = fc.oneof(
      fc.record({
        kind: fc.constant('count' as const),
        field: fc.constantFrom(...COUNT_FIELDS),
        by: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(Infinity)),
      }),
      fc.record({ kind: fc.constant('within' as const), field: fc.constantFrom(...WITHIN_FIELDS), days: fc.integer({ min: 1, max: 60 }) }),
    );
    fc.assert(
      fc.property(snapshotsArb, rulesArb, offsetArb, bumpArb, (snapshots, rules, offset, bump) => {
        // An all-zero policy keeps everything ("no policy"); growing it from there is not monotone by design.
        fc.pre(hasCountOrWithin(rules) || (rules.keepTags ?? []).length > 0);
        const now = nowFor(snapshots, offset);
        const bigger: RetentionRules = { ...rules };
        if (bump.kind === 'count') {
          const n = rules[bump.field] ?? 0;
          bigger[bump.field] = n === -1 || bump.by === Infinity ? -1 : n + bump.by;
        } else {
          const d = rules[bump.field] ?? { years: 0, months: 0, days: 0, hours: 0 };
          bigger[bump.field] = { ...d, days: d.days + bump.days };
        }
        const before = keptIds(snapshots, rules, now);
        const after = keptIds(snapshots, bigger, now);
        for (const id of before) expect(after.has(id)).toBe(true);
      }),
      RUNS,
    );
  });

  it('is idempotent: applying the policy to its own keep set removes nothing', () => {
    fc.assert(
      fc.property(snapshotsArb, rulesArb, offsetArb, (snapshots, rules, offset) => {
        const now = nowFor(snapshots, offset);
        const kept = applyPolicy(snapshots, rules, now).keep.map((k) => k.snapshot);
        expect(applyPolicy(kept, rules, now).remove).toEqual([]);
      }),
      RUNS,
    );
  });

  it('does not depend on input order', () => {
    const withShuffle = snapshotsArb.chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray(s, { minLength: s.length, maxLength: s.length })));
    fc.assert(
      fc.property(withShuffle, rulesArb, offsetArb, ([snapshots, shuffled], rules, offset) => {
        const now = nowFor(snapshots, offset);
        expect(applyPolicy(shuffled, rules, now)).toEqual(applyPolicy(snapshots, rules, now));
      }),
      RUNS,
    );
  });
});
