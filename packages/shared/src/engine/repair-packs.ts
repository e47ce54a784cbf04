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
  /** The first few lost blob ids. */
  lost: string[];
  /** Deleted (or already gone); false when Object Lock retains it (then `retainedUntil`). */
  deleted: boolean;
  retainedUntil?: string;
}

export interface PackRepairReport {
  packs: RepairedPack[];
  salvagedBlobs: number;
  lostBlobs: number;
  /** New packs the salvaged blobs went into, and their bytes. */
  newPacks: number;
  storedBytes: number;
}

export interface PackRepairOptions extends RepairOptions {
  /** Repair these packs (ids); default: every pack the damage records name and not yet removed. */
  packIds?: readonly string[];
}

export async function repairPacks(repo: Repository, pool: CodecPool, options: PackRepairOptions): Promise<PackRepairReport> {
  const lease = await acquireExclusiveLease(repo, options.clock, 'prune', {
    ...(options.hostname ? { hostname: options.hostname } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  try {
    const targets = options.packIds ? [...new Set(options.packIds)] : [...(await loadDamage(repo)).packs.values()].filter((p) => !p.removed).map((p) => p.packId);
    const report: PackRepairReport = { packs: [], salvagedBlobs: 0, lostBlobs: 0, newPacks: 0, storedBytes: 0 };
    if (targets.length === 0) return report;
    const described = await describe(repo, new Set(targets));
    const repacker = new PackRepacker(repo, pool);
    for (const packId of targets) {
      lease.assertHeld();
      const pack = described.get(packId) ?? (await ownHeader(repo, packId));
      const bytes = await readWhatIsLeft(repo, packId);
      const { salvaged, lost } = pack ? await repacker.salvage(pack, bytes) : { salvaged: 0, lost: [] };
      report.packs.push({ packId, described: !!pack, salvagedBlobs: salvaged, lostBlobs: lost.length, lost: lost.slice(0, MAX_LOST_LISTED).map((id) => toHex(id)), deleted: false });
      report.salvagedBlobs += salvaged;
      report.lostBlobs += lost.length;
    }
    const stored = await repacker.close();
    report.newPacks = stored.packs;
    report.storedBytes = stored.storedBytes;
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
