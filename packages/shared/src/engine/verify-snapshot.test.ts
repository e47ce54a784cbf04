import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, MemoryVolumeSource } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { DATA_PREFIX } from '../format/layout.js';
import { decodeEnvelope } from '../format/envelope.js';
import { decodePackList, packListKey } from '../format/pack-list.js';
import { collect } from '../content/map-limit.js';
import type { Clock } from '../ports/clock.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { archiveVolume } from './archive.js';
import { verifySnapshot } from './verify-snapshot.js';
import type { Repository } from './repository.js';
import { initRepository } from './repository-open.js';
import { makeVolume } from './test-volume.js';

const clock: Clock = { now: () => new Date('2026-03-01T00:00:00Z') };
const pool = (repo: Repository) => createInlineCodecPool(repo.keys);

async function archive(repo: Repository, seed: number, volumeId: string): Promise<SnapshotEntry> {
  const { id, snapshot } = await archiveVolume(repo, pool(repo), {
    volumeId,
    source: new MemoryVolumeSource(makeVolume(1024 * 1024, seed), { blockSize: 64 * 1024 }),
    clock,
    packSize: 64 * 1024,
    time: clock.now(),
  });
  return { id, snapshot };
}

async function listedPacks(store: MemoryBlobStore, repo: Repository, entry: SnapshotEntry): Promise<string[]> {
  const key = packListKey(entry.snapshot.packList!);
  return decodePackList(decodeEnvelope(await store.get(key), repo.keys.enc, key), key).map((p) => p.packId);
}

/** Flips one byte in the middle of a pack's first frame. */
async function damage(store: MemoryBlobStore, packId: string): Promise<void> {
  const key = `${DATA_PREFIX}${packId.slice(0, 2)}/${packId}`;
  const bytes = Buffer.from(await store.get(key));
  bytes[100]! ^= 0xff;
  await store.put(key, bytes);
}

describe('verify of one snapshot', () => {
  it('reads only the packs the snapshot needs and finds them sound', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    const a = await archive(repo, 1, 'vol-a');
    await archive(repo, 2, 'vol-b');
    const report = await verifySnapshot(repo, pool(repo), a);
    const all = (await collect(store.list(DATA_PREFIX))).length;
    expect(report.problems).toEqual([]);
    expect(report.snapshots).toBe(1);
    expect(report.packsRead).toBe((await listedPacks(store, repo, a)).length);
    expect(report.packsRead).toBeLessThan(all);
    expect(report.blobsChecked).toBeGreaterThan(0);
  });

  it("reports damage in its own packs with the blocks it affects, and ignores other volumes' packs", async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    const a = await archive(repo, 3, 'vol-a');
    const b = await archive(repo, 4, 'vol-b');
    const aPacks = new Set(await listedPacks(store, repo, a));
    const onlyB = (await listedPacks(store, repo, b)).filter((p) => !aPacks.has(p));
    await damage(store, onlyB[0]!);
    expect((await verifySnapshot(repo, pool(repo), a)).problems).toEqual([]);

    const report = await verifySnapshot(repo, pool(repo), b);
    expect(report.problems.length).toBeGreaterThan(0);
    const blob = report.problems.find((p) => p.kind === 'corrupt-blob');
    expect(blob?.object).toContain(onlyB[0]!);
    expect(blob?.affected[0]?.snapshotId).toBe(b.id);
    expect(blob?.affected[0]?.chunks.length).toBeGreaterThan(0);
  });
});
