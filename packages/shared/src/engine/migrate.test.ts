/**
 * migrate: a format-1 repository upgraded in place to format 2 (engine/migrate.ts). Correct,
 * idempotent, and safe to crash at every single store call: after any crash the repository
 * reads fully, and the next run completes.
 */
import { describe, expect, it } from 'vitest';
import { CorruptDataError, RepositoryLockedError, TransientError } from '../errors.js';
import { MemoryBlobStore } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { CONFIG_KEY, LOCKS_PREFIX, snapshotKey } from '../format/layout.js';
import { parseConfig } from '../format/repo-config.js';
import { collect } from '../content/map-limit.js';
import type { BlobData, BlobStore, ByteRange, ObjectInfo, PutOptions } from '../ports/blob-store.js';
import type { ProcessIdentity } from '../ports/process-identity.js';
import { removeSnapshots } from './forget.js';
import { acquireLease } from './leases.js';
import { migrateRepository } from './migrate.js';
import { verifyRepository } from './verify.js';
import { initRepository, openRepository } from './repository-open.js';
import { archiveVolumes, cloneStore, expectedHashes, restoreAll, snapshotKeys, testClock, type Archived } from './test-snapshots.js';

const VOLUMES = ['vol-a', 'vol-b', 'vol-c'];
/** Every lease of a crashed run belongs to a process that is gone, as after a SIGKILL on this machine. */
const identity: ProcessIdentity = { self: { pid: 4242, pidSpace: 'test' }, isGone: () => true };
const options = { clock: testClock, identity };

async function format1(encrypted = true): Promise<{ store: MemoryBlobStore; archived: Archived }> {
  const store = new MemoryBlobStore();
  const repo = await initRepository(store, { encrypted, ...(encrypted ? { password: 'pw' } : {}), formatVersion: 1 });
  return { store, archived: await archiveVolumes(repo, VOLUMES, 3) };
}

const open = (store: BlobStore) => openRepository(store, { password: 'pw' });

/** What a completed migration leaves: config at 2, every snapshot under its volume key, nothing else. */
async function expectMigrated(store: BlobStore, archived: Archived): Promise<void> {
  const repo = await open(store);
  expect(parseConfig(await store.get(CONFIG_KEY)).version).toBe(2);
  expect(await snapshotKeys(store)).toEqual({ flat: [], perVolume: [...archived].map(([id, a]) => snapshotKey(id, repo.volumeKey(a.volumeId))).sort() });
  expect(await collect(store.list(LOCKS_PREFIX))).toEqual([]);
  expect(await restoreAll(repo)).toEqual(expectedHashes(archived));
  expect((await verifyRepository(repo, createInlineCodecPool(repo.keys))).problems).toEqual([]);
}

/** Every snapshot reads, whole and per volume, whatever state the layout is in. */
async function expectReadable(store: BlobStore, archived: Archived, context: string): Promise<void> {
  const repo = await open(store);
  expect((await repo.listSnapshots()).map((e) => e.id).sort(), context).toEqual([...archived.keys()].sort());
  for (const volumeId of VOLUMES) {
    const want = [...archived]
      .filter(([, a]) => a.volumeId === volumeId)
      .map(([id]) => id)
      .sort();
    expect((await repo.listVolumeSnapshots(volumeId)).map((e) => e.id).sort(), `${context}: ${volumeId}`).toEqual(want);
  }
}

/** A store that dies (every call fails, as a killed process makes no more calls) after `budget` calls. */
class DyingStore implements BlobStore {
  calls = 0;
  constructor(
    private readonly inner: BlobStore,
    private readonly budget: number,
  ) {}
  get location() {
    return this.inner.location;
  }
  private step(what: string): void {
    if (++this.calls > this.budget) throw new TransientError(`died before ${what}`);
  }
  async put(key: string, data: BlobData, options?: PutOptions) {
    this.step(`put ${key}`);
    return this.inner.put(key, data, options);
  }
  async get(key: string, range?: ByteRange) {
    this.step(`get ${key}`);
    return this.inner.get(key, range);
  }
  async stat(key: string): Promise<ObjectInfo | undefined> {
    this.step(`stat ${key}`);
    return this.inner.stat(key);
  }
  async *list(prefix: string) {
    this.step(`list ${prefix}`);
    yield* this.inner.list(prefix);
  }
  async delete(key: string) {
    this.step(`delete ${key}`);
    return this.inner.delete(key);
  }
}

describe('migrate', () => {
  it.each([true, false])('moves every snapshot under its volume key, then upgrades config (encrypted: %s)', async (encrypted) => {
    const { store, archived } = await format1(encrypted);
    const report = await migrateRepository(await open(store), options);
    expect(report).toEqual({ fromVersion: 1, version: 2, moved: 9, runningArchives: 0 });
    await expectMigrated(store, archived);

    // Idempotent: a second run finds nothing to do and says the repository is at version 2.
    expect(await migrateRepository(await open(store), options)).toEqual({ fromVersion: 2, version: 2, moved: 0, runningArchives: 0 });
    await expectMigrated(store, archived);

    // Archives go on per volume, incremental on the snapshots moved.
    const repo = await open(store);
    await archiveVolumes(repo, ['vol-b'], 1, archived);
    expect((await repo.listVolumeSnapshots('vol-b')).at(-1)!.snapshot.parent).toBeDefined();
    await expectMigrated(store, archived);
  });

  it('crashed after any store call, leaves a readable repository, and the next run completes', async () => {
    const { store: pristine, archived } = await format1(false);
    const clean = new DyingStore(await cloneStore(pristine), Infinity);
    await migrateRepository(await open(clean), options);
    const total = clean.calls;
    expect(total).toBeGreaterThan(9 * 4); // a get, put, stat and delete per snapshot, and more
    for (let budget = 1; budget < total; budget++) {
      const store = await cloneStore(pristine);
      const dying = new DyingStore(store, budget);
      await expect(migrateRepository(await open(dying), options), `budget ${budget}`).rejects.toThrow(/died before/);
      await expectReadable(store, archived, `after a crash at call ${budget + 1} of ${total}`);
      // Archives into a half-migrated repository keep working, whichever config they read.
      const grown = new Map(archived);
      await archiveVolumes(await open(store), ['vol-c'], 1, grown);
      await expectReadable(store, grown, `an archive after the crash at call ${budget + 1}`);
      const report = await migrateRepository(await open(store), options);
      expect(report.version).toBe(2);
      await expectMigrated(store, grown);
    }
  });

  it('stops on a damaged snapshot, leaving format 1; after forget of it, completes', async () => {
    const { store, archived } = await format1();
    const [damagedId] = archived.keys();
    const bytes = Buffer.from(await store.get(snapshotKey(damagedId!)));
    bytes[bytes.length - 1]! ^= 0xff;
    await store.put(snapshotKey(damagedId!), bytes);
    const failed = migrateRepository(await open(store), options);
    await expect(failed).rejects.toBeInstanceOf(CorruptDataError);
    await expect(failed).rejects.toThrow(new RegExp(`${damagedId}.*snapfleet forget`));
    expect(parseConfig(await store.get(CONFIG_KEY)).version).toBe(1);
    expect((await snapshotKeys(store)).flat).toEqual([snapshotKey(damagedId!)]);
    archived.delete(damagedId!);
    await expectReadable(store, archived, 'after the stop');

    await removeSnapshots(await open(store), [damagedId!]);
    expect((await migrateRepository(await open(store), options)).fromVersion).toBe(1);
    await expectMigrated(store, archived);
  });

  it('waits for no one but refuses to run beside a prune', async () => {
    const { store } = await format1();
    const prune = await acquireLease(await open(store), testClock, 'prune', 'host-p');
    await expect(migrateRepository(await open(store), { clock: testClock })).rejects.toBeInstanceOf(RepositoryLockedError);
    expect(parseConfig(await store.get(CONFIG_KEY)).version).toBe(1);
    await prune.release();
  });

  it('reports running archives; a flat snapshot stored after the upgrade is moved by the next run', async () => {
    const { store, archived } = await format1();
    const old = await open(store); // opened at format 1, as a long-running archive or a worker
    const archive = await acquireLease(old, testClock, 'archive');
    expect(await migrateRepository(await open(store), options)).toEqual({ fromVersion: 1, version: 2, moved: 9, runningArchives: 1 });
    // A snapfleet from before format 2 does not read the config again: its snapshot lands flat.
    await archiveVolumes(old, ['vol-d'], 1, archived);
    const [lateId] = [...archived.keys()].slice(-1);
    const perVolume = snapshotKey(lateId!, old.volumeKey('vol-d'));
    await store.put(snapshotKey(lateId!), await store.get(perVolume));
    await store.delete(perVolume);
    await archive.release();
    const upgraded = await open(store);
    expect((await upgraded.listSnapshots()).map((e) => e.id)).toContain(lateId);
    expect(await upgraded.listVolumeSnapshots('vol-d')).toEqual([]); // until migrate runs again
    expect(await migrateRepository(upgraded, options)).toEqual({ fromVersion: 2, version: 2, moved: 1, runningArchives: 0 });
    await expectMigrated(store, archived);
  });

  it('a forget racing the move does not bring the snapshot back', async () => {
    const { store, archived } = await format1();
    const [victim] = archived.keys();
    const repo = await open(store);
    const entry = (await repo.listSnapshots()).find((e) => e.id === victim)!;
    // The forget runs between migrate's read of the flat object and its put of the copy.
    const racing: BlobStore = Object.assign(Object.create(store) as BlobStore, {
      put: async (key: string, data: BlobData) => {
        if (key === snapshotKey(victim!, repo.volumeKey(entry.snapshot.volumeId))) await removeSnapshots(repo, [entry]);
        return store.put(key, data);
      },
      list: (prefix: string) => store.list(prefix),
    });
    await migrateRepository(await open(racing), options);
    archived.delete(victim!);
    await expectMigrated(store, archived);
  });
});
