/**
 * Adoption of orphan packs: packs stored without an index object, left by a writer killed
 * between the two puts (docs/format.md, ordering invariant 3). Their headers are read from the
 * tail and the index object the writer would have written is stored, so their blobs are reused
 * and prune can judge them like any other pack.
 *
 * It runs where the whole repository is walked anyway, under the prune lease: at the start of
 * every prune and of every `maintenance`. Archives do not do it: finding orphans takes a listing
 * of every pack, and an archive's open must not cost in proportion to the repository. A kill
 * leaves at most the packs that were in flight, so an archive that runs before the next
 * maintenance stores those few packs' blobs again, and prune drains the second copy.
 */
import type { Repository } from './repository.js';
import { removedDamagedPacks } from './damage-records.js';

/** Adopts every orphan pack but the condemned; returns how many. The caller holds the prune lease. */
export async function adoptOrphanPacksUnderLease(repo: Repository): Promise<number> {
  // Condemned packs are prune's to delete; damaged packs repair took out stay out (Object Lock
  // may keep one stored until its date).
  const condemned = await repo.condemnedPacks();
  for (const packId of await removedDamagedPacks(repo)) condemned.add(packId);
  // The host's table knows every indexed pack without loading the index; without one, the
  // packs' ids alone are collected (one index object in memory at a time).
  const table = await repo.dedupCache?.open(repo.indexObjectView(), { exclude: condemned });
  try {
    let indexed: (packId: string) => boolean;
    if (table) {
      indexed = (packId) => table.hasPack(packId);
    } else {
      const ids = new Set<string>();
      for await (const pack of repo.indexedPacks()) ids.add(pack.packId);
      indexed = (packId) => ids.has(packId);
    }
    let adopted = 0;
    await repo.adoptOrphanPacks(
      (packId) => indexed(packId) || condemned.has(packId),
      () => void adopted++,
    );
    return adopted;
  } finally {
    await table?.close();
  }
}
