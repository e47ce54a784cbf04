/**
 * The index as an archive sees it (the write view): every indexed blob but those only in packs
 * prune has condemned or that were found damaged. Packs whose writer died before their index object are not looked for
 * here (that takes a listing of every pack): prune and maintenance adopt them
 * (engine/orphan-adoption.ts).
 *
 * With the host's table (ports/dedup-index.ts) lookups go to local files and the archive's
 * memory does not depend on what the repository holds; without one the index is loaded into
 * memory, as every release before the table did.
 */
import type { DedupIndex, DedupIndexStats } from '../ports/dedup-index.js';
import type { Repository } from './repository.js';

export interface WriteIndex extends Pick<DedupIndex, 'find'> {
  /**
   * DedupIndex.findMany, on the host table only: in memory a lookup is cheaper than handing a
   * batch to another thread, so the archive asks `find` in turn.
   */
  findMany?: DedupIndex['findMany'];
  /** The host table's figures, or undefined when the index was loaded into memory. */
  readonly table: DedupIndexStats | undefined;
  /**
   * Packs nothing new may depend on: those prune has condemned (deletion markers) and those
   * found damaged (damage records), as read when the view was opened.
   */
  readonly condemned: ReadonlySet<string>;
  /** Lookups made so far (`find` calls and ids given to `findMany`). */
  readonly lookups: number;
  close(): Promise<void>;
}

/** Opens the write view; call it with the archive's lease held (docs/format.md, "Concurrency"). */
export async function openWriteIndex(repo: Repository): Promise<WriteIndex> {
  // A damaged pack is left out like a condemned one: its blobs are stored afresh rather than
  // referenced again (docs/format.md, "Damage records").
  const condemned = await repo.excludedPacks();
  const table = await repo.dedupCache?.open(repo.indexObjectView(), { exclude: condemned });
  if (!table) {
    const index = await repo.loadIndex({ view: 'write' });
    return counted({ find: (ids, offset) => index.find(ids, offset), table: undefined, condemned, close: async () => {} });
  }
  return counted({
    find: (ids, offset) => table.find(ids, offset),
    findMany: (ids, offsets) => table.findMany(ids, offsets),
    table: table.stats,
    condemned,
    close: () => table.close(),
  });
}

function counted(view: Omit<WriteIndex, 'lookups'>): WriteIndex {
  let lookups = 0;
  return {
    ...view,
    find: (ids, offset) => {
      lookups++;
      return view.find(ids, offset);
    },
    ...(view.findMany
      ? {
          findMany: (ids: Uint8Array, offsets: Uint32Array) => {
            lookups += offsets.length;
            return view.findMany!(ids, offsets);
          },
        }
      : {}),
    get lookups() {
      return lookups;
    },
  };
}
