/**
 * Prune: garbage collection that is safe while other processes archive into the repository.
 *
 * Packs are never deleted when found unneeded. They are first condemned: listed in a deletion
 * marker, which archives honour by not deduplicating against them. Deletion happens in a later
 * step (of this run or a later one) once every archive that might have missed the marker is gone,
 * and only for packs that the snapshots existing at that moment still do not need. The protocol
 * and its invariants are in docs/format.md ("Garbage collection").
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../ports/clock.js';
import type { ProcessIdentity } from '../ports/process-identity.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { InvalidInputError } from '../errors.js';
import { ID_BYTES } from '../format/ids.js';
import { COMPACTED_INDEX_VERSION } from '../format/codec-ids.js';
import { encodeEnvelope } from '../format/envelope.js';
import { encodeMarker, type DeletionMarker } from '../format/deletion-marker.js';
import { packKey, pruneMarkerKey } from '../format/layout.js';
import type { IndexedPack } from '../format/index-object.js';
import type { BlobIndex } from '../content/blob-index.js';
import { IdTable } from '../content/id-table.js';
import { collect } from '../content/map-limit.js';
import { PACK_LISTS_PREFIX, packListKey } from '../format/pack-list.js';
import { computeLiveSet } from './live-set.js';
import { Copies } from './copies.js';
import { claimOrder, loadReadLists, refreshReadLists, withOwnLists } from './read-lists.js';
import { acquireExclusiveLease, liveLeases, removeExpiredLeases } from './leases.js';
import { adoptOrphanPacksUnderLease } from './orphan-adoption.js';
import { PackRepacker } from './pack-repacker.js';
import { compactIndexUnderLease, dropPacksFromIndex, type CompactionReport } from './index-compaction.js';
import { extendLiveRetention, objectLockOf, type RetentionReport } from './object-lock.js';
import type { Repository } from './repository.js';

/**
 * Repack a pack when less than half of its bytes are still needed: below that, copying the live
 * half costs less than keeping the dead half forever; above it, the space won is not worth the
 * I/O (restic's default is similar in spirit: it tolerates some unused space).
 */
export const DEFAULT_REPACK_BELOW = 0.5;

export interface PruneOptions {
  clock: Clock;
  /** Repack packs whose needed share of bytes is below this, in [0, 1]. */
  repackBelow?: number;
  /** Report what would happen; change nothing. */
  dryRun?: boolean;
  /** Recorded in the prune's lease, so that a prune it blocks can say where it runs. */
  hostname?: string;
  /** This process, for the prune lease; lets a prune take over from one that died on this machine. */
  identity?: ProcessIdentity;
}

/** How old an interrupted put's leftovers must be before prune removes them. */
export const INCOMPLETE_PUT_GRACE_MS = 24 * 3600_000;

export interface PruneReport {
  snapshots: number;
  liveBlobs: number;
  packs: number;
  /** Packs condemned by this run: wholly unneeded, or repacked. */
  condemnedPacks: number;
  condemnedBytes: number;
  repackedPacks: number;
  /** Needed bytes copied out of repacked packs (plaintext). */
  repackedBytes: number;
  /** Packs deleted by this run and the bytes that freed. */
  deletedPacks: number;
  freedBytes: number;
  /** Condemned packs kept because a snapshot written meanwhile needs them. */
  reprievedPacks: number;
  /** Lease objects of archives that died without releasing them, removed by this run. */
  expiredLeases: number;
  /** Packs stored without an index object (a writer killed between the two), adopted by this run. */
  adoptedPacks: number;
  /** Deletion markers waiting for archives that may not have seen them. */
  waiting: { marker: string; packs: number; archives: number }[];
  /** Leftovers of puts interrupted by a crash (the store's temp files), removed by this run. */
  sweptIncomplete: { count: number; bytes: number };
  /** Pack lists of snapshots that no longer exist (forgotten, or never written), removed. */
  deletedPackLists: number;
  /** Layout lists (locality maintenance) of snapshots that no longer exist, removed. */
  deletedLayoutLists: number;
  /** Snapshots given a new layout list because their list named a pack this run condemned. */
  refreshedLists: number;
  /** The index compaction that ends every prune that changes anything (not dry runs). */
  compaction?: CompactionReport;
  /**
   * Object Lock: unneeded packs left in place because their retention has not passed (they are
   * deleted by the first prune after it), and the latest of those dates.
   */
  retainedPacks: number;
  retainedUntil?: string;
  /** Object Lock: the retention extension of what is live (not in dry runs). */
  retention?: RetentionReport;
}

interface MarkerEntry {
  key: string;
  marker: DeletionMarker;
}

/**
 * One prune at a time per repository (a dry run reads only and needs no lease): while it runs,
 * a prune holds a lease of kind "prune", and one that finds another's live lease stops before it
 * changes anything (RepositoryLockedError).
 */
export async function pruneRepository(repo: Repository, pool: CodecPool, options: PruneOptions): Promise<PruneReport> {
  // Repacking reads packs: in an archive storage class that needs a retrieval, so prune there
  // only deletes packs nothing needs at all.
  const repackBelow = repo.archivedPacks ? 0 : (options.repackBelow ?? DEFAULT_REPACK_BELOW);
  if (!(repackBelow >= 0 && repackBelow <= 1)) throw new InvalidInputError(`repack threshold ${repackBelow} must be between 0 and 1`, 'repackBelow');
  if (options.dryRun) return prune(repo, pool, options, repackBelow, true);
  const lease = await acquireExclusiveLease(repo, options.clock, 'prune', {
    ...(options.hostname ? { hostname: options.hostname } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  try {
    const report = await prune(repo, pool, options, repackBelow, false);
    report.deletedPackLists = await removeUnreferencedPackLists(repo, options.clock, options.identity);
    // Prune already holds the lease compaction needs, and has just rewritten index objects.
    if (repo.formatVersion >= COMPACTED_INDEX_VERSION) report.compaction = await compactIndexUnderLease(repo);
    return report;
  } finally {
    await lease.release();
  }
}

async function prune(repo: Repository, pool: CodecPool, options: PruneOptions, repackBelow: number, dryRun: boolean): Promise<PruneReport> {
  const report: PruneReport = {
    snapshots: 0,
    liveBlobs: 0,
    packs: 0,
    condemnedPacks: 0,
    condemnedBytes: 0,
    repackedPacks: 0,
    repackedBytes: 0,
    deletedPacks: 0,
    freedBytes: 0,
    reprievedPacks: 0,
    expiredLeases: 0,
    adoptedPacks: 0,
    waiting: [],
    sweptIncomplete: { count: 0, bytes: 0 },
    deletedPackLists: 0,
    deletedLayoutLists: 0,
    refreshedLists: 0,
    retainedPacks: 0,
  };

  // 1. Which earlier markers may be acted on: those no live archive can have missed. Leases are
  //    listed before the live set is computed, so every archive that ended has its snapshot in it.
  if (!dryRun) report.expiredLeases = await removeExpiredLeases(repo, options.clock, options.identity);
  // A put in progress renames its temp file within seconds; one a day old belongs to a writer
  // that died, and nothing will ever read it.
  if (!dryRun && repo.store.sweepIncomplete) {
    report.sweptIncomplete = await repo.store.sweepIncomplete(new Date(options.clock.now().getTime() - INCOMPLETE_PUT_GRACE_MS));
  }
  // Orphan packs become indexed packs first, so this run judges them like any other.
  if (!dryRun) report.adoptedPacks = await adoptOrphanPacksUnderLease(repo);
  const markers = await repo.loadMarkers();
  const ready = await readyMarkers(repo, options, markers, dryRun, report);

  // 2. What the snapshots need now.
  const { live, snapshots, entries } = await computeLiveSet(repo, pool);
  report.snapshots = snapshots;
  report.liveBlobs = live.count;

  // 3. Delete what ready markers condemned and nothing needs.
  const condemned = new Set(markers.flatMap((m) => m.marker.packs));
  if (!dryRun) for (const m of ready) await deleteCondemned(repo, m, live, await repo.buildIndex(condemned), report);
  const stillCondemned = new Set((await repo.loadMarkers()).flatMap((m) => m.marker.packs));

  // 4. Condemn unneeded packs, repacking the mostly-dead ones first. The copies in packs a
  //    layout list names are the ones kept, the newest snapshot's first: they are where
  //    restores of those snapshots read (read-lists.ts).
  const { lists, deletedLayouts } = await loadReadLists(repo, entries, dryRun);
  report.deletedLayoutLists = deletedLayouts;
  const plan = await planCondemnation(repo, live, stillCondemned, repackBelow, report, claimOrder(lists));
  const lock = objectLockOf(repo.store);
  // What is live keeps its retention ahead of the clock; garbage is left to run out.
  if (lock && !dryRun) report.retention = await extendLiveRetention(lock, plan.keep, options.clock);
  if (dryRun || plan.condemn.length === 0) return report;
  const keep = await claimKept(repo, plan.keep, live);
  const moved = new Copies();
  if (plan.repack.length > 0) {
    const repacker = new PackRepacker(repo, pool, undefined, (p) => moved.add(p, live));
    for (const pack of plan.repack) await repacker.copy(pack, (ids, o) => live.find(ids, o) >= 0 && keep.find(ids, o) === undefined);
    await repacker.close();
  }
  // Every copy kept is stored and indexed: the lists naming a condemned pack may now name them.
  const doomed = new Map(plan.condemn.map((p) => [p.packId, p]));
  report.refreshedLists = await refreshReadLists(repo, await withOwnLists(repo, lists), doomed, (ids, o) => {
    const owner = plan.claims.find(ids, o);
    return owner && !doomed.has(owner.packId) ? owner : (moved.find(ids, o) ?? keep.find(ids, o));
  });
  const entry = await writeMarker(repo, options.clock, plan.condemn);

  // 5. With no archive running, delete at once (against a live set taken after the lease check).
  const leases = await liveLeases(repo, options.clock, 'archive', options.identity);
  entry.marker.blockingLeases = leases.map((l) => l.id);
  await repo.store.put(entry.key, encodeEnvelope(encodeMarker(entry.marker), repo.keys.enc));
  if (leases.length > 0) {
    report.waiting.push({ marker: entry.key, packs: entry.marker.packs.length, archives: leases.length });
    return report;
  }
  const fresh = await computeLiveSet(repo, pool);
  const allCondemned = new Set([...stillCondemned, ...entry.marker.packs]);
  await deleteCondemned(repo, entry, fresh.live, await repo.buildIndex(allCondemned), report);
  return report;
}

/** Fills in blocking leases where missing; returns the markers no live archive blocks. */
async function readyMarkers(repo: Repository, options: PruneOptions, markers: MarkerEntry[], dryRun: boolean, report: PruneReport): Promise<MarkerEntry[]> {
  // Archives only: this prune's own lease must not block it (and no other prune runs).
  const live = new Set((await liveLeases(repo, options.clock, 'archive', options.identity)).map((l) => l.id));
  const ready: MarkerEntry[] = [];
  for (const m of markers) {
    if (m.marker.blockingLeases === null) {
      // Anyone who could have missed this marker is running now, so now's leases are the list.
      m.marker.blockingLeases = [...live];
      if (!dryRun) await repo.store.put(m.key, encodeEnvelope(encodeMarker(m.marker), repo.keys.enc));
    }
    const blocking = m.marker.blockingLeases.filter((id) => live.has(id)).length;
    if (blocking === 0) ready.push(m);
    else report.waiting.push({ marker: m.key, packs: m.marker.packs.length, archives: blocking });
  }
  return ready;
}

/**
 * Deletes each condemned pack unless a live blob exists only there (a snapshot written by an
 * archive that started before the marker) or Object Lock retention still holds it. The packs leave the index first, so no reader ever
 * finds an index entry for a missing pack. Then the marker goes.
 */
async function deleteCondemned(repo: Repository, m: MarkerEntry, live: IdTable, others: BlobIndex, report: PruneReport): Promise<void> {
  const doomed: { packId: string; packLength: number }[] = [];
  for (const packId of m.marker.packs) {
    const pack = await repo.describePack(packId);
    if (!pack) continue; // deleted by an earlier, interrupted run
    if (needsPack(pack, live, others)) {
      report.reprievedPacks++;
      continue;
    }
    const until = await objectLockOf(repo.store)?.retainedUntil(packKey(packId));
    if (until) {
      // Still indexed and stored: archives may use it again, and the first prune after its
      // date condemns it anew if nothing does.
      report.retainedPacks++;
      if (!report.retainedUntil || until.toISOString() > report.retainedUntil) report.retainedUntil = until.toISOString();
      continue;
    }
    doomed.push({ packId, packLength: pack.packLength });
  }
  await dropPacksFromIndex(repo, new Set(doomed.map((p) => p.packId)));
  for (const { packId, packLength } of doomed) {
    await repo.store.delete(packKey(packId));
    report.deletedPacks++;
    report.freedBytes += packLength;
  }
  await repo.store.delete(m.key);
}

function needsPack(pack: IndexedPack, live: IdTable, others: BlobIndex): boolean {
  for (const f of pack.frames) {
    for (let o = 0; o < f.ids.byteLength; o += ID_BYTES) if (live.find(f.ids, o) >= 0 && !others.has(f.ids, o)) return true;
  }
  return false;
}

interface Plan {
  condemn: IndexedPack[];
  repack: IndexedPack[];
  keep: string[];
  /** Each live blob and the pack whose copy of it is kept (or repacked, when that pack is condemned). */
  claims: Copies;
}

async function planCondemnation(
  repo: Repository,
  live: IdTable,
  skip: Set<string>,
  repackBelow: number,
  report: PruneReport,
  preferred: readonly string[],
): Promise<Plan> {
  const plan: Plan = { condemn: [], repack: [], keep: [], claims: new Copies() };
  // A live blob is needed in one pack only: a second copy (two writers stored it at once, a
  // repack died before condemning its source, or locality maintenance copied it) counts as dead
  // space, so duplicates drain away. Packs that layout lists name claim their blobs first, in
  // the order given; every other pack claims what is left, in index order.
  if (preferred.length > 0) {
    const byId = new Map<string, IndexedPack>();
    const wanted = new Set(preferred);
    for await (const pack of repo.indexedPacks()) if (wanted.has(pack.packId) && !skip.has(pack.packId)) byId.set(pack.packId, pack);
    for (const packId of preferred) {
      const pack = byId.get(packId);
      if (pack) plan.claims.add(pack, live);
    }
  }
  for await (const pack of repo.indexedPacks()) {
    if (skip.has(pack.packId)) continue;
    report.packs++;
    plan.claims.add(pack, live);
    let total = 0;
    let needed = 0;
    for (const f of pack.frames) {
      for (let i = 0; i < f.lengths.length; i++) {
        total += f.lengths[i]!;
        if (plan.claims.find(f.ids, i * ID_BYTES)?.packId === pack.packId) needed += f.lengths[i]!;
      }
    }
    if (needed > 0 && needed >= total * repackBelow) {
      plan.keep.push(pack.packId);
      continue;
    }
    if (needed > 0) {
      plan.repack.push(pack);
      report.repackedPacks++;
      report.repackedBytes += needed;
    }
    plan.condemn.push(pack);
    report.condemnedPacks++;
    report.condemnedBytes += pack.packLength;
  }
  return plan;
}

/** Live blobs already held by packs that stay: repacking need not copy those. */
async function claimKept(repo: Repository, keep: string[], live: IdTable): Promise<Copies> {
  const kept = new Copies();
  const keepSet = new Set(keep);
  for await (const pack of repo.indexedPacks()) if (keepSet.has(pack.packId)) kept.add(pack, live);
  return kept;
}

async function writeMarker(repo: Repository, clock: Clock, packs: IndexedPack[]): Promise<MarkerEntry> {
  const marker: DeletionMarker = { version: 1, created: clock.now().toISOString(), packs: packs.map((p) => p.packId), blockingLeases: null };
  const key = pruneMarkerKey(randomBytes(16).toString('hex'));
  await repo.store.put(key, encodeEnvelope(encodeMarker(marker), repo.keys.enc));
  return { key, marker };
}

/**
 * Deletes the pack lists no snapshot names. Only when no archive runs: an archive stores its
 * pack list before its snapshot, and its lease before either. The lists are listed before the
 * leases and the snapshots after them, so every list from the listing whose archive ended has
 * its snapshot in the snapshot listing. (Deleting a list a snapshot names would cost only
 * speed: a restore then falls back to the whole index.)
 */
async function removeUnreferencedPackLists(repo: Repository, clock: Clock, identity?: ProcessIdentity): Promise<number> {
  const lists = (await collect(repo.store.list(PACK_LISTS_PREFIX))).map((o) => o.key);
  if (lists.length === 0 || (await liveLeases(repo, clock, 'archive', identity)).length > 0) return 0;
  const named = new Set<string>();
  for (const e of await repo.listSnapshots({ strict: true })) if (e.snapshot.packList) named.add(packListKey(e.snapshot.packList));
  let deleted = 0;
  for (const key of lists) {
    if (named.has(key)) continue;
    await repo.store.delete(key);
    deleted++;
  }
  return deleted;
}
