import { describe, expect, it } from 'vitest';
import { drillOrder, pickSnapshot } from './drill-selection.js';

const now = new Date('2026-12-05T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();

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

describe('drillOrder', () => {
  it('puts volumes never drilled first, and every candidate exactly once', () => {
    for (let seed = 1; seed < 50; seed++) {
      const order = drillOrder([{ volumeId: 'a', lastDrillAt: daysAgo(1) }, { volumeId: 'b' }, { volumeId: 'c', lastDrillAt: daysAgo(2) }], now, seeded(seed));
      expect(order[0]).toBe('b');
      expect([...order].sort()).toEqual(['a', 'b', 'c']);
    }
  });

  it('weights volumes by the time since their last drill', () => {
    const random = seeded(7);
    const counts = { recent: 0, stale: 0 };
    for (let i = 0; i < 10_000; i++) {
      const first = drillOrder(
        [
          { volumeId: 'recent', lastDrillAt: daysAgo(1) },
          { volumeId: 'stale', lastDrillAt: daysAgo(9) },
        ],
        now,
        random,
      )[0] as 'recent' | 'stale';
      counts[first]++;
    }
    // Expected 9:1; the seeded draw lands within a few percent of it.
    expect(counts.stale / counts.recent).toBeGreaterThan(8);
    expect(counts.stale / counts.recent).toBeLessThan(10.5);
  });
});

describe('pickSnapshot', () => {
  it('spreads picks over every snapshot, and has none to give from an empty list', () => {
    const random = seeded(3);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(pickSnapshot(['s0', 's1', 's2', 's3', 's4'], random)!);
    expect(seen.size).toBe(5);
    expect(pickSnapshot([], random)).toBeUndefined();
  });
});
