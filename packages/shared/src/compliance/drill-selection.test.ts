import { describe, expect, it } from 'vitest';
import { pickDrills, type DrillCandidate } from './drill-selection.js';

const now = new Date('2026-12-05T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();
const snaps = (v: string, n: number) => Array.from({ length: n }, (_, i) => ({ id: `${v}-s${i}`, time: daysAgo(n - i) }));

/** A seeded generator (mulberry32): the same draws every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('pickDrills', () => {
  it('prefers volumes never drilled, and never picks a volume twice', () => {
    const candidates: DrillCandidate[] = [
      { volumeId: 'a', snapshots: snaps('a', 3), lastDrillAt: daysAgo(1) },
      { volumeId: 'b', snapshots: snaps('b', 3) },
      { volumeId: 'c', snapshots: [] },
    ];
    for (let seed = 1; seed < 50; seed++) {
      const picks = pickDrills(candidates, 5, now, seeded(seed));
      expect(picks.map((p) => p.volumeId)).toEqual(['b', 'a']); // c has nothing to restore
      for (const p of picks) expect(p.snapshotId.startsWith(`${p.volumeId}-s`)).toBe(true);
    }
  });

  it('weights volumes by the time since their last drill', () => {
    const candidates: DrillCandidate[] = [
      { volumeId: 'recent', snapshots: snaps('recent', 1), lastDrillAt: daysAgo(1) },
      { volumeId: 'stale', snapshots: snaps('stale', 1), lastDrillAt: daysAgo(9) },
    ];
    const random = seeded(7);
    const counts = { recent: 0, stale: 0 };
    for (let i = 0; i < 10_000; i++) counts[pickDrills(candidates, 1, now, random)[0]!.volumeId as 'recent' | 'stale']++;
    // Expected 9:1; the seeded draw lands within a few percent of it.
    expect(counts.stale / counts.recent).toBeGreaterThan(8);
    expect(counts.stale / counts.recent).toBeLessThan(10.5);
  });

  it('spreads picks over every snapshot of a volume', () => {
    const random = seeded(3);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(pickDrills([{ volumeId: 'a', snapshots: snaps('a', 5) }], 1, now, random)[0]!.snapshotId);
    expect(seen.size).toBe(5);
  });
});
