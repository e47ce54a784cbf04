import { describe, expect, it } from 'vitest';
import { FaultyBlobStore, MemoryBlobStore, MemoryVolumeSource } from '../testing/index.js';
import { ThrottledError, TransientError } from '../errors.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { DATA_PREFIX, SNAPSHOTS_PREFIX } from '../format/layout.js';
import { archiveVolume } from './archive.js';
import { verifyRepository } from './verify.js';
import { initRepository, openRepository } from './repository-open.js';
import { makeVolume } from './test-volume.js';

const clock = { now: () => new Date('2026-03-01T00:00:00Z') };

async function repositoryWithOneSnapshot(): Promise<MemoryBlobStore> {
  const store = new MemoryBlobStore();
  const repo = await initRepository(store, { encrypted: true, password: 'pw' });
  const source = new MemoryVolumeSource(makeVolume(1024 * 1024, 3), { blockSize: 64 * 1024 });
  await archiveVolume(repo, createInlineCodecPool(repo.keys), { volumeId: 'vol', source, clock, packSize: 64 * 1024, time: clock.now() });
  return store;
}

describe('verify when the store cannot be read just now', () => {
  // A store that still fails after its own retries says nothing about the data: verify must fail
  // with that error (the CLI's exit 1) rather than report a damaged snapshot or manifest (exit 3).
  it('fails with the transient error of a snapshot object read instead of reporting it damaged', async () => {
    const faulty = new FaultyBlobStore(await repositoryWithOneSnapshot());
    const repo = await openRepository(faulty, { password: 'pw' });
    faulty.addRule({ op: 'get', keyPrefix: SNAPSHOTS_PREFIX, times: 1 });
    await expect(verifyRepository(repo, createInlineCodecPool(repo.keys))).rejects.toBeInstanceOf(TransientError);
    expect(faulty.injected).toBe(1);
  });

  it('fails with the throttling error of a manifest read instead of reporting a corrupt manifest', async () => {
    const faulty = new FaultyBlobStore(await repositoryWithOneSnapshot());
    const repo = await openRepository(faulty, { password: 'pw' });
    faulty.addRule({ op: 'get', keyPrefix: DATA_PREFIX, times: 1, error: (_op, key) => new ThrottledError(`SlowDown reading ${key}`) });
    await expect(verifyRepository(repo, createInlineCodecPool(repo.keys))).rejects.toBeInstanceOf(ThrottledError);
    expect(faulty.injected).toBe(1);
  });

  it('reports nothing once the store reads again', async () => {
    const faulty = new FaultyBlobStore(await repositoryWithOneSnapshot());
    const repo = await openRepository(faulty, { password: 'pw' });
    const report = await verifyRepository(repo, createInlineCodecPool(repo.keys));
    expect(report.problems).toEqual([]);
    expect(report.packsRead).toBe(report.packsTotal);
  });
});
