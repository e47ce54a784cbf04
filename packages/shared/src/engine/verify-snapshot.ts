/**
 * Verify of one snapshot: proves that it can be restored, at the cost of that snapshot alone.
 * Its manifest is walked through the snapshot-scoped index (snapshot-index.ts): every node and
 * chunk id must be found in a pack, and the packs that hold them are read back and every blob in
 * them checked against its id. Nothing else in the repository is read, unless the pack list is
 * stale (prune moved blobs since), in which case the moved blobs are found through the index.
 */
import type { CodecPool } from '../parallel/codec-pool.js';
import { fromHex, isHole, toHex } from '../format/ids.js';
import { packKey } from '../format/layout.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { idKeyOf } from '../content/blob-index.js';
import { createNodeLoader } from '../manifest/node-loader.js';
import { walkTree } from '../manifest/tree-walk.js';
import { loadSnapshotIndex, type ScopedIndex } from './snapshot-index.js';
import { isDataVerdict, locate, readBack, type Problem, type VerifyOptions, type VerifyReport } from './verify.js';
import type { Repository } from './repository.js';

export async function verifySnapshot(repo: Repository, pool: CodecPool, entry: SnapshotEntry, options: VerifyOptions = {}): Promise<VerifyReport> {
  const scoped = await loadSnapshotIndex(repo, entry);
  try {
    return await verifyWith(repo, pool, entry, options, scoped);
  } finally {
    await scoped.close();
  }
}

async function verifyWith(repo: Repository, pool: CodecPool, entry: SnapshotEntry, options: VerifyOptions, scoped: ScopedIndex): Promise<VerifyReport> {
  const { snapshot } = entry;
  const load = createNodeLoader(repo, pool, 'corrupt', scoped.index, scoped.ensure);
  const problems: Problem[] = scoped.damaged.map((d) => ({ kind: 'corrupt-pack' as const, object: packKey(d.packId), message: `pack ${d.packId}: header unreadable: ${d.message}`, affected: [] }));
  const unlisted = new Map<string, Uint8Array>();
  try {
    await walkTree(fromHex(snapshot.tree.root), snapshot.tree.height, load, {
      leaf: (id) => {
        if (!isHole(id, 0) && !scoped.index.has(id, 0)) unlisted.set(idKeyOf(id), Buffer.from(id));
      },
    });
  } catch (err) {
    if (!isDataVerdict(err)) throw err;
    problems.push({ kind: 'corrupt-manifest', message: `snapshot ${entry.id}: ${err.message}`, affected: [{ snapshotId: entry.id, volumeId: snapshot.volumeId, chunks: [], chunkSize: snapshot.chunkSize }] });
  }
  const missing = new Map<string, Uint8Array>();
  for (const [k, id] of unlisted) if (!(await scoped.ensure(id, 0))) missing.set(k, id);
  for (const id of missing.values()) problems.push({ kind: 'missing-blob', blobId: toHex(id), message: `blob ${toHex(id)} is referenced but not in any pack`, affected: [] });

  const packs = scoped.index.packIds().map((packId) => ({ key: packKey(packId), size: scoped.index.packLength(packId)! }));
  const { packsRead, blobsChecked, bytesRead, corrupt, packsArchived } = await readBack(repo, pool, packs, options, problems);
  const bad = new Map([...missing, ...corrupt]);
  if (bad.size > 0) await locate([entry], load, bad, problems);
  return { snapshots: 1, packsTotal: packs.length, packsRead, blobsChecked, bytesRead, ...(packsArchived ? { packsArchived } : {}), problems };
}
