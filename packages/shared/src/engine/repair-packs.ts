/**
 * `repair packs`: salvages damaged packs. Every frame of a damaged pack that still reads (lies
 * wholly within what is left of the pack, authenticates, and whose blobs match their ids) is
 * copied into new packs, indexed; then the damaged pack is dropped from the index, deleted, and
 * marked removed in the damage records. The blobs that did not read are lost: snapshots that
 * referenced them are `repair snapshots`' to rewrite, and archives store that content afresh
 * (the damage record keeps the pack out of their deduplication, and the index no longer has it).
 *
 * The packs repaired are those the damage records name (verify writes them), or those given.
 * Order makes it safe to kill: new packs and their index objects first, the old pack's index
 * entries next, the pack itself last, the record after; a second run redoes what was left.
 * It holds the exclusive prune lease: it deletes packs, as prune does.
 */
import type { CodecPool } from '../parallel/codec-pool.js';
import { isSnapfleetError, NotFoundError, RetainedObjectError } from '../errors.js';
import { packKey } from '../format/layout.js';
import type { IndexedPack } from '../format/index-object.js';
import { METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import { toHex } from '../format/ids.js';
import { acquireExclusiveLease } from './leases.js';
import { dropPacksFromIndex } from './index-compaction.js';
import { forEachIndexObject } from './index-objects.js';
import { loadDamage, markRemoved } from './damage-records.js';
import { PackRepacker } from './pack-repacker.js';
import { checkCopyable } from './copy.js';
import { IdTable } from '../content/id-table.js';
import { idKeyOf } from '../content/blob-index.js';
import type { RepairOptions } from './repair-index.js';
import type { Repository } from './repository.js';

/** Lost blob ids listed per pack in a report: enough to look one up, short enough to print. */
const MAX_LOST_LISTED = 20;

export interface RepairedPack {
  packId: string;
  /** Whether the index or the pack's own header said what it held; unknown: neither reads. */
  described: boolean;
  salvagedBlobs: number;
  lostBlobs: number;
  /** Of the blobs that did not read, those copied from the replica instead (`replica`). */
  fromReplica: number;
  /** The first few lost blob ids (found nowhere). */
  lost: string[];
  /** Deleted (or already gone); false when Object Lock retains it (then `retainedUntil`). */
  deleted: boolean;
  retainedUntil?: string;
}

export interface PackRepairReport {
  packs: RepairedPack[];
  salvagedBlobs: number;
  /** Blobs that did not read here and were copied from the replica. */
  fromReplica: number;
  lostBlobs: number;
  /** New packs the salvaged blobs went into, and their bytes. */
  newPacks: number;
  storedBytes: number;
}

export interface PackRepairOptions extends RepairOptions {
  /** Repair these packs (ids); default: every pack the damage records name and not yet removed. */
  packIds?: readonly string[];
  /**
   * A repository sharing this one's id key (a replica made with `copy`): blobs that do not read
   * here are copied from it when it has them. Its whole index is loaded (memory in proportion
   * to what it holds), once, and only when something was lost.
   */
  replica?: { repo: Repository; pool: CodecPool };
}

export async function repairPacks(repo: Repository, pool: CodecPool, options: PackRepairOptions): Promise<PackRepairReport> {
  const lease = await acquireExclusiveLease(repo, options.clock, 'prune', {
    ...(options.hostname ? { hostname: options.hostname } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  try {
    const targets = options.packIds
      ? [...new Set(options.packIds)]
      : [...(await loadDamage(repo)).packs.values()].filter((p) => !p.removed).map((p) => p.packId);
    const report: PackRepairReport = { packs: [], salvagedBlobs: 0, fromReplica: 0, lostBlobs: 0, newPacks: 0, storedBytes: 0 };
    if (targets.length === 0) return report;
    if (options.replica) checkCopyable(options.replica.repo, repo);
    const described = await describe(repo, new Set(targets));
    const repacker = new PackRepacker(repo, pool);
    const lostByPack = new Map<string, Uint8Array[]>();
    for (const packId of targets) {
      lease.assertHeld();
      const pack = described.get(packId) ?? (await ownHeader(repo, packId));
      const bytes = await readWhatIsLeft(repo, packId);
      const { salvaged, lost } = pack ? await repacker.salvage(pack, bytes) : { salvaged: 0, lost: [] };
      lostByPack.set(packId, lost);
      report.packs.push({ packId, described: !!pack, salvagedBlobs: salvaged, fromReplica: 0, lostBlobs: lost.length, lost: [], deleted: false });
      report.salvagedBlobs += salvaged;
    }
    const stored = await repacker.close();
    const fromReplica = options.replica
      ? await copyFromReplica(repo, pool, options.replica, lostByPack)
      : { found: new Set<string>(), packs: 0, storedBytes: 0 };
    for (const r of report.packs) {
      const still = lostByPack.get(r.packId)!.filter((id) => !fromReplica.found.has(idKeyOf(id)));
      r.fromReplica = lostByPack.get(r.packId)!.length - still.length;
      r.lostBlobs = still.length;
      r.lost = still.slice(0, MAX_LOST_LISTED).map((id) => toHex(id));
      report.fromReplica += r.fromReplica;
      report.lostBlobs += r.lostBlobs;
    }
    report.newPacks = stored.packs + fromReplica.packs;
    report.storedBytes = stored.storedBytes + fromReplica.storedBytes;
    lease.assertHeld();
    await dropPacksFromIndex(repo, new Set(targets), { skipDamaged: true });
    for (const r of report.packs) {
      try {
        await repo.store.delete(packKey(r.packId));
        r.deleted = true;
      } catch (err) {
        if (err instanceof NotFoundError) r.deleted = true;
        else if (err instanceof RetainedObjectError) r.retainedUntil = err.until.toISOString();
        else throw err;
      }
    }
    await markRemoved(repo, options.clock.now(), new Set(targets));
    return report;
  } finally {
    await lease.release();
  }
}

/**
 * Copies the lost blobs the replica holds, pack by pack of the replica (each blob decoded and
 * checked against its id on the way: a damaged copy there stops the repair, nothing spreads).
 */
async function copyFromReplica(
  repo: Repository,
  pool: CodecPool,
  replica: { repo: Repository; pool: CodecPool },
  lostByPack: ReadonlyMap<string, Uint8Array[]>,
) {
  const wanted = new IdTable();
  let count = 0;
  for (const ids of lostByPack.values()) for (const id of ids) if (wanted.insert(id, 0).added) count++;
  const found = new Set<string>();
  if (count === 0) return { found, packs: 0, storedBytes: 0 };
  const index = await replica.repo.loadIndex();
  const byPack = new Set<string>();
  for (const ids of lostByPack.values()) {
    for (const id of ids) {
      const pack = index.find(id, 0);
      if (pack) byPack.add(pack.packId);
    }
  }
  const repacker = new PackRepacker(repo, pool, undefined, undefined, { source: replica });
  for (const packId of byPack) {
    const pack = await replica.repo.describePack(packId);
    if (!pack) continue; // pruned from the replica meanwhile: those blobs stay lost
    await repacker.copy(pack, (ids, offset) => {
      if (wanted.find(ids, offset) < 0) return false;
      found.add(idKeyOf(ids, offset));
      return true;
    });
  }
  const stats = await repacker.close();
  replica.repo.forgetIndex();
  return { found, packs: stats.packs, storedBytes: stats.storedBytes };
}

/** The index's descriptions of `packIds` (one pass over the index; damaged objects skipped). */
async function describe(repo: Repository, packIds: ReadonlySet<string>): Promise<Map<string, IndexedPack>> {
  const out = new Map<string, IndexedPack>();
  await forEachIndexObject(
    repo,
    (packs) => {
      for (const p of packs) if (packIds.has(p.packId) && !out.has(p.packId)) out.set(p.packId, p);
    },
    METADATA_READS_IN_FLIGHT,
    () => {},
  );
  return out;
}

/** The pack's own header, when the index does not describe it and the header reads. */
async function ownHeader(repo: Repository, packId: string): Promise<IndexedPack | undefined> {
  const info = await repo.store.stat(packKey(packId));
  if (!info) return undefined;
  try {
    return { packId, packLength: info.size, frames: await repo.readPackHeader(packKey(packId), info.size) };
  } catch (err) {
    if (isSnapfleetError(err) && !err.retryable) return undefined; // neither the index nor the pack says what it held
    throw err;
  }
}

async function readWhatIsLeft(repo: Repository, packId: string): Promise<Uint8Array> {
  try {
    return await repo.store.get(packKey(packId));
  } catch (err) {
    if (err instanceof NotFoundError) return new Uint8Array(0);
    throw err;
  }
}
