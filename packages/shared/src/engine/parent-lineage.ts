/**
 * What an archive takes from its parent snapshot: the parent's chunk ids by position (its
 * manifest), so that a chunk equal to the parent's at the same place needs no index lookup, and
 * the parent's pack list, which the new snapshot takes over for those chunks instead of looking
 * up the pack of each. For a volume of N chunks of which a few changed, the archive then looks
 * up only the changed ones: its cost follows the change, not the volume or the repository.
 *
 * Taking the list over is safe when none of its packs is condemned and the parent snapshot
 * still exists after the archive read the deletion markers. A prune that condemned a pack before
 * then had the parent to plan with, so it moved the parent's blobs out first (or reprieves the
 * pack), even those in packs the list does not name (it may be stale: a blob repacked since);
 * a prune that condemns later finds the archive's lease and keeps what its snapshot needs
 * (docs/format.md, "Garbage collection", rules 1 and 3). Otherwise the shared chunks are looked
 * up like any other. The list is a hint for restore, so one that names packs the snapshot no
 * longer uses costs reads, never correctness; once it has grown past twice what the volume can
 * fill it is not taken over, and the archive looks its chunks up, writing an exact list again.
 */
import type { CodecPool } from '../parallel/codec-pool.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import type { ListedPack } from '../format/pack-list.js';
import { fromHex } from '../format/ids.js';
import { snapshotKey } from '../format/layout.js';
import { CorruptDataError, NotFoundError } from '../errors.js';
import { TreeReader } from '../manifest/tree-reader.js';
import { chunkCount } from '../format/tree-shape.js';
import { createNodeLoader } from '../manifest/node-loader.js';
import { loadSnapshotIndex, snapshotPackList } from './snapshot-index.js';
import type { Repository } from './repository.js';

/** Packs a list may hold beyond twice what the volume fills before it is rebuilt exactly. */
const LIST_SLACK_PACKS = 16;

export interface ParentLineage {
  /** The parent's chunk count: chunks past it have no parent. */
  readonly chunks: number;
  /**
   * The parent's chunk ids [start, start + count), clipped to its size; undefined when its
   * manifest cannot be read now (a node in a pack prune deleted since): then nothing is shared.
   */
  read(start: number, count: number): Promise<Uint8Array | undefined>;
  /** The parent's pack list when the new snapshot may take it over (see above), else undefined. */
  readonly inherited: ListedPack[] | undefined;
  /** Releases what reading the manifest opened (the host index table, if a lookup needed it). */
  close(): Promise<void>;
}

export async function openParentLineage(
  repo: Repository,
  pool: CodecPool,
  parent: SnapshotEntry,
  options: { condemned: ReadonlySet<string>; sizeBytes: number; packSize: number },
): Promise<ParentLineage | undefined> {
  const p = parent.snapshot;
  if (p.chunkSize !== repo.chunkSize) return undefined;
  const chunks = chunkCount(p.sizeBytes, p.chunkSize);
  // The manifest's nodes: from the index loaded into memory, or else from the map frames of the
  // packs the parent's list names (what a restore of it reads), never from the whole index.
  const nodes = repo.dedupCache ? await loadSnapshotIndex(repo, parent, { mapsOnly: true }) : undefined;
  const loader = nodes ? createNodeLoader(repo, pool, 'unavailable', nodes.index, nodes.ensure) : createNodeLoader(repo, pool, 'unavailable');
  const reader = new TreeReader(fromHex(p.tree.root), p.tree.height, chunks, loader);
  const list = await snapshotPackList(repo, parent);
  const fits = (l: ListedPack[]) => l.length <= 2 * Math.ceil(options.sizeBytes / options.packSize) + LIST_SLACK_PACKS;
  const inherited = list && fits(list) && !list.some((x) => options.condemned.has(x.packId)) && (await stillExists(repo, parent)) ? list : undefined;
  return {
    chunks,
    inherited,
    close: async () => nodes?.close(),
    read: async (start, count) => {
      const n = Math.min(count, chunks - start);
      if (n <= 0) return undefined;
      try {
        return await reader.read(start, n);
      } catch (err) {
        // Not in the write view (a condemned or damaged pack), or damaged: the block is read
        // afresh rather than copied from a parent that cannot be trusted there.
        if (err instanceof NotFoundError || err instanceof CorruptDataError) return undefined;
        throw err;
      }
    },
  };
}

/** Whether the snapshot object is still stored (under either key it may have). */
async function stillExists(repo: Repository, entry: SnapshotEntry): Promise<boolean> {
  for (const key of [snapshotKey(entry.id, repo.volumeKey(entry.snapshot.volumeId)), snapshotKey(entry.id)]) {
    if (await repo.store.stat(key)) return true;
  }
  return false;
}
