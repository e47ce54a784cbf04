/**
 * Archive: reads a volume, stores the blocks the repository does not have yet, and writes the
 * snapshot's manifest and snapshot object, in that order (packs, indexes, snapshot), so that a
 * crash at any point leaves only unreferenced data behind.
 */
import type { VolumeSource } from '../ports/volume-source.js';
import type { Clock } from '../ports/clock.js';
import type { ProcessIdentity } from '../ports/process-identity.js';
import { acquireLease, type HeldLease } from './leases.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { InvalidInputError } from '../errors.js';
import { isHole, toHex, ID_BYTES } from '../format/ids.js';
import type { Snapshot, SnapshotEntry } from '../format/snapshot.js';
import { BlobWriter, type LookupsAhead } from '../content/blob-writer.js';
import { encodeEnvelope } from '../format/envelope.js';
import { encodePackList, newPackListKey, PACK_LISTS_PREFIX } from '../format/pack-list.js';
import { SharedBufferPool } from '../parallel/shared-buffer-pool.js';
import { TreeWriter } from '../manifest/tree-writer.js';
import { chunkCount } from '../format/tree-shape.js';
import { DEFAULT_ZSTD_LEVEL } from '../format/zstd.js';
import { planBlocks, type PlannedBlock } from './block-plan.js';
import { orderedPipeline } from './ordered-pipeline.js';
import type { ProgressListener } from './progress.js';
import type { Repository } from './repository.js';
import { openWriteIndex, type WriteIndex } from './write-index.js';
import { openParentLineage, type ParentLineage } from './parent-lineage.js';
import { DEFAULT_PACK_SIZE } from '../content/pack-writer.js';

/** Bytes of source blocks being read and hashed at once: keeps disk and threads busy, RSS flat. */
const READ_AHEAD_BYTES = 16 * 1024 * 1024;

export interface ArchiveRequest {
  volumeId: string;
  source: VolumeSource;
  /** Build on this snapshot (incremental); changed-block lists apply only against it. */
  parent?: SnapshotEntry;
  /** The snapshot's time (may be in the past, to import histories). */
  time: Date;
  /** The real time, for the lease this archive holds while it runs. */
  clock: Clock;
  tags?: string[];
  hostname?: string;
  /** This process, recorded in the archive's lease: a prune on this machine sees when it was killed. */
  identity?: ProcessIdentity;
  zstdLevel?: number;
  /** Bytes a pack fills up to before it is stored. @defaultValue DEFAULT_PACK_SIZE (16 MiB) */
  packSize?: number;
  onProgress?: ProgressListener;
}

export interface ArchiveResult {
  id: string;
  snapshot: Snapshot;
  /** Index lookups the archive made: chunks shared with the parent need none. */
  indexLookups: number;
  /** Whether the snapshot took its parent's pack list over (engine/parent-lineage.ts). */
  parentPacksInherited: boolean;
}

interface BlockResult {
  slot?: Uint8Array;
  data?: Uint8Array;
  ids?: Uint8Array;
  /** The parent's ids at the block's chunks, when chunks shared with it need no lookup. */
  parentIds?: Uint8Array | undefined;
  /** The index's answers for the block's chunks, asked while it waited its turn. */
  ahead?: LookupsAhead | undefined;
}

/** Blocks being framed in the codec pool at once: two per thread keeps every thread busy. */
const BLOCKS_IN_FLIGHT = 4;

export async function archiveVolume(repo: Repository, pool: CodecPool, req: ArchiveRequest): Promise<ArchiveResult> {
  if (!req.volumeId) throw new InvalidInputError('volume id must not be empty', 'volumeId');
  if (req.source.blockSize % repo.chunkSize !== 0) {
    throw new InvalidInputError(`source block size ${req.source.blockSize} is not a multiple of the repository chunk size ${repo.chunkSize}`, 'blockSize');
  }
  // The lease comes first: from here on prune waits for this archive before deleting anything
  // it might have seen in the index.
  const lease = await acquireLease(repo, req.clock, 'archive', req.hostname, req.identity?.self);
  try {
    const index = await openWriteIndex(repo);
    let lineage: ParentLineage | undefined;
    try {
      const packSize = req.packSize ?? DEFAULT_PACK_SIZE;
      lineage = req.parent
        ? await openParentLineage(repo, pool, req.parent, { condemned: index.condemned, sizeBytes: req.source.sizeBytes, packSize })
        : undefined;
      return await archiveUnderLease(repo, pool, req, lease, index, lineage);
    } finally {
      await lineage?.close();
      await index.close();
    }
  } finally {
    repo.forgetIndex();
    await lease.release();
  }
}

async function archiveUnderLease(
  repo: Repository,
  pool: CodecPool,
  req: ArchiveRequest,
  lease: HeldLease,
  index: WriteIndex,
  lineage: ParentLineage | undefined,
): Promise<ArchiveResult> {
  const { source } = req;
  const chunkSize = repo.chunkSize;
  const packSize = req.packSize ?? DEFAULT_PACK_SIZE;

  const chunks = chunkCount(source.sizeBytes, chunkSize);
  const perBlock = source.blockSize / chunkSize;
  const blocks = Math.ceil(source.sizeBytes / source.blockSize);
  const writer = new BlobWriter(repo.store, repo.keys, index, pool, {
    zstdLevel: req.zstdLevel ?? DEFAULT_ZSTD_LEVEL,
    blockSize: source.blockSize,
    blocksInFlight: BLOCKS_IN_FLIGHT,
    packSize,
    packPut: repo.packPut,
    ...(repo.mapPut ? { mapPut: repo.mapPut } : {}),
  });
  // Chunks shared with the parent need no lookup when its pack list is taken over.
  const shared = lineage?.inherited ? lineage : undefined;
  if (shared) writer.inherit(shared.inherited!);
  const allIndexed = (ids: Uint8Array) => {
    for (let o = 0; o < ids.byteLength; o += ID_BYTES) if (!isHole(ids, o) && !writer.noteIndexed(ids, o)) return false;
    return true;
  };
  const depth = Math.max(2, Math.floor(READ_AHEAD_BYTES / source.blockSize));
  // Every block read or being framed holds a slot; one spare so a reader never waits on itself.
  // A slot holds the block and, after it, the block's chunk ids.
  const slots = new SharedBufferPool(source.blockSize + perBlock * ID_BYTES, depth + BLOCKS_IN_FLIGHT + 1);
  const tree = new TreeWriter(chunks, (raw) => writer.addMap(raw));
  const plan = await choosePlan(req, lineage, blocks);
  let readBytes = 0;
  let holeChunks = 0;

  const work = async (b: PlannedBlock): Promise<BlockResult> => {
    if (b.action === 'hole') return {};
    const first = b.index * perBlock;
    const n = Math.min(perBlock, chunks - first);
    if (b.action === 'parent') {
      // The parent's blobs, or its manifest nodes, may sit in packs prune has condemned: then
      // this block is read afresh instead of copied from the parent.
      const ids = await lineage!.read(first, n);
      if (ids && ids.byteLength === n * ID_BYTES && (shared || allIndexed(ids))) return { ids };
      b.action = 'read';
    }
    const slot = await slots.acquire();
    try {
      const data = await source.readBlock(b.index, slot.subarray(0, source.blockSize));
      const expected = Math.min(source.blockSize, source.sizeBytes - b.index * source.blockSize);
      if (data.byteLength !== expected)
        throw new InvalidInputError(`source returned ${data.byteLength} bytes for block ${b.index}, expected ${expected}`, 'source');
      readBytes += data.byteLength;
      const ids = await pool.hashChunks(data, chunkSize, slot.subarray(source.blockSize, source.blockSize + n * ID_BYTES));
      const parentIds = shared ? await shared.read(first, n) : undefined;
      // On the host table the block's lookups run now, on the thread pool, while earlier blocks
      // are consumed: made in turn they would serialize the pipeline (DedupIndex.findMany).
      let ahead: LookupsAhead | undefined;
      if (index.findMany) {
        const offsets = writer.lookupsAhead(ids, parentIds);
        if (offsets.length > 0) ahead = { offsets, packs: await index.findMany(ids, offsets) };
      }
      return { slot, data, ids, parentIds, ahead };
    } catch (err) {
      slots.release(slot);
      throw err;
    }
  };
  // A run of hole blocks reaches the tree as one run, so that whole all-hole nodes are skipped
  // (TreeWriter.pushHoles) instead of being zeroed block by block.
  let pendingHoles = 0;
  const flushHoles = async (): Promise<void> => {
    if (pendingHoles === 0) return;
    await tree.pushHoles(pendingHoles);
    pendingHoles = 0;
  };
  const consume = async (r: BlockResult, b: PlannedBlock): Promise<void> => {
    const first = b.index * perBlock;
    const n = Math.min(perBlock, chunks - first);
    if (b.action === 'hole') {
      holeChunks += n;
      pendingHoles += n;
    } else if (b.action === 'parent') {
      await flushHoles();
      await tree.push(r.ids!, n);
    } else {
      await flushHoles();
      const { slot, data, ids } = r as Required<Omit<BlockResult, 'parentIds' | 'ahead'>>;
      for (let i = 0; i < n; i++) if (isHole(ids, i * ID_BYTES)) holeChunks++;
      await tree.push(ids, n);
      await writer.addBlock(data, ids, chunkSize, () => slots.release(slot), r.parentIds, r.ahead);
    }
    req.onProgress?.({ bytesDone: Math.min(source.sizeBytes, (b.index + 1) * source.blockSize), bytesTotal: source.sizeBytes });
  };
  await orderedPipeline(plan.blocks, depth, work, consume);
  await flushHoles();

  const root = await tree.finish();
  const stats = await writer.close();
  // After every pack it names, before the snapshot that names it (docs/format.md, ordering).
  const packListKey = newPackListKey();
  await repo.store.put(packListKey, encodeEnvelope(encodePackList(writer.packList()), repo.keys.enc));
  lease.assertHeld();
  const snapshot: Snapshot = {
    version: 1,
    volumeId: req.volumeId,
    time: req.time.toISOString(),
    tags: [...(req.tags ?? [])].sort(),
    ...(req.hostname ? { hostname: req.hostname } : {}),
    sizeBytes: source.sizeBytes,
    chunkSize,
    tree: { root: toHex(root), height: tree.height },
    ...(req.parent ? { parent: req.parent.id } : {}),
    ...(source.sourceRef ? { sourceRef: source.sourceRef } : {}),
    packList: packListKey.slice(PACK_LISTS_PREFIX.length),
    stats: {
      readBytes,
      newBlobs: stats.newBlobs,
      newBytes: stats.newBytes,
      storedBytes: stats.storedBytes,
      holeChunks,
      changedBlocksOnly: plan.changedBlocksOnly,
    },
  };
  const id = await repo.saveSnapshot(snapshot);
  return { id, snapshot, indexLookups: index.lookups, parentPacksInherited: !!shared };
}

/** Reads only changed blocks when the source can list them against the parent; else all. */
async function choosePlan(
  req: ArchiveRequest,
  lineage: ParentLineage | undefined,
  blocks: number,
): Promise<{ blocks: AsyncIterable<PlannedBlock>; changedBlocksOnly: boolean }> {
  const parent = req.parent?.snapshot;
  const comparable = lineage && parent?.sourceRef && parent.sizeBytes === req.source.sizeBytes;
  if (comparable) {
    const changed = await req.source.changedBlocksSince(parent.sourceRef!);
    if (changed) return { blocks: planBlocks(blocks, changed, 'read', 'parent'), changedBlocksOnly: true };
  }
  return { blocks: planBlocks(blocks, req.source.writtenBlocks(), 'read', 'hole'), changedBlocksOnly: false };
}
