import { describe, expect, it } from 'vitest';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { collect } from '../content/map-limit.js';
import { DAMAGED_PREFIX, INDEX_PREFIX, KEYS_PREFIX, LOCKS_PREFIX, PRUNE_PREFIX, idFromKey } from '../format/layout.js';
import { packListKey } from '../format/pack-list.js';
import { MemoryVolumeSource } from '../testing/memory-volume-source.js';
import { archiveVolume } from './archive.js';
import { addKey } from './key-files.js';
import type { Repository } from './repository.js';
import { openRepository } from './repository-open.js';
import { damageFixture, fixtureVolume, flipByte, ownPackKey, truncate, type DamageFixture } from './test-damage.js';
import { expectedHashes, restoreAll, testClock } from './test-snapshots.js';
import { verifyRepository } from './verify.js';
import { CorruptDataError } from '../errors.js';
import { restoreSnapshot } from './restore.js';
import { MemoryVolumeTarget } from '../testing/memory-volume-target.js';

const verify = (repo: Repository) => verifyRepository(repo, createInlineCodecPool(repo.keys), { recordAt: testClock.now() });

/** Restores every snapshot it can; a snapshot that fails must fail as damage. */
async function restorable(f: DamageFixture, repo: Repository): Promise<Set<string>> {
  const ok = new Set<string>();
  const want = expectedHashes(f.archived);
  for (const entry of await repo.listSnapshots()) {
    try {
      const got = (await restoreAll(repo, [entry])).get(entry.id);
      if (got === want.get(entry.id)) ok.add(entry.id);
    } catch (err) {
      expect(err).toBeInstanceOf(CorruptDataError);
    }
  }
  return ok;
}

describe('verify reports damage by object class, with what it costs', () => {
  it('a missing pack: the snapshots that lose blocks, the rest restorable, the pack recorded', async () => {
    const f = await damageFixture();
    const key = await ownPackKey(f.repo, f.ids.a[0]!);
    await f.store.delete(key);
    const repo = await openRepository(f.store, { password: 'pw' });
    const report = await verify(repo);
    const missing = report.problems.filter((p) => p.kind === 'missing-pack');
    expect(missing).toHaveLength(1);
    expect(missing[0]!.object).toBe(key);
    expect(missing[0]!.severity).toBe('data');
    expect(new Set(missing[0]!.affected.map((a) => a.snapshotId))).toEqual(new Set(f.ids.a));
    for (const a of missing[0]!.affected) expect(a.damagedChunks).toBeGreaterThan(0);
    expect(report.summary!.restorable).toBe(2);
    expect(new Set(report.summary!.damaged.map((d) => d.snapshotId))).toEqual(new Set(f.ids.a));
    expect(report.summary!.recordedPacks).toBe(1);
    expect(await restorable(f, repo)).toEqual(new Set(f.ids.b));
    // The restore of a damaged one fails as damage naming the snapshot, a block and the pack.
    const entry = (await repo.listSnapshots()).find((e) => e.id === f.ids.a[0])!;
    const failed = restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot: entry, target: new MemoryVolumeTarget() });
    await expect(failed).rejects.toBeInstanceOf(CorruptDataError);
    await expect(failed).rejects.toThrow(new RegExp(`snapshot ${f.ids.a[0]} block \\d+ .*${key}`));
    // A second verify records nothing new.
    expect((await verify(repo)).summary!.recordedPacks).toBe(0);
  });

  it('a pack cut short: truncated-pack, the whole frames before the cut still count', async () => {
    const f = await damageFixture();
    const key = await ownPackKey(f.repo, f.ids.a[0]!);
    const described = (await f.repo.describePack(idFromKey(key)!))!;
    const blobsInPack = described.frames.reduce((n, fr) => n + fr.lengths.length, 0);
    await truncate(f.store, key);
    const repo = await openRepository(f.store, { password: 'pw' });
    const report = await verify(repo);
    const cut = report.problems.filter((p) => p.kind === 'truncated-pack');
    expect(cut).toHaveLength(1);
    expect(cut[0]!.object).toBe(key);
    const all = cut[0]!.affected.find((a) => a.snapshotId === f.ids.a[0])!;
    expect(all.damagedChunks).toBeGreaterThan(0);
    // The frames before the cut survive: fewer blobs lost than the pack held.
    expect(cut[0]!.blobs).toBeGreaterThan(0);
    expect(cut[0]!.blobs).toBeLessThan(blobsInPack);
    expect(report.summary!.restorable).toBe(2);
    expect(await restorable(f, repo)).toEqual(new Set(f.ids.b));
  });

  it('a flipped byte in a frame: corrupt-blob naming the blob, snapshot and blocks', async () => {
    const f = await damageFixture();
    const key = await ownPackKey(f.repo, f.ids.a[0]!);
    await flipByte(f.store, key, () => 100);
    const repo = await openRepository(f.store, { password: 'pw' });
    const report = await verify(repo);
    const bad = report.problems.filter((p) => p.kind === 'corrupt-blob');
    expect(bad.length).toBeGreaterThan(0);
    expect(bad[0]!.blobId).toMatch(/^[0-9a-f]{64}$/);
    expect(bad[0]!.affected.map((a) => a.snapshotId)).toContain(f.ids.a[0]);
    expect(bad[0]!.affected[0]!.ranges!.length).toBeGreaterThan(0);
    expect(report.summary!.damaged.map((d) => d.snapshotId)).toContain(f.ids.a[0]);
    expect(report.summary!.damaged.map((d) => d.snapshotId)).not.toContain(f.ids.b[0]);
    expect([...(await restorable(f, repo))]).toEqual(expect.arrayContaining(f.ids.b));
  });

  it('a damaged index object: corrupt-index, repairable, and every snapshot still restores', async () => {
    const f = await damageFixture();
    const indexKey = (await collect(f.store.list(INDEX_PREFIX)))[0]!.key;
    await flipByte(f.store, indexKey);
    const repo = await openRepository(f.store, { password: 'pw' });
    const report = await verify(repo);
    expect(report.problems.map((p) => p.kind).sort()).toEqual(['corrupt-index', 'unindexed-pack']);
    expect(report.problems.find((p) => p.kind === 'corrupt-index')!.severity).toBe('metadata');
    expect(report.summary!.restorable).toBe(4);
    expect(report.summary!.recordedPacks).toBe(0);
    expect(await restoreAll(repo)).toEqual(expectedHashes(f.archived));
  });

  it('a damaged snapshot object: corrupt-snapshot; the others restore', async () => {
    const f = await damageFixture();
    const snapshotKey = (await f.repo.snapshotKeysOf(f.ids.a[1]!))[0]!;
    await flipByte(f.store, snapshotKey);
    const repo = await openRepository(f.store, { password: 'pw' });
    const report = await verify(repo);
    expect(report.problems.map((p) => p.kind)).toEqual(['corrupt-snapshot']);
    expect(report.problems[0]!.object).toBe(snapshotKey);
    expect(report.summary!.restorable).toBe(3);
    expect(report.summary!.damaged).toEqual([expect.objectContaining({ snapshotId: f.ids.a[1] })]);
    expect(await restorable(f, repo)).toEqual(new Set([f.ids.a[0], ...f.ids.b]));
  });

  it('small objects: a lease, a marker, a damage record, a pack list and a second key file, each by class', async () => {
    const f = await damageFixture();
    await addKey(f.repo, 'second');
    const keyFiles = (await collect(f.store.list(KEYS_PREFIX))).map((o) => o.key);
    const other = keyFiles.find((k) => idFromKey(k) !== f.repo.keyFileId) ?? keyFiles.find((k) => !k.endsWith(f.repo.keyFileId!))!;
    await flipByte(f.store, other, (n) => n - 20);
    await f.store.put(`${LOCKS_PREFIX}${'ab'.repeat(16)}`, Buffer.from('junk'));
    await f.store.put(`${PRUNE_PREFIX}${'cd'.repeat(16)}`, Buffer.from('junk'));
    await f.store.put(`${DAMAGED_PREFIX}${'ef'.repeat(32)}`, Buffer.from('junk'));
    const snapshot = await f.repo.loadSnapshot(f.ids.b[0]!);
    await flipByte(f.store, packListKey(snapshot.packList!));
    const repo = await openRepository(f.store, { password: 'pw' });
    const report = await verify(repo);
    expect(report.problems.map((p) => p.kind).sort()).toEqual(['corrupt-damage-record', 'corrupt-key', 'corrupt-lease', 'corrupt-marker', 'corrupt-packlist']);
    for (const p of report.problems) expect(p.severity).toBe('metadata');
    expect(report.summary!.restorable).toBe(4);
    // The damaged pack list is a hint: the snapshot restores through the index.
    expect(await restoreAll(repo)).toEqual(expectedHashes(f.archived));
  });
});

describe('archives after damage', () => {
  it('store the content of a recorded damaged pack afresh: the new snapshot restores without any repair', async () => {
    const f = await damageFixture();
    const key = await ownPackKey(f.repo, f.ids.a[0]!);
    await flipByte(f.store, key, () => 100);
    const repo = await openRepository(f.store, { password: 'pw' });
    expect((await verify(repo)).summary!.recordedPacks).toBe(1);
    const entry = (await repo.listVolumeSnapshots('vol-a')).at(-1)!;
    const target = new MemoryVolumeTarget();
    await expect(restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot: entry, target })).rejects.toBeInstanceOf(CorruptDataError);
    const volume = fixtureVolume(3, 1);
    const { id, snapshot } = await archiveVolume(repo, createInlineCodecPool(repo.keys), {
      volumeId: 'vol-a',
      source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
      clock: testClock,
      time: new Date('2026-02-01T00:00:00Z'),
      parent: entry,
    });
    expect(snapshot.stats.newBlobs).toBeGreaterThan(0);
    const restored = new MemoryVolumeTarget();
    await restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot: { id, snapshot }, target: restored });
    expect(Buffer.from(restored.data).equals(volume)).toBe(true);
  });
});
