/**
 * verify and the repairs beside an archive that finishes at the worst moment: between the
 * listings they take of snapshots, index objects and packs. Each case makes the archive land in
 * one such gap (the store runs it when a listing of a prefix starts or ends) and checks that
 * its snapshot is neither reported damaged nor rewritten, and that its packs stay indexed.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { DATA_PREFIX, SNAPSHOTS_PREFIX } from '../format/layout.js';
import type { ObjectInfo } from '../ports/blob-store.js';
import { MemoryBlobStore } from '../testing/memory-blob-store.js';
import { MemoryVolumeSource } from '../testing/memory-volume-source.js';
import { MemoryVolumeTarget } from '../testing/memory-volume-target.js';
import { seededBytes } from '../testing/test-data.js';
import { archiveVolume } from './archive.js';
import { repairIndex } from './repair-index.js';
import { repairSnapshots } from './repair-snapshots.js';
import type { Repository } from './repository.js';
import { initRepository, openRepository } from './repository-open.js';
import { restoreSnapshot } from './restore.js';
import { testClock } from './test-snapshots.js';
import { verifyRepository } from './verify.js';

/** A store that runs `hook` once, when a listing of `prefix` starts (`at: 'start'`) or has ended. */
class HookedStore extends MemoryBlobStore {
  private armed?: { prefix: string; at: 'start' | 'end'; hook: () => Promise<void> };

  arm(prefix: string, at: 'start' | 'end', hook: () => Promise<void>): void {
    this.armed = { prefix, at, hook };
  }

  override async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const armed = this.armed?.prefix === prefix ? this.armed : undefined;
    if (armed) this.armed = undefined; // the hook's own listings pass straight through
    if (armed?.at === 'start') await armed.hook();
    yield* super.list(prefix);
    if (armed?.at === 'end') await armed.hook();
  }
}

const VOLUME_BYTES = 512 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A repository with one archive of vol-a, and a second volume whose archive the hook runs. */
async function fixture() {
  const store = new HookedStore();
  const repo = await initRepository(store, { encrypted: true, password: 'pw' });
  await archiveOf(repo, 'vol-a', 1);
  const other = await openRepository(store, { password: 'pw' });
  const late = { id: '', sha256: '' };
  const archiveLate = async () => {
    const r = await archiveOf(other, 'vol-late', 2);
    Object.assign(late, r);
  };
  return { store, repo, late, archiveLate };
}

async function archiveOf(repo: Repository, volumeId: string, seed: number): Promise<{ id: string; sha256: string }> {
  const volume = seededBytes(VOLUME_BYTES, seed);
  const { id } = await archiveVolume(repo, createInlineCodecPool(repo.keys), {
    volumeId,
    source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
    clock: testClock,
    packSize: 128 * 1024,
    time: testClock.now(),
  });
  return { id, sha256: sha(volume) };
}

async function restoredSha(repo: Repository, id: string): Promise<string> {
  const target = new MemoryVolumeTarget();
  await restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot: { id, key: '', snapshot: await repo.loadSnapshot(id) }, target });
  return sha(target.data);
}

async function expectClean(store: MemoryBlobStore): Promise<void> {
  const repo = await openRepository(store, { password: 'pw' });
  const report = await verifyRepository(repo, createInlineCodecPool(repo.keys));
  expect(report.problems).toEqual([]);
}

describe('beside an archive that lands between listings', () => {
  it.each([
    ['an archive saved just before the snapshot listing is not missing blobs', SNAPSHOTS_PREFIX, 'start'],
    ['packs stored just after the pack listing are not missing', DATA_PREFIX, 'end'],
  ] as const)('verify: %s', async (_name, prefix, at) => {
    const f = await fixture();
    f.store.arm(prefix, at, f.archiveLate);
    const report = await verifyRepository(f.repo, createInlineCodecPool(f.repo.keys), { recordAt: testClock.now() });
    expect(f.late.id).not.toBe('');
    expect(report.problems).toEqual([]);
    expect(report.summary?.recordedPacks).toBe(0);
  });

  it('repair index: packs stored just after its pack listing keep their index entries', async () => {
    const f = await fixture();
    f.store.arm(DATA_PREFIX, 'end', f.archiveLate);
    const report = await repairIndex(f.repo, { clock: testClock });
    expect(f.late.id).not.toBe('');
    expect(report.droppedPacks).toEqual([]);
    await expectClean(f.store);
    expect(await restoredSha(await openRepository(f.store, { password: 'pw' }), f.late.id)).toBe(f.late.sha256);
  });

  it('repair snapshots --forget: an archive saved just before the snapshot listing is left alone', async () => {
    const f = await fixture();
    f.store.arm(SNAPSHOTS_PREFIX, 'start', f.archiveLate);
    const report = await repairSnapshots(f.repo, createInlineCodecPool(f.repo.keys), { clock: testClock, forget: true });
    expect(f.late.id).not.toBe('');
    expect(report.repaired).toEqual([]);
    expect((await f.repo.listSnapshots()).map((e) => e.id)).toContain(f.late.id);
    expect(await restoredSha(f.repo, f.late.id)).toBe(f.late.sha256);
  });
});
