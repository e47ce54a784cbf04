/**
 * Snapshot objects under per-volume keys (format 2) and flat ones (format 1): what is written,
 * what listing one volume reads, and a repository holding both forms (docs/format.md, "Snapshot").
 */
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, RecordingBlobStore } from '../testing/index.js';
import { NotFoundError } from '../errors.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { CONFIG_KEY, KEYS_PREFIX, SNAPSHOTS_PREFIX, parseSnapshotKey, snapshotKey, volumeSnapshotsPrefix } from '../format/layout.js';
import { parseConfig } from '../format/repo-config.js';
import { collect } from '../content/map-limit.js';
import type { BlobStore } from '../ports/blob-store.js';
import { removeSnapshots } from './forget.js';
import { pruneRepository } from './prune.js';
import { verifyRepository } from './verify.js';
import { initRepository, openRepository } from './repository-open.js';
import { archiveVolumes, expectedHashes, restoreAll, rewriteAsFormat1, snapshotKeys, testClock } from './test-snapshots.js';

const VOLUMES = ['vol-a', 'vol-b', 'vol-c'];

describe('format 2: snapshots under per-volume keys', () => {
  it('stores each snapshot at snapshots/<volume key>/<id>', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    expect(parseConfig(await store.get(CONFIG_KEY)).version).toBe(2);
    const archived = await archiveVolumes(repo, VOLUMES, 2);
    const { flat, perVolume } = await snapshotKeys(store);
    expect(flat).toEqual([]);
    expect(perVolume).toEqual([...archived].map(([id, a]) => snapshotKey(id, repo.volumeKey(a.volumeId))).sort());
    // The key file keeps its own version 1, so key files of format-1 repositories still open.
    const [keyFile] = await collect(store.list(KEYS_PREFIX));
    expect(JSON.parse(Buffer.from(await store.get(keyFile!.key)).toString()).version).toBe(1);
  });

  it("lists one volume by reading only that volume's snapshot objects", async () => {
    const inner = new MemoryBlobStore();
    const archived = await archiveVolumes(await initRepository(inner, { encrypted: true, password: 'pw' }), VOLUMES, 3);
    const store = new RecordingBlobStore(inner);
    const repo = await openRepository(store, { password: 'pw' });
    const own = [...archived].filter(([, a]) => a.volumeId === 'vol-b').map(([id]) => snapshotKey(id, repo.volumeKey('vol-b')));

    store.clear();
    const entries = await repo.listVolumeSnapshots('vol-b');
    expect(entries.map((e) => e.id).sort()).toEqual(
      [...archived]
        .filter(([, a]) => a.volumeId === 'vol-b')
        .map(([id]) => id)
        .sort(),
    );
    expect(store.keys('list')).toEqual([volumeSnapshotsPrefix(repo.volumeKey('vol-b'))]);
    expect(store.keys('get', SNAPSHOTS_PREFIX).sort()).toEqual(own.sort());

    store.clear();
    const latest = await repo.findSnapshot('latest', 'vol-b');
    expect(latest.id).toBe(entries.at(-1)!.id);
    expect(store.keys('get', SNAPSHOTS_PREFIX)).toHaveLength(3);

    store.clear();
    expect((await repo.loadSnapshot(latest.id, 'vol-b')).volumeId).toBe('vol-b');
    expect(store.calls).toEqual([{ op: 'get', key: snapshotKey(latest.id, repo.volumeKey('vol-b')) }]);

    // Whole-repository listings still read everything.
    store.clear();
    expect(await repo.listSnapshots()).toHaveLength(9);
    expect(store.keys('get', SNAPSHOTS_PREFIX)).toHaveLength(9);
    expect(await repo.listVolumeSnapshots('vol-unknown')).toEqual([]);
  });

  it('finds a snapshot by id or prefix reading only the objects whose ids match', async () => {
    const inner = new MemoryBlobStore();
    const archived = await archiveVolumes(await initRepository(inner, { encrypted: true, password: 'pw' }), VOLUMES, 3);
    const store = new RecordingBlobStore(inner);
    const repo = await openRepository(store, { password: 'pw' });
    const ids = [...archived.keys()];
    const target = ids[4]!;
    const key = snapshotKey(target, repo.volumeKey(archived.get(target)!.volumeId));

    for (const ref of [target, target.slice(0, 12)]) {
      store.clear();
      expect((await repo.findSnapshot(ref)).id).toBe(target);
      expect(store.keys('get', SNAPSHOTS_PREFIX)).toEqual([key]);
      store.clear();
      expect((await repo.findSnapshot(ref, archived.get(target)!.volumeId)).id).toBe(target);
      expect(store.keys('get', SNAPSHOTS_PREFIX)).toEqual([key]);
    }

    // Of another volume: not found, and that volume's object is never read.
    const other = VOLUMES.find((v) => v !== archived.get(target)!.volumeId)!;
    store.clear();
    await expect(repo.findSnapshot(target, other)).rejects.toThrow(NotFoundError);
    expect(store.keys('get', SNAPSHOTS_PREFIX)).toEqual([]);

    // A prefix every id shares is ambiguous, and says how many it matched.
    await expect(repo.findSnapshot('')).rejects.toThrow(/ambiguous \(9 matches\)/);
  });

  it('forget deletes the object under its per-volume key', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    await archiveVolumes(repo, VOLUMES, 2);
    const [first] = await repo.listVolumeSnapshots('vol-a');
    await removeSnapshots(repo, [first!]);
    expect((await snapshotKeys(store)).perVolume).not.toContain(snapshotKey(first!.id, repo.volumeKey('vol-a')));
    expect(await repo.listSnapshots()).toHaveLength(5);
  });
});

describe('format 1: flat snapshot keys, as snapfleet wrote them before format 2', () => {
  it('init --format-version 1 writes what format 1 readers expect', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw', formatVersion: 1 });
    const archived = await archiveVolumes(repo, VOLUMES, 2);
    expect(parseConfig(await store.get(CONFIG_KEY)).version).toBe(1);
    const { flat, perVolume } = await snapshotKeys(store);
    expect(perVolume).toEqual([]);
    expect(flat).toEqual([...archived.keys()].map((id) => snapshotKey(id)).sort());
    // Envelopes keep version byte 1: a format-1 reader rejects anything newer.
    for (const o of await collect(store.list('')))
      if (!o.key.startsWith(KEYS_PREFIX) && o.key !== CONFIG_KEY && !o.key.startsWith('data/')) expect((await store.get(o.key))[0], o.key).toBe(1);
    await expect(initRepository(new MemoryBlobStore(), { encrypted: false, formatVersion: 3 })).rejects.toThrow(/format version 3/);
  });

  it.each([
    ['made by init --format-version 1', true],
    ['rewritten into the flat layout', false],
  ])('is fully usable (%s): archive, list, restore, verify, forget, prune', async (_how, viaInit) => {
    const store = new MemoryBlobStore();
    const seed = await initRepository(store, { encrypted: true, password: 'pw', ...(viaInit ? { formatVersion: 1 } : {}) });
    const archived = await archiveVolumes(seed, VOLUMES, 2);
    if (!viaInit) await rewriteAsFormat1(store);

    const repo = await openRepository(store, { password: 'pw' });
    expect(repo.formatVersion).toBe(1);
    await archiveVolumes(repo, ['vol-a'], 1, archived); // incremental on vol-a's latest, found through the flat keys
    const a = await repo.listVolumeSnapshots('vol-a');
    expect(a.map((e) => e.snapshot.volumeId)).toEqual(['vol-a', 'vol-a', 'vol-a']);
    expect(a.at(-1)!.snapshot.parent).toBe(a[1]!.id);
    expect((await snapshotKeys(store)).perVolume).toEqual([]);
    expect(await restoreAll(repo)).toEqual(expectedHashes(archived));
    expect((await verifyRepository(repo, createInlineCodecPool(repo.keys))).problems).toEqual([]);
    expect((await repo.loadSnapshot(a[0]!.id)).volumeId).toBe('vol-a');
    expect((await repo.loadSnapshot(a[0]!.id, 'vol-a')).volumeId).toBe('vol-a');

    await removeSnapshots(repo, [a[0]!]);
    archived.delete(a[0]!.id);
    expect(await store.stat(snapshotKey(a[0]!.id))).toBeUndefined();
    const report = await pruneRepository(await openRepository(store, { password: 'pw' }), createInlineCodecPool(repo.keys), { clock: testClock });
    expect(report.snapshots).toBe(6);
    expect(await restoreAll(await openRepository(store, { password: 'pw' }))).toEqual(expectedHashes(archived));
  });

  it('a writer that opened it before migrate stores its snapshot under the per-volume key', async () => {
    const store = new MemoryBlobStore();
    const before = await initRepository(store, { encrypted: false, formatVersion: 1 });
    await archiveVolumes(before, ['vol-a'], 1);
    await store.put(
      CONFIG_KEY,
      Buffer.from(
        Buffer.from(await store.get(CONFIG_KEY))
          .toString()
          .replace('"version": 1', '"version": 2'),
      ),
    );
    const archived = await archiveVolumes(before, ['vol-b'], 1);
    const [id] = archived.keys();
    expect(before.formatVersion).toBe(2);
    expect(await store.stat(snapshotKey(id!, before.volumeKey('vol-b')))).toBeDefined();
  });
});

describe('both forms at once (a migration under way, or killed)', () => {
  /** A format-2 repository where vol-a's snapshots are flat, vol-b's under both keys, vol-c's per volume. */
  async function mixed(version: 1 | 2) {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw', formatVersion: version });
    const archived = await archiveVolumes(repo, VOLUMES, 2);
    for (const [id, a] of archived) {
      const flat = snapshotKey(id);
      const perVolume = snapshotKey(id, repo.volumeKey(a.volumeId));
      const bytes = await store.get(version === 1 ? flat : perVolume);
      if (a.volumeId !== 'vol-c') await store.put(flat, bytes);
      if (a.volumeId !== 'vol-a') await store.put(perVolume, bytes);
      if (a.volumeId === 'vol-a') await store.delete(perVolume);
      if (a.volumeId === 'vol-c') await store.delete(flat);
    }
    return { store, archived, repo: await openRepository(store, { password: 'pw' }) };
  }

  it.each([1, 2] as const)('lists each snapshot once (config version %i)', async (version) => {
    const { archived, repo } = await mixed(version);
    const all = await repo.listSnapshots();
    expect(all.map((e) => e.id).sort()).toEqual([...archived.keys()].sort());
    expect(await restoreAll(repo)).toEqual(expectedHashes(archived));
    expect((await verifyRepository(repo, createInlineCodecPool(repo.keys))).snapshots).toBe(6);
    for (const volumeId of version === 1 ? VOLUMES : ['vol-b', 'vol-c']) {
      const own = await repo.listVolumeSnapshots(volumeId);
      expect(own.map((e) => e.id).sort(), volumeId).toEqual(
        [...archived]
          .filter(([, a]) => a.volumeId === volumeId)
          .map(([id]) => id)
          .sort(),
      );
    }
  });

  it('forget removes both copies', async () => {
    const { store, repo } = await mixed(1);
    const b = await repo.listVolumeSnapshots('vol-b');
    await removeSnapshots(repo, [b[0]!]);
    expect(await repo.snapshotKeysOf(b[0]!.id)).toEqual([]);
    // By bare id (a damaged snapshot's volume is unknown): every key found for it.
    await removeSnapshots(repo, [b[1]!.id]);
    expect(await repo.snapshotKeysOf(b[1]!.id)).toEqual([]);
    expect((await collect(store.list(SNAPSHOTS_PREFIX))).map((o) => parseSnapshotKey(o.key)?.id)).not.toContain(b[1]!.id);
    await expect(repo.loadSnapshot(b[1]!.id, 'vol-b')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a reader that finds a flat key moved while it listed reads it under its volume key', async () => {
    const inner = new MemoryBlobStore();
    const seed = await initRepository(inner, { encrypted: false, formatVersion: 1 });
    const archived = await archiveVolumes(seed, VOLUMES, 2);
    const moved: string[] = [];
    // Every flat object is moved (as migrate does: put, then delete) just before it is read.
    const store: BlobStore = Object.assign(Object.create(inner) as BlobStore, {
      get: async (key: string) => {
        const parsed = parseSnapshotKey(key);
        if (parsed && parsed.volumeKey === undefined && !moved.includes(key)) {
          moved.push(key);
          const volumeId = archived.get(parsed.id)!.volumeId;
          await inner.put(snapshotKey(parsed.id, seed.volumeKey(volumeId)), await inner.get(key));
          await inner.delete(key);
        }
        return inner.get(key);
      },
      list: (prefix: string) => inner.list(prefix),
    });
    const repo = await openRepository(store);
    expect((await repo.listVolumeSnapshots('vol-b')).map((e) => e.snapshot.volumeId)).toEqual(['vol-b', 'vol-b']);
    expect((await repo.listSnapshots()).map((e) => e.id).sort()).toEqual([...archived.keys()].sort());
    expect(moved).toHaveLength(6);
  });
});
