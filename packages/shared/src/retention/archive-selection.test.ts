/** Archive selection, simulated the way the planner uses it: one decision per new snapshot, recorded in the history. */
import { describe, expect, it } from 'vitest';
import { type SelectionSnapshot, shouldArchive } from './archive-selection.js';
import type { ArchiveSelection } from './policy-schema.js';

const HOUR_MS = 3_600_000;

/** Takes `count` snapshots `everyHours` apart, deciding each against the history so far; returns the archived ids. */
function simulate(selection: ArchiveSelection, start: string, everyHours: number, count: number, zone = 'UTC', keepLast = Infinity): string[] {
  let history: SelectionSnapshot[] = [];
  const archived: string[] = [];
  for (let i = 0; i < count; i++) {
    const time = new Date(Date.parse(start) + i * everyHours * HOUR_MS).toISOString();
    const candidate = { id: `n${String(i).padStart(3, '0')}`, time };
    const { archive } = shouldArchive(history, candidate, selection, zone);
    if (archive) archived.push(candidate.id);
    history = [...history, { ...candidate, archived: archive }].slice(-keepLast);
  }
  return archived;
}

describe('shouldArchive', () => {
  it('every-snapshot archives everything', () => {
    expect(simulate({ mode: 'every-snapshot' }, '2024-01-01T00:00:00Z', 24, 3)).toEqual(['n000', 'n001', 'n002']);
  });

  it('every-nth archives the first and then every Nth snapshot', () => {
    expect(simulate({ mode: 'every-nth', n: 3 }, '2024-01-01T00:00:00Z', 24, 10)).toEqual(['n000', 'n003', 'n006', 'n009']);
    expect(simulate({ mode: 'every-nth', n: 1 }, '2024-01-01T00:00:00Z', 24, 3)).toEqual(['n000', 'n001', 'n002']);
  });

  it('every-nth keeps its rhythm while the snapshot tier still holds the last archived snapshot', () => {
    expect(simulate({ mode: 'every-nth', n: 3 }, '2024-01-01T00:00:00Z', 24, 10, 'UTC', 3)).toEqual(['n000', 'n003', 'n006', 'n009']);
  });

  it('every-nth archives rather than skips when the last archived snapshot was pruned from the snapshot tier', () => {
    // The tier keeps only 2 snapshots, fewer than n - 1: selection degrades to every 3rd, never to never.
    expect(simulate({ mode: 'every-nth', n: 5 }, '2024-01-01T00:00:00Z', 24, 9, 'UTC', 2)).toEqual(['n000', 'n003', 'n006']);
  });

  it('first-of-month archives the first snapshot of each month, in the policy zone', () => {
    const utc = simulate({ mode: 'first-of-month' }, '2024-01-30T22:30:00Z', 1, 6);
    expect(utc).toEqual(['n000']);
    // 2024-01-31T23:30Z is already February in Berlin.
    const s = (id: string, time: string, archived = false) => ({ id, time, archived });
    const history = [s('jan', '2024-01-31T12:00:00Z', true)];
    const candidate = { id: 'late', time: '2024-01-31T23:30:00Z' };
    expect(shouldArchive(history, candidate, { mode: 'first-of-month' }, 'UTC')).toEqual({
      archive: false,
      reason: 'first-of-month: jan already archived for 2024-01',
    });
    expect(shouldArchive(history, candidate, { mode: 'first-of-month' }, 'Europe/Berlin')).toEqual({
      archive: true,
      reason: 'first-of-month: first archived snapshot of 2024-02',
    });
  });

  it('first-of-month picks the next snapshot when the month has none selected yet', () => {
    const history = [{ id: 'a', time: '2024-03-01T00:00:00Z', archived: false }];
    expect(shouldArchive(history, { id: 'b', time: '2024-03-02T00:00:00Z' }, { mode: 'first-of-month' }).archive).toBe(true);
  });

  it('ignores the candidate itself and anything newer than it in the history', () => {
    const history = [
      { id: 'x', time: '2024-03-01T00:00:00Z', archived: false },
      { id: 'newer', time: '2024-03-05T00:00:00Z', archived: true },
    ];
    expect(shouldArchive(history, { id: 'x', time: '2024-03-01T00:00:00Z' }, { mode: 'first-of-month' }).archive).toBe(true);
    expect(shouldArchive(history, { id: 'y', time: '2024-03-02T00:00:00Z' }, { mode: 'every-nth', n: 2 })).toEqual({
      archive: true,
      reason: 'every-nth: no archived snapshot in the snapshot tier (n=2)',
    });
  });
});
