/**
 * Archive: reads a volume, stores the blocks the repository does not have yet, and writes the
 * snapshot's manifest and snapshot object, in that order (packs, indexes, snapshot), so that a
 * crash at any point leaves only unreferenced data behind.
 */
import type { VolumeSource } from '../ports/volume-source.js';
import type { Clock } from '../ports/clock.js';
import { acquireLease, type HeldLease } from './leases.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { isHole, toHex, fromHex, ID_BYTES } from '../format/ids.js';
import type { Snapshot, SnapshotEntry } from '../format/snapshot.js';
import { BlobWriter } from '../content/blob-writer.js';
import { encodeEnvelope } from '../format/envelope.js';
import { encodePackList, newPackListKey, PACK_LISTS_PREFIX } from '../format/pack-list.js';
import { SharedBufferPool } from '../parallel/shared-buffer-pool.js';
import { TreeWriter } from '../manifest/tree-writer.js';
import { TreeReader } from '../manifest/tree-reader.js';
import { chunkCount } from '../manifest/tree-shape.js';
import { createNodeLoader } from '../manifest/node-loader.js';
import { DEFAULT_ZSTD_LEVEL } from '../content/zstd.js';
import { planBlocks, type PlannedBlock } from './block-plan.js';
import { orderedPipeline } from './ordered-pipeline.js';
import type { ProgressListener } from './progress.js';
import type { Repository } from './repository.js';
import { openWriteIndex, type WriteIndex } from './write-index.js';
import { loadSnapshotIndex } from './snapshot-index.js';

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
  zstdLevel?: number;
  /** Bytes a pack fills up to before it is stored. @defaultValue DEFAULT_PACK_SIZE (16 MiB) */
  packSize?: number;
  onProgress?: ProgressListener;
}

export interface ArchiveResult {
  id: string;
  snapshot: Snapshot;
}

interface BlockResult {
  slot?: Uint8Array;
  data?: Uint8Array;
  ids?: Uint8Array;
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
  const lease = await acquireLease(repo, req.clock, 'archive', req.hostname);
  try {
    const index = await openWriteIndex(repo);
    try {
      return await archiveUnderLease(repo, pool, req, lease, index);
    } finally {
      await index.close();
    }
  } finally {
    repo.forgetIndex();
    await lease.release();
  }
}

async function archiveUnderLease(repo: Repository, pool: CodecPool, req: ArchiveRequest, lease: HeldLease, index: WriteIndex): Promise<ArchiveResult> {
  const { source } = req;
  const chunkSize = repo.chunkSize;

  const chunks = chunkCount(source.sizeBytes, chunkSize);
  const perBlock = source.blockSize / chunkSize;
  const blocks = Math.ceil(source.sizeBytes / source.blockSize);
  const writer = new BlobWriter(repo.store, repo.keys, index, pool, { zstdLevel: req.zstdLevel ?? DEFAULT_ZSTD_LEVEL, blockSize: source.blockSize, blocksInFlight: BLOCKS_IN_FLIGHT, ...(req.packSize ? { packSize: req.packSize } : {}) });
  const allIndexed = (ids: Uint8Array) => {
    for (let o = 0; o < ids.byteLength; o += ID_BYTES) if (!isHole(ids, o) && !writer.noteIndexed(ids, o)) return false;
    return true;
  };
  const depth = Math.max(2, Math.floor(READ_AHEAD_BYTES / source.blockSize));
  // Every block read or being framed holds a slot; one spare so a reader never waits on itself.
  // A slot holds the block and, after it, the block's chunk ids.
  const slots = new SharedBufferPool(source.blockSize + perBlock * ID_BYTES, depth + BLOCKS_IN_FLIGHT + 1);
  const tree = new TreeWriter(chunks, (raw) => writer.addMap(raw));
  const { plan, parentReader } = await choosePlan(repo, pool, req, blocks, chunks);
  let readBytes = 0;
  let holeChunks = 0;

  const work = async (b: PlannedBlock): Promise<BlockResult> => {
    if (b.action === 'hole') return {};
    if (b.action === 'parent') {
      const first = b.index * perBlock;
      // The parent's blobs, or its manifest nodes, may sit in packs prune has condemned: then
      // this block is read afresh instead of copied from the parent.
      const ids = await parentReader!.read(first, Math.min(perBlock, chunks - first)).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      if (ids && allIndexed(ids)) return { ids };
      b.action = 'read';
    }
    const slot = await slots.acquire();
    try {
      const data = await source.readBlock(b.index, slot.subarray(0, source.blockSize));
      const expected = Math.min(source.blockSize, source.sizeBytes - b.index * source.blockSize);
      if (data.byteLength !== expected) throw new InvalidInputError(`source returned ${data.byteLength} bytes for block ${b.index}, expected ${expected}`, 'source');
      readBytes += data.byteLength;
      const n = Math.ceil(data.byteLength / chunkSize);
      return { slot, data, ids: await pool.hashChunks(data, chunkSize, slot.subarray(source.blockSize, source.blockSize + n * ID_BYTES)) };
    } catch (err) {
      slots.release(slot);
      throw err;
    }
  };
  const consume = async (r: BlockResult, b: PlannedBlock): Promise<void> => {
    const first = b.index * perBlock;
    const n = Math.min(perBlock, chunks - first);
    if (b.action === 'hole') {
      holeChunks += n;
      await tree.pushHoles(n);
    } else if (b.action === 'parent') {
      await tree.push(r.ids!, n);
    } else {
      const { slot, data, ids } = r as Required<BlockResult>;
      for (let i = 0; i < n; i++) if (isHole(ids, i * ID_BYTES)) holeChunks++;
      await tree.push(ids, n);
      await writer.addBlock(data, ids, chunkSize, () => slots.release(slot));
    }
    req.onProgress?.({ bytesDone: Math.min(source.sizeBytes, (b.index + 1) * source.blockSize), bytesTotal: source.sizeBytes });
  };
  await orderedPipeline(plan, depth, work, consume);

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
    stats: { readBytes, newBlobs: stats.newBlobs, newBytes: stats.newBytes, storedBytes: stats.storedBytes, holeChunks, changedBlocksOnly: !!parentReader },
  };
  const id = await repo.saveSnapshot(snapshot);
  return { id, snapshot };
}

/** Reads only changed blocks when the source can list them against the parent; else all. */
async function choosePlan(repo: Repository, pool: CodecPool, req: ArchiveRequest, blocks: number, chunks: number) {
  const parent = req.parent?.snapshot;
  const comparable = parent?.sourceRef && parent.sizeBytes === req.source.sizeBytes && parent.chunkSize === repo.chunkSize;
  if (parent && comparable) {
    const changed = await req.source.changedBlocksSince(parent.sourceRef!);
    if (changed) {
      // The parent's manifest nodes: from the index loaded into memory, or else from the packs
      // its pack list names (what a restore of it reads), never from the whole index.
      const nodes = repo.dedupCache ? await loadSnapshotIndex(repo, req.parent!) : undefined;
      const loader = nodes ? createNodeLoader(repo, pool, 'unavailable', nodes.index, nodes.ensure) : createNodeLoader(repo, pool, 'unavailable');
      const parentReader = new TreeReader(fromHex(parent.tree.root), parent.tree.height, chunks, loader);
      return { plan: planBlocks(blocks, changed, 'read', 'parent'), parentReader };
    }
  }
  return { plan: planBlocks(blocks, req.source.writtenBlocks(), 'read', 'hole'), parentReader: undefined };
}
