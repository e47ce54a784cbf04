/**
 * The engine's archive over the real host index table (a FolderBlobStore repository, a temp
 * cache folder): dedup, pack lists, parents, adoption by maintenance, compaction and prune between archives,
 * and restores of snapshots whose pack lists prune made stale.
 * The engine's own tests cover the archive with the index loaded into memory.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  archiveVolume,
  compactIndex,
  createInlineCodecPool,
  initRepository,
  openRepository,
  planForget,
  pruneRepository,
  removeSnapshots,
  restoreSnapshot,
  verifyRepository,
  verifySnapshot,
  type Repository,
} from '@snapfleet/shared';
import { MemoryVolumeSource, MemoryVolumeTarget, sha256Hex, seededBytes } from '@snapfleet/shared/testing';

const bytes = (length: number, seed: number) => Buffer.from(seededBytes(length, seed));
import { FolderBlobStore } from '../../local/folder-blob-store.js';
import { HostIndexTable } from './host-index-table.js';

const T0 = new Date('2026-03-01T00:00:00Z');
const BLOCK = 64 * 1024;
const clock = { now: () => T0 };

describe('archive with the host index table', () => {
  let root: string;
  let warnings: string[];
  let table: HostIndexTable;
  let n = 0;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'snapfleet-archive-table-'));
    warnings = [];
    table = new HostIndexTable({ dir: join(root, 'cache'), onWarning: (m) => warnings.push(m) });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const open = () => openRepository(new FolderBlobStore(join(root, 'repo')), { password: 'pw', dedupCache: table });
  const archive = async (repo: Repository, data: Uint8Array, volumeId: string, sourceOptions = {}) => {
    const parent = (await repo.listVolumeSnapshots(volumeId)).at(-1);
    const source = new MemoryVolumeSource(data, { blockSize: BLOCK, ...sourceOptions });
    return archiveVolume(repo, createInlineCodecPool(repo.keys), {
      volumeId,
      source,
      time: new Date(T0.getTime() + ++n * 60_000),
      clock,
      ...(parent ? { parent } : {}),
    });
  };
  const restored = async (repo: Repository, id: string) => {
    const target = new MemoryVolumeTarget();
    await restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot: await repo.findSnapshot(id), target });
    return sha256Hex(target.data);
  };

  it('deduplicates across volumes and against the parent, and every snapshot restores from its pack list', async () => {
    await initRepository(new FolderBlobStore(join(root, 'repo')), { encrypted: true, password: 'pw' });
    const a = bytes(2 * 1024 * 1024, 1);
    const first = await archive(await open(), a, 'vol-a');
    expect(first.snapshot.stats.newBlobs).toBe(512); // data chunks (manifest nodes are not counted)

    // Another volume with the same content: nothing new, found through the table.
    const copy = await archive(await open(), a, 'vol-b');
    expect(copy.snapshot.stats.newBlobs).toBe(0);

    // An incremental of vol-a with a changed tail, read in full: only the changed chunks are new.
    const changed = Buffer.from(a);
    bytes(BLOCK, 2).copy(changed, changed.byteLength - BLOCK);
    const incr = await archive(await open(), changed, 'vol-a');
    expect(incr.snapshot.stats.newBlobs).toBe(16);
    // Chunks equal to the parent's at their place need no lookup: only the 16 changed ones and
    // the manifest's nodes are looked up, and the parent's pack list is taken over.
    expect(incr.parentPacksInherited).toBe(true);
    expect(incr.indexLookups).toBeGreaterThanOrEqual(16);
    expect(incr.indexLookups).toBeLessThanOrEqual(16 + 4);
    expect(first.indexLookups).toBeGreaterThanOrEqual(512);

    // An incremental from changed blocks: the parent's manifest is read through its pack list.
    const again = Buffer.from(changed);
    bytes(BLOCK, 3).copy(again, 0);
    const base = await archive(await open(), changed, 'vol-c', { sourceRef: 's1' });
    const cbt = await archive(await open(), again, 'vol-c', { sourceRef: 's2', changedSince: { s1: [0] } });
    expect(cbt.snapshot.stats.changedBlocksOnly).toBe(true);
    expect(cbt.snapshot.stats.readBytes).toBe(BLOCK);
    expect(cbt.indexLookups).toBeLessThanOrEqual(16 + 4);

    const repo = await open();
    for (const [r, data] of [
      [first, a],
      [copy, a],
      [incr, changed],
      [base, changed],
      [cbt, again],
    ] as const) {
      expect(await restored(repo, r.id)).toBe(sha256Hex(data));
      const report = await verifySnapshot(repo, createInlineCodecPool(repo.keys), await repo.findSnapshot(r.id));
      expect(report.problems, r.id).toEqual([]);
    }
    expect((await verifyRepository(repo, createInlineCodecPool(repo.keys))).problems).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('maintenance adopts a pack whose index object was never written; the next archive reuses it', async () => {
    const store = new FolderBlobStore(join(root, 'repo'));
    await initRepository(store, { encrypted: false });
    const data = bytes(1024 * 1024, 4);
    await archive(await open(), data, 'vol-o');
    // As if the archive died after storing its packs but before their indexes and its snapshot.
    for await (const o of store.list('index/')) await store.delete(o.key);
    for await (const o of store.list('snapshots/')) await store.delete(o.key);
    const packs = (await readdir(join(root, 'repo', 'data'), { recursive: true })).length;
    expect((await compactIndex(await open(), { clock })).adoptedPacks).toBeGreaterThan(0);
    const again = await archive(await open(), data, 'vol-o');
    expect(again.snapshot.stats.newBlobs).toBe(0);
    expect((await readdir(join(root, 'repo', 'data'), { recursive: true })).length).toBe(packs);
    expect(await restored(await open(), again.id)).toBe(sha256Hex(data));
  });

  it('restores and verifies snapshots whose listed packs prune repacked through the table, never loading the whole index', async () => {
    await initRepository(new FolderBlobStore(join(root, 'repo')), { encrypted: true, password: 'pw' });
    const volume = bytes(1024 * 1024, 7);
    const hashes = new Map<string, string>();
    for (let day = 0; day < 5; day++) {
      // Each day rewrites 24 of the 256 chunks, spread over the volume.
      if (day > 0) for (let c = 0; c < 24; c++) bytes(4096, 100 * day + c).copy(volume, ((c * 11 + day * 3) % 256) * 4096);
      const r = await archive(await open(), volume, 'vol');
      hashes.set(r.id, sha256Hex(volume));
    }
    let repo = await open();
    await removeSnapshots(
      repo,
      planForget(await repo.listSnapshots(), { keepLast: 2 }, new Date(T0.getTime() + 24 * 3600_000)).flatMap((p) => p.remove),
    );
    // Prune repacks the kept blobs out of mostly-dead packs and deletes those (no archive holds
    // a lease): the kept snapshots' pack lists now name deleted packs.
    const report = await pruneRepository(repo, createInlineCodecPool(repo.keys), { clock, repackBelow: 0.95 });
    expect(report.repackedPacks).toBeGreaterThan(0);
    expect(report.deletedPacks).toBeGreaterThan(0);
    // Prune gave both snapshots layout lists naming where their blobs are now; without them
    // (as a prune of an earlier release left the repository) their own lists are stale.
    expect(report.refreshedLists).toBe(2);
    const folder = new FolderBlobStore(join(root, 'repo'));
    for await (const o of folder.list('layouts/')) await folder.delete(o.key);

    repo = await open();
    const whole = vi.spyOn(repo, 'buildIndex');
    const kept = await repo.listSnapshots();
    expect(kept).toHaveLength(2);
    for (const entry of kept) {
      expect(await restored(repo, entry.id)).toBe(hashes.get(entry.id));
      expect((await verifySnapshot(repo, createInlineCodecPool(repo.keys), entry)).problems).toEqual([]);
    }
    expect(whole).not.toHaveBeenCalled();
    expect(warnings).toEqual([]);

    // Without a host table the same restores need the whole index: the lists really are stale.
    const plain = await openRepository(new FolderBlobStore(join(root, 'repo')), { password: 'pw' });
    const loaded = vi.spyOn(plain, 'buildIndex');
    for (const entry of kept) expect(await restored(plain, entry.id)).toBe(hashes.get(entry.id));
    expect(loaded).toHaveBeenCalled();
  });

  it('follows compaction and prune: blobs of deleted packs are stored again, the rest reused', async () => {
    await initRepository(new FolderBlobStore(join(root, 'repo')), { encrypted: true, password: 'pw' });
    const keep = bytes(1024 * 1024, 5);
    const drop = bytes(1024 * 1024, 6);
    await archive(await open(), keep, 'keep');
    const dropped = await archive(await open(), drop, 'drop');
    let repo = await open();
    await compactIndex(repo, { clock });
    // The table was built before compaction: its runs name objects compaction removed.
    expect((await archive(await open(), keep, 'keep-2')).snapshot.stats.newBlobs).toBe(0);

    repo = await open();
    await removeSnapshots(repo, [await repo.findSnapshot(dropped.id)]);
    // Prune condemns the dropped volume's packs; a second prune, past the grace, deletes them.
    const later = { now: () => new Date(T0.getTime() + 7 * 24 * 3600_000) };
    await pruneRepository(repo, createInlineCodecPool(repo.keys), { clock });
    await pruneRepository(await open(), createInlineCodecPool(repo.keys), { clock: later });
    const back = await archive(await open(), drop, 'drop');
    expect(back.snapshot.stats.newBlobs).toBe(256);
    repo = await open();
    expect(await restored(repo, back.id)).toBe(sha256Hex(drop));
    expect((await verifyRepository(repo, createInlineCodecPool(repo.keys))).problems).toEqual([]);
  });
});
