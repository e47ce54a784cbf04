/**
 * `repair index`: rebuilds the index from the packs' own headers. Every pack the store lists
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
import { CorruptDataError, NotFoundError } from '../errors.js';
import { DATA_PREFIX, idFromKey } from '../format/layout.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import { acquireExclusiveLease } from './leases.js';
import { dropPacksFromIndex } from './index-compaction.js';
import { forEachIndexObject, readIndexObject } from './index-objects.js';
import type { Repository } from './repository.js';

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
    if (err instanceof CorruptDataError) return false;
    throw err;
  }
}

async function repairIndexUnderLease(repo: Repository): Promise<IndexRepairReport> {
  const present = new Set((await collect(repo.store.list(DATA_PREFIX))).map((o) => idFromKey(o.key)).filter((id): id is string => id !== undefined));
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
  // Condemned packs are prune's to delete: not adopted (as orphan adoption does).
  const condemned = await repo.condemnedPacks();
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
  return { damagedObjects: damagedObjects.sort(), adoptedPacks, droppedPacks, unreadablePacks };
}
