/**
 * Archive selection over the history the fleet rebuilds at every archive: the provider's snapshot
 * tier and the repository. The simulation runs one decision per slot, then thins the snapshot tier
 * the way snapshot-tier retention does (keep the newest `tierKeep`), so the decisions see a
 * history with deleted snapshots, as they do in production.
 */
import { describe, expect, it } from 'vitest';
import { shouldArchive } from './archive-selection.js';
import type { ArchiveSelection } from './policy-schema.js';
import { selectionHistory, type SlotEntry } from './selection-history.js';

const DAY_MS = 86_400_000;

function simulate(selection: ArchiveSelection, slots: number, tierKeep: number, start = '2024-01-01T02:00:00Z'): number[] {
  let tier: SlotEntry[] = [];
  const archived: SlotEntry[] = [];
  const out: number[] = [];
  for (let i = 0; i < slots; i++) {
    const slot = { id: `s${String(i).padStart(3, '0')}`, time: new Date(Date.parse(start) + i * DAY_MS).toISOString() };
    tier = [...tier, slot];
    if (shouldArchive(selectionHistory(tier, archived, selection), slot, selection).archive) {
      archived.push(slot);
      out.push(i);
    }
    tier = tier.slice(-tierKeep);
  }
  return out;
}

describe('selectionHistory', () => {
  it('keys both lists by slot: a slot in both is one archived entry', () => {
    const tier = [
      { id: 'a', time: '2024-01-01T00:00:00Z' },
      { id: 'b', time: '2024-01-02T00:00:00Z' },
    ];
    const archived = [
      { id: 'a', time: '2024-01-01T00:00:00Z' },
      { id: 'old', time: '2023-12-01T00:00:00Z' },
    ];
    expect(selectionHistory(tier, archived, { mode: 'first-of-month' })).toEqual([
      { id: 'a', time: '2024-01-01T00:00:00Z', archived: true },
      { id: 'b', time: '2024-01-02T00:00:00Z', archived: false },
      { id: 'old', time: '2023-12-01T00:00:00Z', archived: true },
    ]);
    // every-nth counts only the gap-free snapshot tier.
    expect(selectionHistory(tier, archived, { mode: 'every-nth', n: 2 }).map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('every-nth keeps its rhythm while the snapshot tier holds n-1 snapshots', () => {
    expect(simulate({ mode: 'every-nth', n: 3 }, 10, 3)).toEqual([0, 3, 6, 9]);
  });

  it('every-nth archives more often, never less, when the tier is thinner than n-1', () => {
    // Counting from archived snapshots the tier already dropped would see 2 unarchived snapshots
    // since the last archived one forever and never archive again; the tier alone archives every 3rd.
    expect(simulate({ mode: 'every-nth', n: 5 }, 10, 2)).toEqual([0, 3, 6, 9]);
  });

  it('every-nth without a snapshot tier (a provider that keeps none) archives every slot', () => {
    const archived = [{ id: 's0', time: '2024-01-01T00:00:00Z' }];
    const decision = shouldArchive(
      selectionHistory([], archived, { mode: 'every-nth', n: 4 }),
      { id: 's1', time: '2024-01-02T00:00:00Z' },
      { mode: 'every-nth', n: 4 },
    );
    expect(decision).toEqual({ archive: true, reason: 'every-nth: no archived snapshot in the snapshot tier (n=4)' });
  });

  it("first-of-month finds the month's archived snapshot in the repository after the tier dropped it", () => {
    // Daily slots from Jan 30; the tier keeps one snapshot, yet only Jan 30 and Feb 1 are archived.
    expect(simulate({ mode: 'first-of-month' }, 5, 1, '2024-01-30T02:00:00Z')).toEqual([0, 2]);
    const archived = [{ id: 'jan', time: '2024-01-03T00:00:00Z' }];
    expect(
      shouldArchive(selectionHistory([], archived, { mode: 'first-of-month' }), { id: 'x', time: '2024-01-20T00:00:00Z' }, { mode: 'first-of-month' }),
    ).toEqual({
      archive: false,
      reason: 'first-of-month: jan already archived for 2024-01',
    });
  });
});
