import { describe, expect, it } from 'vitest';
import { RepositoryLockedError } from '../errors.js';
import { FaultyBlobStore, MemoryBlobStore, MemoryVolumeSource, MemoryVolumeTarget, sha256Hex } from '../testing/index.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { DATA_PREFIX, PRUNE_PREFIX } from '../format/layout.js';
import { collect } from '../content/map-limit.js';
import type { Clock } from '../ports/clock.js';
import { archiveVolume } from './archive.js';
import { restoreSnapshot } from './restore.js';
import { verifyRepository } from './verify.js';
import { planForget, removeSnapshots } from './forget.js';
import { pruneRepository } from './prune.js';
import { acquireLease } from './leases.js';
import type { Repository } from './repository.js';
import { initRepository, openRepository } from './repository-open.js';
import { makeVolume, mutate } from './test-volume.js';
import type { BlobStore } from '../ports/blob-store.js';

const clock: Clock = { now: () => new Date('2026-03-01T00:00:00Z') };
const pool = (repo: Repository) => createInlineCodecPool(repo.keys);

async function archiveDays(repo: Repository, volume: Buffer, days: number, volumeId = 'vol'): Promise<string[]> {
  const hashes: string[] = [];
  for (let d = 0; d < days; d++) {
    if (d > 0) mutate(volume, 300, 100 + d);
    const parent = (await repo.listSnapshots()).filter((e) => e.snapshot.volumeId === volumeId).at(-1);
    await archiveVolume(repo, pool(repo), {
      volumeId,
      source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
      clock,
      time: new Date(Date.UTC(2026, 0, 1 + d, 2)),
      ...(parent ? { parent } : {}),
    });
    hashes.push(sha256Hex(volume));
  }
  return hashes;
}

async function packBytes(store: BlobStore): Promise<number> {
  return (await collect(store.list(DATA_PREFIX))).reduce((n, o) => n + o.size, 0);
}

async function restoreAll(repo: Repository): Promise<string[]> {
  const out: string[] = [];
  for (const snapshot of await repo.listSnapshots()) {
    const target = new MemoryVolumeTarget();
    await restoreSnapshot(repo, pool(repo), { snapshot, target });
    out.push(sha256Hex(target.data));
  }
  return out;
}

describe('forget and prune', () => {
  it('frees the space of forgotten snapshots; the rest restore byte-identical and verify', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: true, password: 'pw' });
    const hashes = await archiveDays(repo, makeVolume(2 * 1024 * 1024, 21), 6);
    const before = await packBytes(store);

    const plans = planForget(await repo.listSnapshots(), { keepLast: 2 }, clock.now());
    expect(plans[0]!.keep.map((k) => k.reasons)).toEqual([['last snapshot'], ['last snapshot']]);
    expect(plans[0]!.remove).toHaveLength(4);

    const dry = await pruneRepository(repo, pool(repo), { clock, dryRun: true });
    expect(dry.condemnedPacks).toBe(0); // nothing forgotten yet: every pack is needed
    await removeSnapshots(
      repo,
      plans[0]!.remove.map((e) => e.id),
    );

    const dry2 = await pruneRepository(await openRepository(store, { password: 'pw' }), pool(repo), { clock, dryRun: true });
    expect(dry2.condemnedPacks).toBeGreaterThan(0);
    expect(await packBytes(store)).toBe(before);

    const reopened = await openRepository(store, { password: 'pw' });
    const report = await pruneRepository(reopened, pool(reopened), { clock, repackBelow: 0.9 });
    expect(report.freedBytes).toBeGreaterThan(0);
    expect(report.waiting).toEqual([]);
    expect(await packBytes(store)).toBeLessThan(before);
    expect((await collect(store.list(PRUNE_PREFIX))).length).toBe(0);

    const after = await openRepository(store, { password: 'pw' });
    expect(await restoreAll(after)).toEqual(hashes.slice(-2));
    expect((await verifyRepository(after, pool(after))).problems).toEqual([]);
  });

  it('runs one prune at a time: another live prune lease stops it before it changes anything', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    await archiveDays(repo, makeVolume(1024 * 1024, 23), 3);
    const [first] = await repo.listSnapshots();
    await removeSnapshots(repo, [first!.id]);

    const other = await acquireLease(repo, clock, 'prune', 'host-b');
    const before = store.keys();
    const blocked = pruneRepository(await openRepository(store), pool(repo), { clock, hostname: 'host-a' });
    await expect(blocked).rejects.toBeInstanceOf(RepositoryLockedError);
    await expect(blocked).rejects.toThrow(new RegExp(`another prune is running .*lease ${other.id} on host-b`));
    // Nothing written, nothing deleted, and its own lease gone again.
    expect(store.keys()).toEqual(before);
    // A dry run reads only: it is not stopped.
    expect((await pruneRepository(await openRepository(store), pool(repo), { clock, dryRun: true })).condemnedPacks).toBeGreaterThan(0);

    // Once the other prune has finished, it runs; a running archive does not stop it from
    // starting, and its own lease does not keep its marker waiting.
    await other.release();
    const archive = await acquireLease(repo, clock, 'archive');
    const waiting = await pruneRepository(await openRepository(store), pool(repo), { clock, hostname: 'host-a' });
    expect(waiting.condemnedPacks).toBeGreaterThan(0);
    expect(waiting.waiting).toHaveLength(1);
    await archive.release();
    const done = await pruneRepository(await openRepository(store), pool(repo), { clock });
    expect(done.deletedPacks).toBeGreaterThan(0);
    expect(done.waiting).toEqual([]);
    expect(store.keys().filter((k) => k.startsWith('locks/'))).toEqual([]);
  });

  it('takes over from a prune its process identity knows to be dead, and only from that one', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    await archiveDays(repo, makeVolume(512 * 1024, 24), 2);
    const here = 'boot-1/pid:[1]';
    const identity = { self: { pid: 100, pidSpace: here }, isGone: (h: { pid: number; pidSpace: string }) => h.pidSpace === here && h.pid === 200 };
    const alive = await acquireLease(repo, clock, 'prune', 'host', { pid: 300, pidSpace: here });
    await expect(pruneRepository(repo, pool(repo), { clock, identity })).rejects.toBeInstanceOf(RepositoryLockedError);
    await alive.release();

    // A prune killed on this machine (pid 200, gone) left its lease: the next one deletes it and runs.
    const dead = await acquireLease(repo, clock, 'prune', 'host', { pid: 200, pidSpace: here });
    await expect(pruneRepository(repo, pool(repo), { clock })).rejects.toBeInstanceOf(RepositoryLockedError); // no identity: cannot tell
    await pruneRepository(repo, pool(repo), { clock, identity });
    expect(store.keys().filter((k) => k.startsWith('locks/'))).toEqual([]);
    await dead.release().catch(() => undefined);
  });

  it('does not wait for an archive killed on this machine: its process identity says the holder is gone', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    await archiveDays(repo, makeVolume(512 * 1024, 25), 2);
    const [first] = await repo.listSnapshots();
    await removeSnapshots(repo, [first!.id]);
    const here = 'boot-1/pid:[1]';
    const identity = { self: { pid: 100, pidSpace: here }, isGone: (h: { pid: number; pidSpace: string }) => h.pidSpace === here && h.pid === 200 };
    // An archive that is still running (pid 300) holds the deletions back; one killed with
    // SIGKILL (pid 200) left a lease that would otherwise count as running for its whole TTL.
    const running = await acquireLease(repo, clock, 'archive', 'host', { pid: 300, pidSpace: here });
    const killed = await acquireLease(repo, clock, 'archive', 'host', { pid: 200, pidSpace: here });
    // Without an identity nobody can tell the killed one died: the marker waits for both.
    const blind = await pruneRepository(repo, pool(repo), { clock });
    expect(blind.condemnedPacks).toBeGreaterThan(0);
    expect(blind.waiting).toEqual([expect.objectContaining({ archives: 2 })]);
    expect(blind.expiredLeases).toBe(0);
    // With it, the killed archive's lease is removed and only the running one is waited for.
    const held = await pruneRepository(repo, pool(repo), { clock, identity });
    expect(held.expiredLeases).toBe(1);
    expect(held.waiting).toEqual([expect.objectContaining({ archives: 1 })]);
    expect(held.deletedPacks).toBe(0);
    await running.release();
    const done = await pruneRepository(repo, pool(repo), { clock, identity });
    expect(done.waiting).toEqual([]);
    expect(done.deletedPacks).toBeGreaterThan(0);
    expect(store.keys().filter((k) => k.startsWith('locks/'))).toEqual([]);
    await killed.release().catch(() => undefined);
  });

  it('waits for an archive that may have missed the marker, then keeps what it came to need', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    const volume = makeVolume(1024 * 1024, 22);
    await archiveDays(repo, volume, 1, 'a');
    const [first] = await repo.listSnapshots();
    await removeSnapshots(repo, [first!.id]); // its data is now garbage

    // An archive that took its lease and loaded the index before prune condemned the data.
    const early = await openRepository(store);
    const lease = await acquireLease(early, clock, 'archive');
    await early.loadIndex({ view: 'write' });

    const p1 = await pruneRepository(await openRepository(store), pool(repo), { clock });
    expect(p1.condemnedPacks).toBeGreaterThan(0);
    expect(p1.deletedPacks).toBe(0);
    expect(p1.waiting[0]?.archives).toBe(1);

    // It deduplicates against the condemned packs (its index predates the marker) and commits.
    const result = await archiveVolume(early, pool(early), { volumeId: 'b', source: new MemoryVolumeSource(volume), clock, time: clock.now() });
    expect(result.snapshot.stats.newBlobs).toBe(0);
    await lease.release();

    const p2 = await pruneRepository(await openRepository(store), pool(repo), { clock });
    expect(p2.reprievedPacks).toBeGreaterThan(0);
    const after = await openRepository(store);
    expect(await restoreAll(after)).toEqual([sha256Hex(volume)]);
    expect((await verifyRepository(after, pool(after))).problems).toEqual([]);
  });

  it('an archive that starts after the marker stores the data again instead of reusing it', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    const volume = makeVolume(1024 * 1024, 23);
    await archiveDays(repo, volume, 1, 'a');
    await removeSnapshots(repo, [(await repo.listSnapshots())[0]!.id]);
    const lease = await acquireLease(repo, clock, 'archive'); // someone else keeps the marker waiting
    await pruneRepository(await openRepository(store), pool(repo), { clock });
    const later = await openRepository(store);
    const result = await archiveVolume(later, pool(later), { volumeId: 'c', source: new MemoryVolumeSource(volume), clock, time: clock.now() });
    expect(result.snapshot.stats.newBlobs).toBeGreaterThan(0);
    await lease.release();
    const p = await pruneRepository(await openRepository(store), pool(repo), { clock });
    expect(p.deletedPacks).toBeGreaterThan(0);
    expect(p.reprievedPacks).toBe(0);
    const after = await openRepository(store);
    expect(await restoreAll(after)).toEqual([sha256Hex(volume)]);
  });

  it('an incremental from changed blocks reads afresh what the parent has in condemned packs', async () => {
    const store = new MemoryBlobStore();
    const repo = await initRepository(store, { encrypted: false });
    const volume = makeVolume(1024 * 1024, 25);
    const src = (ref: string, changed: Record<string, number[]> = {}) =>
      new MemoryVolumeSource(volume, { blockSize: 64 * 1024, sourceRef: ref, changedSince: changed });
    const first = await archiveVolume(repo, pool(repo), { volumeId: 'v', source: src('s1'), clock, time: new Date('2026-01-01T00:00:00Z') });
    // Condemn everything the first snapshot stored, while an archive keeps the marker waiting.
    await removeSnapshots(repo, [first.id]);
    const lease = await acquireLease(repo, clock, 'archive');
    const p = await pruneRepository(await openRepository(store), pool(repo), { clock });
    expect(p.condemnedPacks).toBeGreaterThan(0);
    // The parent's manifest is still readable (condemned, not deleted): only block 0 changed.
    const later = await openRepository(store);
    const parent = { id: first.id, snapshot: first.snapshot };
    const source = src('s2', { s1: [0] });
    const second = await archiveVolume(later, pool(later), { volumeId: 'v', source, clock, time: new Date('2026-01-02T00:00:00Z'), parent });
    expect(second.snapshot.stats.changedBlocksOnly).toBe(true);
    expect(source.reads).toBe(16); // every block: none of the parent's ids may be reused
    await lease.release();
    await pruneRepository(await openRepository(store), pool(repo), { clock });
    expect(await restoreAll(await openRepository(store))).toEqual([sha256Hex(volume)]);
  });

  it('interrupted at any delete, leaves a repository that verifies, and the next run finishes', async () => {
    for (const nth of [1, 2, 3, 5]) {
      const memory = new MemoryBlobStore();
      const seed = await initRepository(memory, { encrypted: true, password: 'pw' });
      const hashes = await archiveDays(seed, makeVolume(1024 * 1024, 24), 4);
      const plans = planForget(await seed.listSnapshots(), { keepLast: 1 }, clock.now());
      await removeSnapshots(
        seed,
        plans[0]!.remove.map((e) => e.id),
      );
      const faulty = new FaultyBlobStore(memory).failNth('delete', nth);
      const repo = await openRepository(faulty, { password: 'pw' });
      await expect(pruneRepository(repo, pool(repo), { clock, repackBelow: 0.9 })).rejects.toThrow();
      const check = await openRepository(memory, { password: 'pw' });
      expect((await verifyRepository(check, pool(check))).problems, `after failing delete #${nth}`).toEqual([]);
      expect(await restoreAll(check)).toEqual(hashes.slice(-1));
      const again = await pruneRepository(await openRepository(memory, { password: 'pw' }), pool(check), { clock, repackBelow: 0.9 });
      expect(again.waiting).toEqual([]);
      expect((await collect(memory.list(PRUNE_PREFIX))).length).toBe(0);
      expect(await restoreAll(await openRepository(memory, { password: 'pw' }))).toEqual(hashes.slice(-1));
    }
  });
});
