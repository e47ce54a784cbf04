/**
 * The live set: every blob id some snapshot's manifest references (data chunks and the manifest
 * nodes themselves). Nodes are content-addressed and shared between snapshots, so a subtree
 * already seen is not walked again: the cost grows with what changed, not with snapshot count.
 */
import type { CodecPool } from '../parallel/codec-pool.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { fromHex } from '../format/ids.js';
import { CorruptDataError } from '../errors.js';
import { IdTable } from '../content/id-table.js';
import { createNodeLoader } from '../manifest/node-loader.js';
import { walkTree } from '../manifest/tree-walk.js';
import type { Repository } from './repository.js';

export interface LiveSet {
  live: IdTable;
  snapshots: number;
  /** The ids of the snapshots walked. */
  ids: Set<string>;
  /** The snapshots walked, oldest first. */
  entries: SnapshotEntry[];
}

/**
 * Lists the snapshots first and only then reads the index afresh (every pack, condemned ones
 * included): each listed snapshot was stored after all its packs and index objects, so the
 * index read afterwards covers every node the walk needs, however many archives committed
 * since the caller last loaded an index.
 */
export async function computeLiveSet(repo: Repository, pool: CodecPool): Promise<LiveSet> {
  let snapshots;
  try {
    snapshots = await repo.listSnapshots({ strict: true });
  } catch (err) {
    if (!(err instanceof CorruptDataError)) throw err;
    const id = err.site.snapshotId;
    throw new CorruptDataError(
      `prune stopped: ${err.message}. Data is never treated as unreferenced while a snapshot that may reference it is unreadable; remove the damaged snapshot with \`snapfleet forget ${id ?? 'ID'}\` first`,
      err.site,
      { cause: err },
    );
  }
  const live = new IdTable();
  const load = createNodeLoader(repo, pool, 'corrupt', await repo.buildIndex());
  for (const { snapshot } of snapshots) {
    await walkTree(fromHex(snapshot.tree.root), snapshot.tree.height, load, {
      node: (id) => live.add(id, 0),
      leaf: (id) => void live.add(id, 0),
    });
  }
  return { live, snapshots: snapshots.length, ids: new Set(snapshots.map((s) => s.id)), entries: snapshots };
}
