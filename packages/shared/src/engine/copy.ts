/**
 * Copy: snapshots of one repository replicated into another (another folder, bucket or region,
 * with its own password and encryption key), only what the target lacks (docs/format.md,
 * "Copies"). Both repositories share their id key (`init --copy-id-key-from`), so a blob has the
 * same id in both: a manifest copies as it is, deduplication works across copies, and a copied
 * snapshot keeps its id, its time and every field, because its object is copied byte for byte.
 *
 * Per snapshot, oldest first, skipping those the target has: under an archive lease in the
 * target (its prune waits for the copy, and condemned packs are not relied on), the source
 * snapshot's manifest is walked in volume order, in batches; each batch's blobs that the target
 * lacks are read from the source's packs, checked against their ids, re-encoded under the
 * target's keys and stored in new packs with their index objects. Then the target's pack list,
 * under the name the snapshot names, and last the snapshot object. A copy killed at any point
 * leaves at most packs (and lists) no snapshot names yet; the next copy finds their blobs in the
 * target's index and does not copy them again.
 */
import type { Clock } from '../ports/clock.js';
import type { ProcessIdentity } from '../ports/process-identity.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { CorruptDataError, InvalidInputError } from '../errors.js';
import { ID_BYTES, fromHex, isHole } from '../format/ids.js';
import { packListKey, encodePackList, type ListedPack } from '../format/pack-list.js';
import { encodeEnvelope, decodeEnvelope } from '../format/envelope.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { IdTable } from '../content/id-table.js';
import { RecentIds } from '../content/recent-ids.js';
import { createNodeLoader } from '../manifest/node-loader.js';
import { walkTree } from '../manifest/tree-walk.js';
import { acquireLease } from './leases.js';
import { loadSnapshotIndex } from './snapshot-index.js';
import { openWriteIndex, type WriteIndex } from './write-index.js';
import { PackRepacker } from './pack-repacker.js';
import type { Repository } from './repository.js';

/** Blob ids looked at together: ~256 MiB of 4 KiB chunks, so each source pack is read about once. */
const BATCH_IDS = 64 * 1024;

export interface CopyOptions {
  clock: Clock;
  hostname?: string;
  identity?: ProcessIdentity;
  /** Told of each snapshot as it is copied or found already there. */
  onSnapshot?: (outcome: CopiedSnapshot) => void;
}

export interface CopiedSnapshot {
  id: string;
  volumeId: string;
  /** False when the target had the snapshot already. */
  copied: boolean;
  /** Blobs and their plaintext bytes read from the source and stored in the target. */
  blobs: number;
  bytes: number;
}

export interface CopyReport {
  snapshots: number;
  copied: number;
  skipped: number;
  blobs: number;
  bytes: number;
  packs: number;
  storedBytes: number;
}

/** Fails unless `to` can hold `from`'s snapshots as they are: the same id key and chunk size. */
export function checkCopyable(from: Repository, to: Repository): void {
  // The volume key is a keyed hash under the id key: equal keys give equal names.
  if (from.volumeKey('snapfleet copy check') !== to.volumeKey('snapfleet copy check')) {
    throw new InvalidInputError(
      `${to.store.location} does not share the id key of ${from.store.location}: create it with \`snapfleet init --copy-id-key-from ${from.store.location}\``,
      'to',
    );
  }
  if (from.chunkSize !== to.chunkSize)
    throw new InvalidInputError(`${to.store.location} has chunk size ${to.chunkSize}, ${from.store.location} ${from.chunkSize}`, 'to');
}

export async function copySnapshots(
  from: Repository,
  fromPool: CodecPool,
  to: Repository,
  toPool: CodecPool,
  entries: readonly SnapshotEntry[],
  options: CopyOptions,
): Promise<CopyReport> {
  checkCopyable(from, to);
  const report: CopyReport = { snapshots: entries.length, copied: 0, skipped: 0, blobs: 0, bytes: 0, packs: 0, storedBytes: 0 };
  const ordered = [...entries].sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id));
  for (const entry of ordered) {
    if (await to.store.stat(to.snapshotKeyFor(entry.id, entry.snapshot.volumeId))) {
      report.skipped++;
      options.onSnapshot?.({ id: entry.id, volumeId: entry.snapshot.volumeId, copied: false, blobs: 0, bytes: 0 });
      continue;
    }
    const lease = await acquireLease(to, options.clock, 'archive', options.hostname, options.identity?.self);
    try {
      const index = await openWriteIndex(to);
      try {
        const one = await copyOne(from, fromPool, to, toPool, entry, index);
        lease.assertHeld();
        await to.saveSnapshotPayload(entry.id, entry.snapshot.volumeId, await snapshotPayload(from, entry));
        report.copied++;
        report.blobs += one.blobs;
        report.bytes += one.bytes;
        report.packs += one.packs;
        report.storedBytes += one.storedBytes;
        options.onSnapshot?.({ id: entry.id, volumeId: entry.snapshot.volumeId, copied: true, blobs: one.blobs, bytes: one.bytes });
      } finally {
        await index.close();
      }
    } finally {
      to.forgetIndex();
      await lease.release();
    }
  }
  return report;
}

/** The snapshot object's plaintext as the source holds it: copied byte for byte, so its id holds. */
async function snapshotPayload(from: Repository, entry: SnapshotEntry): Promise<Uint8Array> {
  const key = entry.key ?? from.snapshotKeyFor(entry.id, entry.snapshot.volumeId);
  return decodeEnvelope(await from.store.get(key), from.keys.enc, key);
}

async function copyOne(
  from: Repository,
  fromPool: CodecPool,
  to: Repository,
  toPool: CodecPool,
  entry: SnapshotEntry,
  index: WriteIndex,
): Promise<{ blobs: number; bytes: number; packs: number; storedBytes: number }> {
  const scoped = await loadSnapshotIndex(from, entry);
  // The target's packs that hold this snapshot's blobs: its pack list.
  const listed = new Map<string, ListedPack>();
  const repacker = new PackRepacker(to, toPool, undefined, (p) => void listed.set(p.packId, { packId: p.packId, packLength: p.packLength }), {
    source: { repo: from, pool: fromPool },
    // Blobs this copy stored are not in the target's index view: a window of them avoids
    // copying a repeat twice (one farther back is copied again; prune drains the spare copy).
    copied: new RecentIds(),
  });
  try {
    const batch = new Uint8Array(BATCH_IDS * ID_BYTES);
    let filled = 0;
    const flush = async () => {
      await copyBatch(from, scoped, repacker, index, batch.subarray(0, filled * ID_BYTES), listed);
      filled = 0;
    };
    const take = async (id: Uint8Array) => {
      batch.set(id, filled * ID_BYTES);
      if (++filled === BATCH_IDS) await flush();
    };
    const load = createNodeLoader(from, fromPool, 'corrupt', scoped.index, scoped.ensure);
    const pending: Uint8Array[] = [];
    await walkTree(fromHex(entry.snapshot.tree.root), entry.snapshot.tree.height, load, {
      node: (id) => {
        pending.push(Buffer.from(id));
        return true;
      },
      leaf: async (id) => {
        while (pending.length > 0) await take(pending.shift()!);
        await take(id);
      },
    });
    for (const id of pending) await take(id);
    if (filled > 0) await flush();
    const stats = await repacker.close();
    if (entry.snapshot.packList) {
      const key = packListKey(entry.snapshot.packList);
      await to.store.put(key, encodeEnvelope(encodePackList([...listed.values()]), to.keys.enc));
    }
    return { blobs: stats.blobs, bytes: stats.bytes, packs: stats.packs, storedBytes: stats.storedBytes };
  } finally {
    await scoped.close();
  }
}

/** Copies the blobs of `ids` the target lacks, pack by pack of the source. */
async function copyBatch(
  from: Repository,
  scoped: Awaited<ReturnType<typeof loadSnapshotIndex>>,
  repacker: PackRepacker,
  index: WriteIndex,
  ids: Uint8Array,
  listed: Map<string, ListedPack>,
): Promise<void> {
  const wanted = new IdTable();
  const byPack = new Map<string, number>();
  for (let o = 0; o < ids.byteLength; o += ID_BYTES) {
    if (isHole(ids, o)) continue;
    const there = index.find(ids, o);
    if (there) {
      listed.set(there.packId, there);
      continue;
    }
    if (!scoped.index.has(ids, o) && !(await scoped.ensure(ids, o))) {
      throw new CorruptDataError(
        `snapshot blob ${Buffer.from(ids.subarray(o, o + ID_BYTES)).toString('hex')} is in no pack of ${from.store.location}: run verify there; nothing of this snapshot was copied`,
      );
    }
    const pack = scoped.index.find(ids, o)!;
    wanted.add(ids, o);
    byPack.set(pack.packId, (byPack.get(pack.packId) ?? 0) + 1);
  }
  for (const packId of byPack.keys()) {
    const pack = await from.describePack(packId);
    if (!pack)
      throw new CorruptDataError(`pack ${packId} of ${from.store.location} is gone: run verify there`, { object: `data/${packId.slice(0, 2)}/${packId}` });
    await repacker.copy(pack, (fids, fo) => wanted.find(fids, fo) >= 0);
  }
}
