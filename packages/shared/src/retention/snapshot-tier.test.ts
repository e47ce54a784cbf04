import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRetentionRules } from './policy-schema.js';
import {
  HELD_ARCHIVE_RUNNING,
  HELD_ERROR,
  HELD_MAY_BE_ARCHIVED,
  HELD_NEXT_PARENT,
  HELD_PENDING,
  planSnapshotTier,
  type ArchiveProgress,
  type TierSnapshot,
} from './snapshot-tier.js';

const NOW = '2024-03-10T12:00:00Z';
const snap = (day: number, archive: ArchiveProgress = 'archived', state: TierSnapshot['state'] = 'completed'): TierSnapshot => ({
  id: `d${day}`,
  time: `2024-03-0${day}T02:00:00Z`,
  state,
  archive,
});
const ids = (list: readonly { id: string }[]) => list.map((s) => s.id);

describe('planSnapshotTier', () => {
  const keepLast2 = parseRetentionRules({ keepLast: 2 });

  it('deletes what the rules do not keep once it is archived or its archive finished', () => {
    const plan = planSnapshotTier([snap(1), snap(2, 'finished'), snap(3), snap(4), snap(5)], keepLast2, NOW, '2024-03-05T02:00:00Z');
    expect(ids(plan.keep.map((k) => k.snapshot))).toEqual(['d5', 'd4']);
    expect(plan.keep[0]!.reasons).toEqual(['last snapshot']);
    expect(ids(plan.remove)).toEqual(['d3', 'd2', 'd1']);
    expect(plan.held).toEqual([]);
  });

  it('never counts or deletes pending and failed snapshots', () => {
    const plan = planSnapshotTier([snap(1), snap(2), snap(3, 'running', 'error'), snap(4, 'running', 'pending')], keepLast2, NOW, '2024-03-02T02:00:00Z');
    // The two completed snapshots fill keepLast 2: the pending one does not push d1 out.
    expect(ids(plan.keep.map((k) => k.snapshot))).toEqual(['d2', 'd1']);
    expect(plan.remove).toEqual([]);
    expect(plan.held.map((h) => [h.snapshot.id, h.reason])).toEqual([
      ['d3', HELD_ERROR],
      ['d4', HELD_PENDING],
    ]);
  });

  it('holds a snapshot whose archive is still to run, whatever its age', () => {
    const plan = planSnapshotTier([snap(1, 'running'), snap(2), snap(3), snap(4)], keepLast2, NOW, '2024-03-04T02:00:00Z');
    expect(ids(plan.remove)).toEqual(['d2']);
    expect(plan.held.map((h) => [h.snapshot.id, h.reason])).toEqual([['d1', HELD_ARCHIVE_RUNNING]]);
  });

  it('without a known archive job, deletes only snapshots older than the newest archived one', () => {
    const list = [snap(1, 'unknown'), snap(2), snap(3, 'unknown'), snap(4, 'unknown'), snap(5, 'unknown')];
    const plan = planSnapshotTier(list, keepLast2, NOW, '2024-03-02T02:00:00Z');
    expect(ids(plan.keep.map((k) => k.snapshot))).toEqual(['d5', 'd4']);
    expect(ids(plan.remove)).toEqual(['d2', 'd1']);
    expect(plan.held.map((h) => [h.snapshot.id, h.reason])).toEqual([['d3', HELD_MAY_BE_ARCHIVED]]);
    // Nothing archived yet: no unknown snapshot may go.
    const none = planSnapshotTier(list, keepLast2, NOW);
    expect(ids(none.remove)).toEqual(['d2']);
    expect(ids(none.held.map((h) => h.snapshot))).toEqual(['d3', 'd1']);
  });

  it("never deletes the next archive's parent, whatever the rules and histories", () => {
    const plan = planSnapshotTier([snap(1), snap(2), snap(3), snap(4)], parseRetentionRules({ keepLast: 1 }), NOW, '2024-03-04T02:00:00Z', 'd2');
    expect(ids(plan.remove)).toEqual(['d3', 'd1']);
    expect(plan.held.map((h) => [h.snapshot.id, h.reason])).toEqual([['d2', HELD_NEXT_PARENT]]);
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<ArchiveProgress>('archived', 'finished', 'running', 'unknown'), { minLength: 1, maxLength: 9 }),
        fc.integer({ min: 0, max: 8 }),
        fc.record({ keepLast: fc.integer({ min: 1, max: 4 }), keepDaily: fc.integer({ min: 0, max: 3 }) }),
        (progress, parentIndex, rules) => {
          const list = progress.map((p, i) => snap(i + 1, p));
          const parent = list[parentIndex % list.length]!.id;
          const plan = planSnapshotTier(list, parseRetentionRules(rules), NOW, '2024-03-09T02:00:00Z', parent);
          expect(ids(plan.remove)).not.toContain(parent);
        },
      ),
    );
  });
});
