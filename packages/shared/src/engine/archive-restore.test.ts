import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, MemoryVolumeSource, MemoryVolumeTarget, sha256Hex } from '../testing/index.js';
import { CorruptDataError, NotFoundError, WrongPasswordError, InvalidInputError } from '../errors.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { DATA_PREFIX, INDEX_PREFIX } from '../format/layout.js';
import { collect } from '../content/map-limit.js';
import { archiveVolume } from './archive.js';
import { restoreSnapshot } from './restore.js';
import { verifyRepository } from './verify.js';
import { compactIndex } from './index-compaction.js';
import { pruneRepository } from './prune.js';
import type { Repository } from './repository.js';
import { initRepository, openRepository } from './repository-open.js';
import { makeVolume, mutate } from './test-volume.js';

const T0 = new Date('2026-01-05T10:00:00Z');
let archives = 0;
/** Each archive an hour after the previous one, so that "latest" is well defined. */
const nextTime = () => new Date(T0.getTime() + archives++ * 3_600_000);

async function restoreBytes(repo: Repository, ref = 'latest', volumeId?: string): Promise<Uint8Array> {
  const target = new MemoryVolumeTarget();
  const snapshot = await repo.findSnapshot(ref, volumeId);
  await restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot, target });
  return target.data;
}

async function archive(repo: Repository, data: Uint8Array, volumeId: string, extra: Partial<Parameters<typeof archiveVolume>[2]> = {}, sourceOptions = {}) {
  const source = new MemoryVolumeSource(data, { blockSize: 64 * 1024, ...sourceOptions });
  const parent = (await repo.listSnapshots()).filter((e) => e.snapshot.volumeId === volumeId).at(-1);
  const result = await archiveVolume(repo, createInlineCodecPool(repo.keys), {
    volumeId,
    source,
    time: nextTime(),
    clock: { now: () => T0 },
    ...(parent ? { parent } : {}),
    ...extra,
  });
  return { ...result, source };
}

describe.each([
  ['encrypted', true],
  ['unencrypted', false],
])('archive and restore, %s', (_name, encrypted) => {
  it('restores full and incremental snapshots byte-identical, and stores only new data', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted, password: 'pw' });
    // 6 MiB + a partial chunk: a two-level manifest and a short last chunk.
    const volume = makeVolume(6 * 1024 * 1024 + 1000, 1);
    const full = await archive(repo, volume, 'vol-a');
    expect(full.snapshot.stats.holeChunks).toBeGreaterThan(0);
    expect(full.snapshot.tree.height).toBe(2);
    const fullHash = sha256Hex(volume);

    const changed = mutate(volume, 20, 2);
    const incr = await archive(repo, volume, 'vol-a');
    expect(incr.snapshot.parent).toBe(full.id);
    expect(incr.snapshot.stats.newBlobs).toBeLessThanOrEqual(changed.length);
    expect(incr.snapshot.stats.newBlobs).toBeGreaterThan(0);

    const reopened = await openRepository(store, { password: 'pw' });
    expect(sha256Hex(await restoreBytes(reopened, full.id))).toBe(fullHash);
    expect(sha256Hex(await restoreBytes(reopened, 'latest', 'vol-a'))).toBe(sha256Hex(volume));
    const report = await verifyRepository(reopened, createInlineCodecPool(reopened.keys));
    expect(report.problems).toEqual([]);
    expect(report.packsRead).toBe(report.packsTotal);
    expect(report.blobsChecked).toBeGreaterThan(0);
  });
});

describe('archive', () => {
  it('reads only changed blocks when the source lists them against the parent', async () => {
    const repo = await initRepository(new MemoryBlobStore(), { encrypted: false });
    const volume = makeVolume(2 * 1024 * 1024, 3);
    await archive(repo, volume, 'vol-c', {}, { sourceRef: 'snap-1' });
    const changedChunks = mutate(volume, 5, 4);
    const changedBlocks = [...new Set(changedChunks.map((c) => Math.floor((c * 4096) / (64 * 1024))))];
    const incr = await archive(repo, volume, 'vol-c', {}, { sourceRef: 'snap-2', changedSince: { 'snap-1': changedBlocks } });
    expect(incr.source.reads).toBe(changedBlocks.length);
    expect(incr.snapshot.stats.changedBlocksOnly).toBe(true);
    expect(sha256Hex(await restoreBytes(repo))).toBe(sha256Hex(volume));
  });

  it('deduplicates identical blocks across volumes', async () => {
    const repo = await initRepository(new MemoryBlobStore(), { encrypted: true, password: 'pw' });
    const volume = makeVolume(1024 * 1024, 5);
    const a = await archive(repo, volume, 'vol-1');
    const b = await archive(repo, volume, 'vol-2');
    expect(a.snapshot.stats.newBlobs).toBeGreaterThan(0);
    expect(b.snapshot.stats.newBlobs).toBe(0);
    expect(b.snapshot.stats.storedBytes).toBe(0);
  });

  it('maintenance adopts a pack whose index object was never written; the next archive stores nothing twice', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    const volume = makeVolume(2 * 1024 * 1024, 6);
    await archive(repo, volume, 'vol-o');
    // As if the archive died after storing its packs but before their indexes (and snapshot).
    for (const o of await collect(store.list(INDEX_PREFIX))) await store.delete(o.key);
    for (const o of await collect(store.list('snapshots/'))) await store.delete(o.key);
    const packsBefore = (await collect(store.list(DATA_PREFIX))).length;
    // An archive's open does not list every pack, so the orphans are not its to find.
    const listed: string[] = [];
    const watched = Object.assign(Object.create(store) as MemoryBlobStore, {
      list: (prefix: string) => (listed.push(prefix), store.list(prefix)),
    });
    const report = await compactIndex(await openRepository(watched, { password: 'pw' }), { clock: { now: () => T0 } });
    expect(report.adoptedPacks).toBe(packsBefore);
    expect(listed).toContain(DATA_PREFIX);
    listed.length = 0;
    const again = await archive(await openRepository(watched, { password: 'pw' }), volume, 'vol-o');
    expect(listed).not.toContain(DATA_PREFIX);
    expect(again.snapshot.stats.newBlobs).toBe(0);
    expect((await collect(store.list(DATA_PREFIX))).length).toBe(packsBefore);
    expect(sha256Hex(await restoreBytes(await openRepository(store, { password: 'pw' })))).toBe(sha256Hex(volume));
  });

  it('prune adopts an orphan pack and collects it when no snapshot needs it', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    await archive(repo, makeVolume(1024 * 1024, 8), 'vol-p');
    for (const o of await collect(store.list(INDEX_PREFIX))) await store.delete(o.key);
    for (const o of await collect(store.list('snapshots/'))) await store.delete(o.key);
    const orphans = (await collect(store.list(DATA_PREFIX))).length;
    expect(orphans).toBeGreaterThan(0);
    const reopened = await openRepository(store, { password: 'pw' });
    const report = await pruneRepository(reopened, createInlineCodecPool(reopened.keys), { clock: { now: () => T0 } });
    expect(report.adoptedPacks).toBe(orphans);
    expect(report.deletedPacks).toBe(orphans);
    expect(await collect(store.list(DATA_PREFIX))).toEqual([]);
  });

  it('records an empty volume and restores it', async () => {
    const repo = await initRepository(new MemoryBlobStore(), { encrypted: false });
    await archive(repo, new Uint8Array(0), 'empty');
    expect((await restoreBytes(repo)).length).toBe(0);
  });
});

describe('repository', () => {
  it('rejects a wrong password with WrongPasswordError', async () => {
    const store = new MemoryBlobStore();
    await initRepository(store, { encrypted: true, password: 'right' });
    await expect(openRepository(store, { password: 'wrong' })).rejects.toBeInstanceOf(WrongPasswordError);
    await expect(openRepository(store, {})).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('reports a missing repository and refuses to init twice', async () => {
    const store = new MemoryBlobStore();
    await expect(openRepository(store)).rejects.toBeInstanceOf(NotFoundError);
    await initRepository(store, { encrypted: false });
    await expect(initRepository(store, { encrypted: false })).rejects.toThrow(/already exists/);
  });
});

describe('corruption', () => {
  it('a flipped byte in a pack is caught by restore and verify, naming snapshot and block', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    const volume = makeVolume(1024 * 1024, 7);
    const { id } = await archive(repo, volume, 'vol-x');
    const pack = (await collect(store.list(DATA_PREFIX)))[0]!;
    const bytes = Buffer.from(await store.get(pack.key));
    bytes[100] = bytes[100]! ^ 0x01;
    await store.put(pack.key, bytes);

    const reopened = await openRepository(store, { password: 'pw' });
    const err = await restoreBytes(reopened).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as CorruptDataError).message).toContain(`snapshot ${id} block `);
    expect((err as CorruptDataError).site.snapshotId).toBe(id);

    const report = await verifyRepository(reopened, createInlineCodecPool(reopened.keys));
    const blob = report.problems.find((p) => p.kind === 'corrupt-blob');
    expect(blob?.affected[0]?.snapshotId).toBe(id);
    expect(blob?.affected[0]?.chunks.length).toBeGreaterThan(0);
  });
});
