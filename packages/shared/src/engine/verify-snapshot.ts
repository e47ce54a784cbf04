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
import { isDataVerdict, locate, problem, readBack, type LostBlobs, type Problem, type VerifyOptions, type VerifyReport } from './verify.js';
import { recordDamage } from './damage-records.js';
import type { Repository } from './repository.js';

/** A pack's description from its own index object (the pack itself is what is gone). */
async function describeScoped(repo: Repository, packId: string) {
  try {
    const pack = await repo.describePack(packId);
    return pack ? { pack } : undefined;
  } catch (err) {
    if (isDataVerdict(err)) return undefined; // its index object is damaged too: what it held is unknown
    throw err;
  }
}

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
  const problems: Problem[] = scoped.damaged.map((d) =>
    problem('corrupt-pack', `pack ${d.packId}: header unreadable: ${d.message}`, { object: packKey(d.packId) }),
  );
  const unlisted = new Map<string, Uint8Array>();
  const lost: LostBlobs = new Map();
  await walkTree(fromHex(snapshot.tree.root), snapshot.tree.height, load, {
    leaf: (id) => {
      if (!isHole(id, 0) && !scoped.index.has(id, 0)) unlisted.set(idKeyOf(id), Buffer.from(id));
    },
    damagedNode: (id, _first, _span, err) => {
      const p = problem('corrupt-manifest', `snapshot ${entry.id}: manifest node ${toHex(id)}: ${err.message}`, { blobId: toHex(id) });
      problems.push(p);
      lost.set(idKeyOf(id), { id: new Uint8Array(id), problem: p });
    },
  });
  for (const [k, id] of unlisted) {
    if (await scoped.ensure(id, 0)) continue;
    const p = problem('missing-blob', `blob ${toHex(id)} is referenced but not in any pack`, { blobId: toHex(id) });
    problems.push(p);
    lost.set(k, { id, problem: p });
  }

  const packs = scoped.index.packIds().map((packId) => ({ key: packKey(packId), size: scoped.index.packLength(packId)! }));
  const rb = await readBack(repo, pool, packs, options, problems, (packId) => describeScoped(repo, packId), 'report');
  for (const [key, hit] of rb.lost) if (!lost.has(key)) lost.set(key, hit);
  const damaged = await locate([entry], load, lost);
  const recordedPacks = options.recordAt
    ? await recordDamage(
        repo,
        options.recordAt,
        [...rb.damagedPacks].map(([packId, kind]) => ({ packId, kind })),
      )
    : 0;
  return {
    snapshots: 1,
    packsTotal: packs.length,
    packsRead: rb.packsRead,
    blobsChecked: rb.blobsChecked,
    bytesRead: rb.bytesRead,
    ...(rb.packsArchived ? { packsArchived: rb.packsArchived } : {}),
    problems,
    summary: { restorable: 1 - damaged.length, damaged, recordedPacks },
  };
}
