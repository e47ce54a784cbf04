/**
 * Test helpers for damage: a repository of two volumes, and the ways objects get damaged (a
 * flipped byte, a cut, a deletion), aimed at objects of one volume so the other stays whole.
 */
import type { BlobStore } from '../ports/blob-store.js';
import { MemoryBlobStore } from '../testing/memory-blob-store.js';
import { packKey } from '../format/layout.js';
import { createHash } from 'node:crypto';
import { createInlineCodecPool } from '../parallel/codec-pool.js';
import { MemoryVolumeSource } from '../testing/memory-volume-source.js';
import { archiveVolume } from './archive.js';
import { testClock, type Archived } from './test-snapshots.js';
import { mutate } from './test-volume.js';
import { seededBytes } from '../testing/test-data.js';
import { readPackList } from './snapshot-index.js';
import type { Repository } from './repository.js';
import { initRepository } from './repository-open.js';

export interface DamageFixture {
  store: MemoryBlobStore;
  repo: Repository;
  archived: Archived;
  /** Snapshot ids of each volume, oldest first. */
  ids: { a: string[]; b: string[] };
}

/** The volumes of the fixture: 512 KiB each, mostly random data. */
export const FIXTURE_VOLUMES = [
  { volumeId: 'vol-a', seed: 3 },
  { volumeId: 'vol-b', seed: 5 },
] as const;
export const FIXTURE_BYTES = 512 * 1024;
/** Small packs, so that one damaged pack costs part of a snapshot. */
export const FIXTURE_PACK_SIZE = 256 * 1024;

/**
 * The fixture's volume as its `version`-th archive saw it (0: the first): random data (every
 * chunk its own blob) with a zero run, so packs hold several frames and manifests have holes.
 */
export function fixtureVolume(seed: number, version: number): Buffer {
  const volume = Buffer.from(seededBytes(FIXTURE_BYTES, seed));
  volume.fill(0, 64 * 1024, 96 * 1024);
  for (let i = 1; i <= version; i++) mutate(volume, 8, seed * 100 + i);
  return volume;
}

/** Two volumes, two snapshots each (the second with 8 blocks changed), a few packs per archive. */
export async function damageFixture(encrypted = true): Promise<DamageFixture> {
  const store = new MemoryBlobStore();
  const repo = await initRepository(store, { encrypted, password: 'pw' });
  const pool = createInlineCodecPool(repo.keys);
  const archived: Archived = new Map();
  for (const { volumeId, seed } of FIXTURE_VOLUMES) {
    for (let version = 0; version < 2; version++) {
      const volume = fixtureVolume(seed, version);
      const parent = (await repo.listVolumeSnapshots(volumeId)).at(-1);
      const { id } = await archiveVolume(repo, pool, {
        volumeId,
        source: new MemoryVolumeSource(volume, { blockSize: 64 * 1024 }),
        clock: testClock,
        packSize: FIXTURE_PACK_SIZE,
        time: new Date(Date.UTC(2026, 0, 1 + archived.size)),
        ...(parent ? { parent } : {}),
      });
      archived.set(id, { volumeId, sha256: createHash('sha256').update(volume).digest('hex') });
    }
  }
  const of = (v: string) => [...archived].filter(([, a]) => a.volumeId === v).map(([id]) => id);
  return { store, repo, archived, ids: { a: of('vol-a'), b: of('vol-b') } };
}

/** The key of the pack with the most frames among a snapshot's (data of that snapshot). */
export async function ownPackKey(repo: Repository, snapshotId: string): Promise<string> {
  const snapshot = await repo.loadSnapshot(snapshotId);
  const list = (await readPackList(repo, snapshot.packList!))!;
  let best = { packId: list[0]!.packId, frames: 0 };
  for (const { packId } of list) {
    const frames = (await repo.describePack(packId))!.frames.length;
    if (frames > best.frames) best = { packId, frames };
  }
  return packKey(best.packId);
}

export async function flipByte(store: BlobStore, key: string, at: (size: number) => number = (n) => Math.floor(n / 3)): Promise<void> {
  const bytes = Buffer.from(await store.get(key));
  bytes[at(bytes.length)]! ^= 0x40;
  await store.put(key, bytes);
}

export async function truncate(store: BlobStore, key: string, keep: (size: number) => number = (n) => Math.floor(n / 2)): Promise<void> {
  const bytes = await store.get(key);
  await store.put(key, bytes.subarray(0, keep(bytes.length)));
}
