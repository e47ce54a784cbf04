import { describe, expect, it } from 'vitest';
import { NotRetrievedError } from '../errors.js';
import { ArchiveClassBlobStore, MemoryBlobStore, MemoryVolumeSource, MemoryVolumeTarget, sha256Hex } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { BlobType } from '../format/codec-ids.js';
import { DATA_PREFIX } from '../format/layout.js';
import { idFromKey } from '../format/layout.js';
import { collect } from '../content/map-limit.js';
import type { Clock } from '../ports/clock.js';
import { archiveVolume } from './archive.js';
import { restoreSnapshot } from './restore.js';
import { verifyRepository } from './verify.js';
import { removeSnapshots } from './forget.js';
import { pruneRepository } from './prune.js';
import { packsAwaitingRetrieval, retrieveSnapshotPacks } from './retrieval.js';
import type { Repository } from './repository.js';
import { initRepository } from './repository-open.js';
import { makeVolume, mutate } from './test-volume.js';

function manualClock(start: string): Clock & { advance(ms: number): void } {
  let t = new Date(start).getTime();
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

async function archive(repo: Repository, clock: Clock, volume: Buffer): Promise<string> {
  const parent = (await repo.listVolumeSnapshots('vol')).at(-1);
  const r = await archiveVolume(repo, createInlineCodecPool(repo.keys), {
    volumeId: 'vol',
    source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
    clock,
    time: clock.now(),
    ...(parent ? { parent } : {}),
  });
  return r.id;
}

async function restoreHash(repo: Repository, id: string): Promise<string> {
  const snapshot = (await repo.listSnapshots()).find((e) => e.id === id)!;
  const target = new MemoryVolumeTarget();
  await restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot, target });
  return sha256Hex(target.data);
}

describe('archive storage classes', () => {
  it('keeps manifests out of archived packs, and restores only after the retrieval it drives, in mocked time', async () => {
    const clock = manualClock('2026-07-01T00:00:00Z');
    const store = new ArchiveClassBlobStore(new MemoryBlobStore(), clock);
    const repo = await initRepository(store, { encrypted: true, password: 'pw', packStorageClass: 'GLACIER' });
    const volume = makeVolume(2 * 1024 * 1024, 51);
    const first = await archive(repo, clock, volume);
    const firstHash = sha256Hex(volume);

    // Data packs in GLACIER, manifest packs in the default class, never a map frame in GLACIER.
    const packs = (await collect(store.list(DATA_PREFIX))).map((o) => o.key);
    const glacier = packs.filter((k) => store.putOptions.get(k)?.storageClass === 'GLACIER');
    const standard = packs.filter((k) => store.putOptions.get(k)?.storageClass === undefined);
    expect(glacier.length).toBeGreaterThan(0);
    expect(standard.length).toBeGreaterThan(0);
    for (const key of glacier) expect((await repo.describePack(idFromKey(key)!))!.frames.every((f) => f.type === BlobType.Data)).toBe(true);
    for (const key of standard) expect((await repo.describePack(idFromKey(key)!))!.frames.every((f) => f.type === BlobType.Map)).toBe(true);

    // An incremental archive needs no retrieval: the parent's manifest is readable.
    clock.advance(24 * 3600_000);
    mutate(volume, 20, 52);
    const second = await archive(repo, clock, volume);
    expect(store.refusedReads).toBe(0);

    // A restore before the retrieval fails, naming the pack, and says how many await it.
    const entry = (await repo.listSnapshots()).find((e) => e.id === second)!;
    const awaiting = await packsAwaitingRetrieval(repo, entry);
    expect(awaiting.notReadable).toBeGreaterThan(0);
    await expect(restoreHash(repo, second)).rejects.toThrow(NotRetrievedError);

    // The retrieval: asked for once per archived pack, then polled as the mocked hours pass.
    const sleeps: number[] = [];
    const report = await retrieveSnapshotPacks(repo, entry, {
      days: 2,
      tier: 'Bulk',
      clock,
      sleep: async (ms) => void (sleeps.push(ms), clock.advance(ms)),
    });
    expect(report.requested).toBe(awaiting.notReadable);
    expect(store.requests.every((r) => r.days === 2 && r.tier === 'Bulk')).toBe(true);
    expect(new Set(store.requests.map((r) => r.key)).size).toBe(store.requests.length);
    expect(report.polls).toBe(sleeps.length);
    expect(report.waitedMs).toBeGreaterThanOrEqual(4 * 3600_000);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(5 * 60_000);
    expect(await restoreHash(repo, second)).toBe(sha256Hex(volume));

    // Prune, verify and forget never read an archived pack (the retrieved copies expired).
    clock.advance(3 * 24 * 3600_000);
    const refused = store.refusedReads;
    await removeSnapshots(repo, [(await repo.listSnapshots()).find((e) => e.id === first)!]);
    const pruned = await pruneRepository(repo, createInlineCodecPool(repo.keys), { clock });
    expect(pruned.repackedPacks).toBe(0);
    const verified = await verifyRepository(repo, createInlineCodecPool(repo.keys), { readDataFraction: 1 });
    expect(verified.problems).toEqual([]);
    expect(verified.packsArchived).toBeGreaterThan(0);
    expect(store.refusedReads).toBe(refused);
    expect(firstHash).not.toBe(sha256Hex(volume));
  });

  it('gives up after its timeout, and a later run goes on waiting for the same retrievals', async () => {
    const clock = manualClock('2026-07-01T00:00:00Z');
    const store = new ArchiveClassBlobStore(new MemoryBlobStore(), clock, 48 * 3600_000);
    const repo = await initRepository(store, { encrypted: true, password: 'pw', packStorageClass: 'DEEP_ARCHIVE' });
    const id = await archive(repo, clock, makeVolume(1024 * 1024, 53));
    const entry = (await repo.listSnapshots()).find((e) => e.id === id)!;
    await expect(
      retrieveSnapshotPacks(repo, entry, { days: 1, tier: 'Standard', clock, timeoutMs: 12 * 3600_000, sleep: async (ms) => clock.advance(ms) }),
    ).rejects.toThrow(/still being retrieved after 720 min/);
    const again = await retrieveSnapshotPacks(repo, entry, { days: 1, tier: 'Standard', clock, sleep: async (ms) => clock.advance(ms) });
    expect(again.requested).toBe(0); // still under way from the first run
    expect(await restoreHash(repo, id)).toBeDefined();
  });
});
