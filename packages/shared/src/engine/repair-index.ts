/**
 * `repair index`: rebuilds the index from the packs' own headers, and clears away the other
 * metadata that does not read and that nothing needs (pack and layout lists, markers, records). Every pack the store lists
 * that no intact index object describes gets the index object an archive would have written
 * (its header read from its tail); entries of packs the store no longer has are dropped, so
 * archives stop deduplicating against them and readers stop looking for them; damaged index
 * objects are deleted last, once everything they described is described again.
 *
 * Each step stores before it deletes, so a run killed anywhere leaves every present pack
 * described at least once (or, before its adoption, as it was), and a second run finishes the
 * work. It holds the exclusive prune lease: prune and compaction rewrite the same objects.
 */
import type { Clock } from '../ports/clock.js';
import type { ProcessIdentity } from '../ports/process-identity.js';
import { CorruptDataError, isSnapfleetError, NotFoundError, PermanentError } from '../errors.js';
import { decodeEnvelope } from '../format/envelope.js';
import { decodeMarker } from '../format/deletion-marker.js';
import { decodeDamageRecord } from '../format/damage-record.js';
import { decodePackList, PACK_LISTS_PREFIX } from '../format/pack-list.js';
import { LAYOUTS_PREFIX } from '../format/layout-list.js';
import { DAMAGED_PREFIX, DATA_PREFIX, PRUNE_PREFIX, idFromKey } from '../format/layout.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import { acquireExclusiveLease } from './leases.js';
import { dropPacksFromIndex } from './index-compaction.js';
import { forEachIndexObject, readIndexObject } from './index-objects.js';
import type { Repository } from './repository.js';
import { removedDamagedPacks } from './damage-records.js';

export interface RepairOptions {
  clock: Clock;
  hostname?: string;
  identity?: ProcessIdentity;
}

export interface IndexRepairReport {
  /** Index objects that did not decode, deleted once their packs were described again. */
  damagedObjects: string[];
  /** Packs without an intact index object that got one from their own header. */
  adoptedPacks: number;
  /** Packs the index named that the store no longer has, dropped from the index. */
  droppedPacks: string[];
  /** Packs without an index object whose header does not read either: for `repair packs`. */
  unreadablePacks: string[];
  /**
   * Other objects that do not read and that nothing needs, deleted: pack and layout lists (hints:
   * restores fall back to the index), deletion markers (this lease keeps prune out, and a prune
   * could not act on one it cannot read), damage records.
   */
  deletedObjects: string[];
}

export async function repairIndex(repo: Repository, options: RepairOptions): Promise<IndexRepairReport> {
  const lease = await acquireExclusiveLease(repo, options.clock, 'prune', {
    ...(options.hostname ? { hostname: options.hostname } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  try {
    const report = await repairIndexUnderLease(repo);
    lease.assertHeld();
    return report;
  } finally {
    await lease.release();
  }
}

async function decodes(repo: Repository, key: string): Promise<boolean> {
  try {
    return (await readIndexObject(repo, key)) !== undefined;
  } catch (err) {
    if (err instanceof CorruptDataError || err instanceof PermanentError) return false;
    throw err;
  }
}

async function repairIndexUnderLease(repo: Repository): Promise<IndexRepairReport> {
  // The index before the packs: an archive stores a pack, then its index object, so every pack
  // an index object read here describes is in the listing that follows unless it is really
  // gone. The other order would drop the entries of a pack an archive stored in between.
  const indexed = new Set<string>();
  const damagedObjects: string[] = [];
  await forEachIndexObject(
    repo,
    (packs) => {
      for (const p of packs) indexed.add(p.packId);
    },
    METADATA_READS_IN_FLIGHT,
    (key) => damagedObjects.push(key),
  );
  const present = new Set((await collect(repo.store.list(DATA_PREFIX))).map((o) => idFromKey(o.key)).filter((id): id is string => id !== undefined));
  // Condemned packs are prune's to delete, and damaged ones `repair packs` took out stay out:
  // not adopted (as orphan adoption does).
  const condemned = await repo.condemnedPacks();
  for (const packId of await removedDamagedPacks(repo)) condemned.add(packId);
  let adoptedPacks = 0;
  const adopted = new Set<string>();
  await repo.adoptOrphanPacks(
    (packId) => indexed.has(packId) || condemned.has(packId),
    (pack) => {
      adoptedPacks++;
      adopted.add(pack.packId);
    },
  );
  const unreadablePacks = [...present].filter((id) => !indexed.has(id) && !condemned.has(id) && !adopted.has(id)).sort();
  const droppedPacks = [...indexed].filter((id) => !present.has(id)).sort();
  // A pack listed now but gone by the time it is dropped was deleted by no one but a prune,
  // which this lease keeps out; a pack that appears after the listing is an archive's, and
  // is indexed by it.
  await dropPacksFromIndex(repo, new Set(droppedPacks), { skipDamaged: true });
  await mapLimit(damagedObjects, METADATA_READS_IN_FLIGHT, async (key) => {
    // A damaged object named after its pack was replaced in place by the adoption above.
    if (await decodes(repo, key)) return;
    try {
      await repo.store.delete(key);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  });
  const deletedObjects = await deleteDamagedHints(repo);
  return { damagedObjects: damagedObjects.sort(), adoptedPacks, droppedPacks, unreadablePacks, deletedObjects };
}

/** Deletes the pack lists, layout lists, markers and damage records that do not decode. */
async function deleteDamagedHints(repo: Repository): Promise<string[]> {
  const checks: [string, (bytes: Buffer, key: string) => unknown][] = [
    [PACK_LISTS_PREFIX, (b, key) => decodePackList(b, key)],
    [LAYOUTS_PREFIX, (b, key) => decodePackList(b, key)],
    [PRUNE_PREFIX, (b, key) => decodeMarker(b, key)],
    [DAMAGED_PREFIX, (b, key) => decodeDamageRecord(b, key)],
  ];
  const deleted: string[] = [];
  for (const [prefix, decode] of checks) {
    const keys = (await collect(repo.store.list(prefix))).map((o) => o.key);
    await mapLimit(keys, METADATA_READS_IN_FLIGHT, async (key) => {
      try {
        decode(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key);
        return;
      } catch (err) {
        if (err instanceof NotFoundError) return;
        if (!isSnapfleetError(err) || err.retryable) throw err; // damage, or junk claiming a newer version
      }
      await repo.store.delete(key);
      deleted.push(key);
    });
  }
  return deleted.sort();
}
