/**
 * Index compaction: merges the small index objects archives write (one per pack) into objects of
 * about COMPACT_TARGET_BLOBS blobs each, so that opening a repository costs a few large reads
 * instead of one read per pack. Also the one place that drops packs from the index for prune,
 * since a pack may now be listed by an object that lists others too.
 *
 * Both run under the exclusive prune lease (docs/format.md, "Index compaction"): prune deletes
 * and rewrites index objects, and two writers rewriting the same objects could each delete what
 * the other just merged.
 */
import type { Clock } from '../ports/clock.js';
import type { ProcessIdentity } from '../ports/process-identity.js';
import type { IndexedPack } from '../format/index-object.js';
import { ID_BYTES } from '../format/ids.js';
import { COMPACTED_INDEX_VERSION } from '../format/codec-ids.js';
import { InvalidInputError } from '../errors.js';
import { mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { acquireExclusiveLease } from './leases.js';
import { improveLocalityUnderLease, validateLocalityOptions, type LocalityOptions, type LocalityReport } from './locality.js';
import { adoptOrphanPacksUnderLease } from './orphan-adoption.js';
import { forEachIndexObject, listIndexObjects, readIndexObject, writeIndexObject, type IndexObjectSource } from './index-objects.js';
import type { Repository } from './repository.js';

/**
 * Blobs per compacted object: 512 Ki entries is ~18 MiB of index payload (36 bytes a blob), the
 * index of 2 GiB of unique 4 KiB chunks. Large enough that 32 GiB of chunks open with 16 reads;
 * small enough that writing or reading one stays a modest, bounded amount of memory.
 */
export const COMPACT_TARGET_BLOBS = 512 * 1024;

/**
 * Stored bytes per blob in an index object: its 32-byte id and 4-byte length (frame entries
 * add ~0.2 bytes a blob; random ids do not compress). Used to tell full objects by their size
 * from a listing, without reading them.
 */
const INDEX_BYTES_PER_BLOB = ID_BYTES + 4;

export interface CompactionOptions {
  /** Blobs per merged object. @defaultValue COMPACT_TARGET_BLOBS */
  targetBlobs?: number;
}

/** Small objects read at once while merging: a few batches' worth of reads in flight. */
const MERGE_READ_BATCH = 64;

export interface CompactionReport {
  /** Index objects before and after. */
  objectsBefore: number;
  objectsAfter: number;
  /** Small objects merged (read, then deleted) and merged objects written. */
  merged: number;
  written: number;
  /** Packs and blobs the written objects describe. */
  packs: number;
  blobs: number;
}

/** What `maintenance` did: orphan packs adopted, locality, then the compaction. */
export interface MaintenanceReport extends CompactionReport {
  /** Packs stored without an index object that this run wrote one for (engine/orphan-adoption.ts). */
  adoptedPacks: number;
  /** The newest snapshot of each volume assessed, and relocated where scattered (engine/locality.ts). */
  locality?: LocalityReport;
}

export interface MaintenanceOptions extends CompactionOptions {
  clock: Clock;
  hostname?: string;
  identity?: ProcessIdentity;
  /** With a codec pool, locality maintenance runs too (before compaction, which then merges the new packs' index objects). */
  pool?: CodecPool;
  locality?: LocalityOptions;
}

/**
 * `snapfleet maintenance`: under the exclusive prune lease, adoption of orphan packs (their
 * index objects are then merged with the rest), then compaction.
 */
export async function compactIndex(repo: Repository, options: MaintenanceOptions): Promise<MaintenanceReport> {
  if (repo.formatVersion < COMPACTED_INDEX_VERSION) {
    throw new InvalidInputError(
      `repository ${repo.store.location} is at format version ${repo.formatVersion}: its index can be compacted from version ${COMPACTED_INDEX_VERSION} on; upgrade it with \`snapfleet migrate\` first (snapfleet releases older than format ${COMPACTED_INDEX_VERSION} can no longer open it then)`,
      'repo',
    );
  }
  if (options.locality) validateLocalityOptions(options.locality);
  const lease = await acquireExclusiveLease(repo, options.clock, 'prune', {
    ...(options.hostname ? { hostname: options.hostname } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  try {
    const adoptedPacks = await adoptOrphanPacksUnderLease(repo);
    const locality = options.pool ? await improveLocalityUnderLease(repo, options.pool, options.locality ?? {}, () => lease.assertHeld()) : undefined;
    const report = await compactIndexUnderLease(repo, options.targetBlobs ? { targetBlobs: options.targetBlobs } : {});
    lease.assertHeld();
    return { adoptedPacks, ...report, ...(locality ? { locality } : {}) };
  } finally {
    await lease.release();
  }
}

function blobCount(pack: IndexedPack): number {
  let n = 0;
  for (const f of pack.frames) n += f.lengths.length;
  return n;
}

/**
 * Merges every index object smaller than half the target. A merged object is stored before the
 * inputs it covers are deleted, so a reader at any moment finds every pack in at least one
 * object; a crash in between leaves packs listed twice (readers take each pack once). The
 * caller holds the prune lease.
 */
export async function compactIndexUnderLease(repo: IndexObjectSource, options: CompactionOptions = {}): Promise<CompactionReport> {
  const target = options.targetBlobs ?? COMPACT_TARGET_BLOBS;
  // An object of at least half the target is left alone: rewriting it would gain little.
  const fullBytes = (target / 2) * INDEX_BYTES_PER_BLOB;
  const objects = await listIndexObjects(repo);
  const small = objects.filter((o) => o.size < fullBytes).sort((a, b) => a.key.localeCompare(b.key));
  const report: CompactionReport = { objectsBefore: objects.length, objectsAfter: objects.length, merged: 0, written: 0, packs: 0, blobs: 0 };
  if (small.length < 2) return report;

  // Inputs whose packs are all in the batch or in objects already stored: each batch's inputs
  // go right after it is stored, so a crash leaves at most one batch's packs listed twice.
  let done: string[] = [];
  const seen = new Set<string>();
  let batch: IndexedPack[] = [];
  let batchBlobs = 0;
  const flush = async () => {
    if (batch.length > 0) {
      await writeIndexObject(repo, batch);
      report.written++;
      report.packs += batch.length;
      report.blobs += batchBlobs;
    }
    await mapLimit(done, METADATA_READS_IN_FLIGHT, (key) => repo.store.delete(key));
    report.merged += done.length;
    batch = [];
    batchBlobs = 0;
    done = [];
  };
  for (let i = 0; i < small.length; i += MERGE_READ_BATCH) {
    const keys = small.slice(i, i + MERGE_READ_BATCH).map((o) => o.key);
    const read = await mapLimit(keys, METADATA_READS_IN_FLIGHT, (key) => readIndexObject(repo, key));
    for (let k = 0; k < keys.length; k++) {
      const packs = read[k];
      if (!packs) continue; // gone already: nothing to merge
      for (const p of packs) {
        if (seen.has(p.packId)) continue;
        seen.add(p.packId);
        batch.push(p);
        batchBlobs += blobCount(p);
        if (batchBlobs >= target) await flush();
      }
      done.push(keys[k]!);
    }
  }
  await flush();
  report.objectsAfter = objects.length - report.merged + report.written;
  return report;
}

/**
 * Removes `packIds` from the index before prune deletes those packs: an object listing only
 * doomed packs is deleted; one listing others too is replaced by an object listing the others
 * (stored first, then the old one deleted). Returns the number of objects changed. The caller
 * holds the prune lease.
 */
export async function dropPacksFromIndex(repo: IndexObjectSource, packIds: ReadonlySet<string>, options: { skipDamaged?: boolean } = {}): Promise<number> {
  if (packIds.size === 0) return 0;
  // Keys first, then one object at a time: compacted objects are large, and holding every
  // affected one at once would grow with the repository.
  const affected: string[] = [];
  await forEachIndexObject(
    repo,
    (packs, key) => {
      if (packs.some((p) => packIds.has(p.packId))) affected.push(key);
    },
    METADATA_READS_IN_FLIGHT,
    // A repair leaves damaged index objects to `repair index`, which deletes them.
    options.skipDamaged ? () => {} : undefined,
  );
  for (const key of affected) {
    const packs = await readIndexObject(repo, key);
    if (!packs) continue;
    const keep = packs.filter((p) => !packIds.has(p.packId));
    if (keep.length > 0) await writeIndexObject(repo, keep);
    await repo.store.delete(key);
  }
  return affected.length;
}
