import { describe, expect, it } from 'vitest';
import { measureVolumeRates, RECENT_SNAPSHOTS, storedBytesOf, type ArchivedSnapshotStats } from './volume-rates.js';

const GIB = 1024 ** 3;
const DAY = 86_400_000;
const T0 = Date.parse('2026-11-01T02:00:00Z');

function snap(day: number, stats: Partial<ArchivedSnapshotStats['stats']>, parentDay?: number): ArchivedSnapshotStats {
  return {
    time: T0 + day * DAY,
    ...(parentDay !== undefined ? { parentTime: T0 + parentDay * DAY } : {}),
    sizeBytes: 100 * GIB,
    chunkSize: 4096,
    stats: { readBytes: 0, storedBytes: 0, holeChunks: 0, changedBlocksOnly: false, ...stats },
  };
}

describe('measureVolumeRates', () => {
  it('measures change per day, stored per read, and the written share', () => {
    // A full archive of a 100 GiB volume with 25 GiB of holes (6,553,600 chunks of 4 KiB) read
    // 75 GiB and stored 30; then incrementals: 2 GiB after 1 day, 6 GiB after 2 days.
    // Change: (2 + 6) GiB / (100 GiB x (1 + 2) days) = 2.667% a day. Stored: (30 + 1 + 3) / (75 + 2 + 6) = 34 / 83.
    const rates = measureVolumeRates([
      snap(0, { readBytes: 75 * GIB, storedBytes: 30 * GIB, holeChunks: (25 * GIB) / 4096 }),
      snap(1, { readBytes: 2 * GIB, storedBytes: 1 * GIB, changedBlocksOnly: true }, 0),
      snap(3, { readBytes: 6 * GIB, storedBytes: 3 * GIB, changedBlocksOnly: true }, 1),
    ]);
    expect(rates.dailyChangeRate).toBeCloseTo(8 / 300, 12);
    expect(rates.storedRatio).toBeCloseTo(34 / 83, 12);
    expect(rates.writtenShare).toBeCloseTo(0.75, 12);
  });

  it('leaves out what the snapshots cannot tell', () => {
    // Only full archives (image files have no changed-block tracking): no change rate.
    expect(measureVolumeRates([snap(0, { readBytes: 100 * GIB, storedBytes: 40 * GIB })])).toEqual({ storedRatio: 0.4, writtenShare: 1 });
    expect(measureVolumeRates([])).toEqual({});
  });

  it('looks at the newest snapshots only', () => {
    // Old history at 10% a day, the newest RECENT_SNAPSHOTS at 1%.
    const old = Array.from({ length: 20 }, (_, i) => snap(i + 1, { readBytes: 10 * GIB, storedBytes: 5 * GIB, changedBlocksOnly: true }, i));
    const recent = Array.from({ length: RECENT_SNAPSHOTS }, (_, i) =>
      snap(i + 21, { readBytes: 1 * GIB, storedBytes: 1 * GIB, changedBlocksOnly: true }, i + 20),
    );
    const rates = measureVolumeRates([...recent, ...old].reverse());
    expect(rates.dailyChangeRate).toBeCloseTo(0.01, 12);
    expect(rates.storedRatio).toBeCloseTo(1, 12);
    expect(storedBytesOf([...old, ...recent])).toBe(110 * GIB);
  });
});
