/**
 * Without the native addon (not built, or unloadable here) the engine must work the same through
 * node:crypto: this file hides the addon and runs archive, restore, verify and a corrupted
 * restore on the fallback paths.
 */
import { describe, expect, it, vi } from 'vitest';
import { MemoryBlobStore, MemoryVolumeSource, MemoryVolumeTarget, sha256Hex } from '../testing/index.js';
import { CorruptDataError } from '../errors.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { chunkHasher } from '../format/chunk-hasher.js';
import { DATA_PREFIX } from '../format/layout.js';
import { native, nativeError } from '../format/native.js';
import { collect } from '../content/map-limit.js';
import { archiveVolume } from './archive.js';
import { restoreSnapshot } from './restore.js';
import { verifyRepository } from './verify.js';
import type { Repository } from './repository.js';
import { initRepository } from './repository-open.js';
import { makeVolume, mutate } from './test-volume.js';

vi.mock('@snapfleet/native', () => ({ binding: undefined, loadError: 'hidden by this test' }));

const T0 = new Date('2026-01-05T10:00:00Z');
let archives = 0;

async function archive(repo: Repository, data: Uint8Array) {
  const source = new MemoryVolumeSource(data, { blockSize: 64 * 1024 });
  const parent = (await repo.listSnapshots()).at(-1);
  const time = new Date(T0.getTime() + archives++ * 3_600_000);
  return archiveVolume(repo, createInlineCodecPool(repo.keys), { volumeId: 'vol', source, time, clock: { now: () => T0 }, ...(parent ? { parent } : {}) });
}

async function restore(repo: Repository, ref: string): Promise<Uint8Array> {
  const target = new MemoryVolumeTarget();
  await restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot: await repo.findSnapshot(ref, 'vol'), target });
  return target.data;
}

describe('without the native addon', () => {
  it('runs on node:crypto', () => {
    expect(native).toBeUndefined();
    expect(nativeError).toBe('hidden by this test');
    expect(chunkHasher.kind).toBe('node:crypto');
  });

  it.each([true, false])('archives, restores and verifies byte-identical (encrypted: %s)', async (encrypted) => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted, password: 'pw' });
    const volume = makeVolume(3 * 1024 * 1024 + 1000, 7);
    const full = await archive(repo, volume);
    const fullHash = sha256Hex(volume);
    mutate(volume, 20, 3);
    await archive(repo, volume);
    expect(sha256Hex(await restore(repo, full.id))).toBe(fullHash);
    expect(sha256Hex(await restore(repo, 'latest'))).toBe(sha256Hex(volume));
    const report = await verifyRepository(repo, createInlineCodecPool(repo.keys));
    expect(report.problems).toEqual([]);
    expect(report.blobsChecked).toBeGreaterThan(0);
  });

  it('catches a flipped byte in a pack on restore', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    await archive(repo, makeVolume(1024 * 1024, 8));
    const [pack] = await collect(store.list(DATA_PREFIX));
    const bytes = await store.get(pack!.key);
    bytes[100]! ^= 1;
    await store.put(pack!.key, bytes);
    await expect(restore(repo, 'latest')).rejects.toBeInstanceOf(CorruptDataError);
  });
});
