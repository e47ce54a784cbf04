/**
 * Test helpers for the snapshot layouts (format 1: flat keys; format 2: per-volume keys): a
 * repository with several volumes' snapshots, the rewrite of a repository into what a snapfleet
 * before format 2 left, and restoring every snapshot to compare with what was archived.
 */
import { createHash } from 'node:crypto';
import type { BlobStore } from '../ports/blob-store.js';
import type { Clock } from '../ports/clock.js';
import { MemoryBlobStore } from '../testing/memory-blob-store.js';
import { MemoryVolumeSource } from '../testing/memory-volume-source.js';
import { MemoryVolumeTarget } from '../testing/memory-volume-target.js';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { collect } from '../content/map-limit.js';
import { CONFIG_KEY, SNAPSHOTS_PREFIX, parseSnapshotKey, snapshotKey } from '../format/layout.js';
import { encodeConfig, parseConfig } from '../format/repo-config.js';
import { archiveVolume } from './archive.js';
import { restoreSnapshot } from './restore.js';
import type { Repository } from './repository.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { makeVolume, mutate } from './test-volume.js';

export const testClock: Clock = { now: () => new Date('2026-03-01T00:00:00Z') };

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Archived snapshots: id -> the volume and the sha256 of the bytes archived. */
export type Archived = Map<string, { volumeId: string; sha256: string }>;

/**
 * `perVolume` snapshots of each volume (192 KiB, a few blocks changed each time), incremental
 * against the volume's latest; each archive a day after the previous one.
 */
export async function archiveVolumes(repo: Repository, volumeIds: readonly string[], perVolume: number, archived: Archived = new Map()): Promise<Archived> {
  const pool = createInlineCodecPool(repo.keys);
  for (const [v, volumeId] of volumeIds.entries()) {
    const volume = makeVolume(192 * 1024, 700 + v);
    for (let i = 0; i < perVolume; i++) {
      if (i > 0) mutate(volume, 3, 7000 + 10 * v + i);
      const parent = (await repo.listVolumeSnapshots(volumeId)).at(-1);
      const { id } = await archiveVolume(repo, pool, {
        volumeId,
        source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
        clock: testClock,
        time: new Date(Date.UTC(2026, 0, 1 + archived.size)),
        ...(parent ? { parent } : {}),
      });
      archived.set(id, { volumeId, sha256: sha256(volume) });
    }
  }
  return archived;
}

/**
 * Rewrites a repository into what a snapfleet before format 2 left: every snapshot object under
 * its flat key `snapshots/<id>` (the same bytes), and `config` at version 1.
 */
export async function rewriteAsFormat1(store: BlobStore): Promise<void> {
  for (const o of await collect(store.list(SNAPSHOTS_PREFIX))) {
    const parsed = parseSnapshotKey(o.key);
    if (!parsed || parsed.volumeKey === undefined) continue;
    await store.put(snapshotKey(parsed.id), await store.get(o.key));
    await store.delete(o.key);
  }
  await store.put(CONFIG_KEY, encodeConfig({ ...parseConfig(await store.get(CONFIG_KEY)), version: 1 }));
}

/** Every listed snapshot (or those given) restored: id -> sha256 of the restored bytes. */
export async function restoreAll(repo: Repository, entries?: readonly SnapshotEntry[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of entries ?? (await repo.listSnapshots())) {
    const target = new MemoryVolumeTarget();
    await restoreSnapshot(repo, createInlineCodecPool(repo.keys), { snapshot: entry, target });
    out.set(entry.id, sha256(target.data));
  }
  return out;
}

/** What restoreAll must give for these archives. */
export function expectedHashes(archived: Archived): Map<string, string> {
  return new Map([...archived].map(([id, a]) => [id, a.sha256]));
}

/** A copy of every object of a memory store (a repository to crash into again and again). */
export async function cloneStore(store: MemoryBlobStore): Promise<MemoryBlobStore> {
  const copy = new MemoryBlobStore();
  for (const key of store.keys()) await copy.put(key, await store.get(key));
  return copy;
}

/** The snapshot keys of a store, sorted: `flat` ones (format 1) and per-volume ones. */
export async function snapshotKeys(store: BlobStore): Promise<{ flat: string[]; perVolume: string[] }> {
  const keys = (await collect(store.list(SNAPSHOTS_PREFIX))).map((o) => o.key).sort();
  return {
    flat: keys.filter((k) => parseSnapshotKey(k)?.volumeKey === undefined),
    perVolume: keys.filter((k) => parseSnapshotKey(k)?.volumeKey !== undefined),
  };
}
