import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, MemoryVolumeSource, MemoryVolumeTarget } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import type { Clock } from '../ports/clock.js';
import { archiveVolume } from './archive.js';
import { drillSnapshot } from './drill.js';
import { checkVolumeAgainstSnapshot } from './volume-check.js';
import { initRepository } from './repository-open.js';
import { makeVolume } from './test-volume.js';

let t = Date.parse('2026-03-01T00:00:00Z');
const clock: Clock = { now: () => new Date((t += 250)) };
const SIZE = 1024 * 1024 + 3 * 4096; // not a whole number of 64 KiB blocks: the last one is short

async function archived() {
  const store = new MemoryBlobStore();
  const repo = await initRepository(store, { encrypted: true, password: 'pw' });
  const pool = createInlineCodecPool(repo.keys);
  const volume = makeVolume(SIZE, 11);
  const { id, snapshot } = await archiveVolume(repo, pool, {
    volumeId: 'vol-a',
    source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
    clock,
    packSize: 64 * 1024,
    time: clock.now(),
  });
  return { repo, pool, volume, entry: { id, snapshot } };
}

describe('checkVolumeAgainstSnapshot', () => {
  it('finds every chunk of a faithful copy, holes included, and each one that differs', async () => {
    const { repo, pool, volume, entry } = await archived();
    const source = (bytes: Buffer) => new MemoryVolumeSource(bytes, { blockSize: 64 * 1024 });
    expect(await checkVolumeAgainstSnapshot(repo, pool, entry, source(volume))).toEqual({ chunks: SIZE / 4096, mismatched: 0, bytesRead: SIZE });

    const copy = Buffer.from(volume);
    copy[5 * 4096 + 17]! ^= 1;
    copy[SIZE - 1]! ^= 1; // in the short last block
    expect(await checkVolumeAgainstSnapshot(repo, pool, entry, source(copy))).toMatchObject({ mismatched: 2, firstMismatchAt: 5 * 4096 });
    await expect(checkVolumeAgainstSnapshot(repo, pool, entry, source(volume.subarray(0, SIZE - 4096)))).rejects.toThrow(
      /holds 1056768 bytes but snapshot .* has 1060864/,
    );
  });
});

describe('drillSnapshot', () => {
  it('restores, reads back, and fails when what reached the target differs', async () => {
    const { repo, pool, entry } = await archived();
    const target = new MemoryVolumeTarget();
    const ok = await drillSnapshot(repo, pool, entry, {
      target,
      readBack: async () => new MemoryVolumeSource(Buffer.from(target.data), { blockSize: 64 * 1024 }),
      clock,
    });
    expect(ok).toMatchObject({ ok: true, snapshotId: entry.id, volumeId: 'vol-a', sizeBytes: SIZE, check: { mismatched: 0 } });
    expect(ok.restoreSeconds).toBeGreaterThan(0);

    // A target that loses a write: the restore reports success, the read-back does not.
    const lossy = new MemoryVolumeTarget();
    const bad = await drillSnapshot(repo, pool, entry, {
      target: lossy,
      readBack: async () => {
        const bytes = Buffer.from(lossy.data);
        bytes.fill(0, 8 * 4096, 9 * 4096);
        return new MemoryVolumeSource(bytes, { blockSize: 64 * 1024 });
      },
      clock,
    });
    expect(bad.ok).toBe(false);
    expect(bad.check).toMatchObject({ mismatched: 1, firstMismatchAt: 8 * 4096 });
  });
});
