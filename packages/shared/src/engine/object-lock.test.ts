import { describe, expect, it } from 'vitest';
import { InvalidInputError, RetainedObjectError } from '../errors.js';
import { MemoryBlobStore, MemoryVolumeSource, MemoryVolumeTarget, RetentionBlobStore, sha256Hex } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { CONFIG_KEY, DATA_PREFIX } from '../format/layout.js';
import { collect } from '../content/map-limit.js';
import type { Clock } from '../ports/clock.js';
import { archiveVolume } from './archive.js';
import { restoreSnapshot } from './restore.js';
import { verifyRepository } from './verify.js';
import { removeSnapshots } from './forget.js';
import { pruneRepository } from './prune.js';
import { addKey, changePassword, removeKey } from './key-files.js';
import type { Repository } from './repository.js';
import { initRepository, openRepository } from './repository-open.js';
import { isLockedKey } from './object-lock.js';
import { makeVolume } from './test-volume.js';

const DAY = 24 * 3600_000;
const LOCK = { mode: 'COMPLIANCE' as const, days: 30 };

/** A clock tests move forward by hand. */
function manualClock(start: string): Clock & { advance(days: number): void } {
  let t = new Date(start).getTime();
  return { now: () => new Date(t), advance: (days) => void (t += days * DAY) };
}

async function archive(repo: Repository, clock: Clock, volume: Buffer): Promise<string> {
  const result = await archiveVolume(repo, createInlineCodecPool(repo.keys), {
    volumeId: 'vol',
    source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
    clock,
    time: clock.now(),
  });
  return result.id;
}

async function restoreHash(repo: Repository, id: string): Promise<string> {
  const snapshot = (await repo.listSnapshots()).find((e) => e.id === id)!;
  const target = new MemoryVolumeTarget();
  await restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot, target });
  return sha256Hex(target.data);
}

async function packKeys(store: RetentionBlobStore): Promise<string[]> {
  return (await collect(store.list(DATA_PREFIX))).map((o) => o.key).sort();
}

describe('Object Lock', () => {
  it('writes packs, snapshots, key files and the config with retention, and nothing else', async () => {
    const clock = manualClock('2026-05-01T00:00:00Z');
    const store = new RetentionBlobStore(new MemoryBlobStore(), clock);
    const repo = await initRepository(store, { encrypted: true, password: 'pw', objectLock: LOCK, clock });
    await archive(repo, clock, makeVolume(1024 * 1024, 3));
    const until = new Date(clock.now().getTime() + 30 * DAY).toISOString();
    const keys = [...store.putOptions.keys()];
    expect(keys.filter((k) => k.startsWith('data/')).length).toBeGreaterThan(0);
    expect(keys.some((k) => k.startsWith('snapshots/'))).toBe(true);
    expect(keys.some((k) => k.startsWith('index/'))).toBe(true);
    for (const key of keys) {
      const retention = store.putOptions.get(key)!.retention;
      if (isLockedKey(key)) expect({ key, mode: retention?.mode, until: retention?.until.toISOString() }).toEqual({ key, mode: 'COMPLIANCE', until });
      else expect({ key, retention }).toEqual({ key, retention: undefined });
    }
    expect(store.putOptions.get(CONFIG_KEY)!.retention?.until.toISOString()).toBe(until);
  });

  it('forget and prune delete nothing before its date and say what they left; after it they do', async () => {
    const clock = manualClock('2026-05-01T00:00:00Z');
    const store = new RetentionBlobStore(new MemoryBlobStore(), clock);
    const repo = await initRepository(store, { encrypted: true, password: 'pw', objectLock: LOCK, clock });
    const first = await archive(repo, clock, makeVolume(1024 * 1024, 4));
    clock.advance(1);
    const volume = makeVolume(1024 * 1024, 5);
    const second = await archive(repo, clock, volume);
    const packsBefore = await packKeys(store);

    // Day 1: the first snapshot is inside its 30 days.
    const removal = await removeSnapshots(repo, [(await repo.listSnapshots()).find((e) => e.id === first)!]);
    expect(removal.removed).toEqual([]);
    expect(removal.retained).toEqual([{ id: first, until: '2026-05-31T00:00:00.000Z' }]);
    expect((await repo.listSnapshots()).map((e) => e.id).sort()).toEqual([first, second].sort());

    // Day 31: the first snapshot's retention has passed, so forget removes it.
    clock.advance(30);
    expect((await removeSnapshots(repo, [(await repo.listSnapshots()).find((e) => e.id === first)!])).removed).toEqual([first]);
    // The second snapshot's packs were extended by nobody yet either: written on day 1, their
    // retention ran out on day 31 too. A prune now extends what the second snapshot needs and
    // deletes the first one's packs.
    const report = await pruneRepository(repo, createInlineCodecPool(repo.keys), { clock });
    expect(report.deletedPacks).toBeGreaterThan(0);
    expect(report.retainedPacks).toBe(0);
    expect(report.retention?.until).toBe(new Date(clock.now().getTime() + 30 * DAY).toISOString());
    expect(store.refusedDeletes).toBe(0);
    const after = await packKeys(store);
    for (const key of after) expect(store.retention.get(key)!.until.getTime()).toBe(clock.now().getTime() + 30 * DAY);
    expect(after.length).toBeLessThan(packsBefore.length);
    expect(await restoreHash(repo, second)).toBe(sha256Hex(volume));
    expect((await verifyRepository(repo, createInlineCodecPool(repo.keys), { readDataFraction: 1 })).problems).toEqual([]);
  });

  it('prune leaves packs whose retention holds, reports until when, and extends only live objects', async () => {
    const clock = manualClock('2026-05-01T00:00:00Z');
    // Governance retention that this store lets a delete bypass: an administrator removes one
    // snapshot at once, leaving its packs as garbage still under retention.
    const store = new RetentionBlobStore(new MemoryBlobStore(), clock, { bypassGovernance: true });
    const repo = await initRepository(store, { encrypted: true, password: 'pw', objectLock: { mode: 'GOVERNANCE', days: 30 }, clock });
    const gone = await archive(repo, clock, makeVolume(1024 * 1024, 6));
    const goneEntry = (await repo.listSnapshots()).find((e) => e.id === gone)!;
    const volume = makeVolume(1024 * 1024, 7);
    const kept = await archive(repo, clock, volume);
    // Each snapshot has packs of its own: the volumes share no data.
    const all = await packKeys(store);
    await store.delete(goneEntry.key!);
    expect((await repo.listSnapshots()).map((e) => e.id)).toEqual([kept]);

    clock.advance(10);
    const extendedBefore = store.extended.length;
    const report = await pruneRepository(repo, createInlineCodecPool(repo.keys), { clock });
    expect(report.condemnedPacks).toBeGreaterThan(0);
    expect(report.deletedPacks).toBe(0);
    expect(report.retainedPacks).toBe(report.condemnedPacks);
    expect(report.retainedUntil).toBe('2026-05-31T00:00:00.000Z');
    expect(await packKeys(store)).toEqual(all);
    expect(store.refusedDeletes).toBe(0);
    // Extended: the kept snapshot's packs, the key file and the config; not the garbage packs.
    const extended = new Set(store.extended.slice(extendedBefore));
    const garbage = all.filter((k) => !extended.has(k));
    expect(garbage.length).toBe(report.retainedPacks);
    expect(extended.has(CONFIG_KEY)).toBe(true);
    expect([...extended].some((k) => k.startsWith('keys/'))).toBe(true);
    expect([...extended].some((k) => k.startsWith('snapshots/'))).toBe(false);
    for (const key of garbage) expect(store.retention.get(key)!.until.toISOString()).toBe('2026-05-31T00:00:00.000Z');
    expect(await restoreHash(repo, kept)).toBe(sha256Hex(volume));

    // Past the garbage's date, the next prune deletes it; what is live was extended meanwhile.
    clock.advance(25);
    const later = await pruneRepository(repo, createInlineCodecPool(repo.keys), { clock });
    expect(later.deletedPacks).toBe(garbage.length);
    expect(later.retainedPacks).toBe(0);
    expect(await packKeys(store)).toEqual(all.filter((k) => !garbage.includes(k)));
    expect(await restoreHash(repo, kept)).toBe(sha256Hex(volume));
    expect((await verifyRepository(repo, createInlineCodecPool(repo.keys), { readDataFraction: 1 })).problems).toEqual([]);
  });

  it('refuses to remove or change a key file before its date, changing nothing', async () => {
    const clock = manualClock('2026-05-01T00:00:00Z');
    const store = new RetentionBlobStore(new MemoryBlobStore(), clock);
    const repo = await initRepository(store, { encrypted: true, password: 'first', objectLock: LOCK, clock });
    const second = await addKey(repo, 'second');
    await expect(removeKey(repo, second.slice(0, 8), { clock })).rejects.toThrow(RetainedObjectError);
    await expect(changePassword(repo, 'third', {}, { clock })).rejects.toThrow(/retention until 2026-05-31.*key add/);
    expect((await collect(store.list('keys/'))).length).toBe(2);
    for (const password of ['first', 'second']) await expect(openRepository(store, { password, clock })).resolves.toBeDefined();
    clock.advance(31);
    await removeKey(repo, second.slice(0, 8), { clock });
    await expect(openRepository(store, { password: 'second', clock })).rejects.toThrow();
  });

  it('is refused by stores that cannot keep retention, and needs a clock to open', async () => {
    const clock = manualClock('2026-05-01T00:00:00Z');
    await expect(initRepository(new MemoryBlobStore(), { encrypted: true, password: 'pw', objectLock: LOCK, clock })).rejects.toThrow(InvalidInputError);
    await expect(
      initRepository(new RetentionBlobStore(new MemoryBlobStore(), clock), { encrypted: true, password: 'pw', objectLock: LOCK, clock, formatVersion: 1 }),
    ).rejects.toThrow(/format version/);
    const store = new RetentionBlobStore(new MemoryBlobStore(), clock);
    await initRepository(store, { encrypted: true, password: 'pw', objectLock: LOCK, clock });
    await expect(openRepository(store, { password: 'pw' })).rejects.toThrow(/Object Lock: open it with a clock/);
    await expect(openRepository(store.inner, { password: 'pw', clock })).rejects.toThrow(/cannot keep objects under retention/);
  });
});
