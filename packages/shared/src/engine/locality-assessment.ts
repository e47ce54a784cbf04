/**
 * How scattered a snapshot is, measured without reading a byte of its data: the manifest is
 * walked against the index of the packs its list names (snapshot-index.ts), and the restore's
 * windows are planned as restore.ts would plan them. The prediction is the restore's own
 * `read` stats (reads, plaintext decoded), and beside it, for each pack the snapshot reads,
 * whether the snapshot reads it densely: much of its bytes, from a stretch of the volume.
 * Dense packs stay where they are when the snapshot is relocated; the rest is copied.
 *
 * Cost: one pass over the manifest and the headers of the listed packs, in memory that follows
 * the snapshot (the scoped index, one record per pack and 8 bytes per data chunk, the walk
 * kept for the layouts it simulates), never the repository.
 */
import { fromHex, ID_BYTES } from '../format/ids.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { IdTable } from '../content/id-table.js';
import { GrowableU32 } from '../content/growable.js';
import { DEFAULT_FRAME_SIZE } from '../content/frame-builder.js';
import { planRuns, type FrameRef } from '../content/frame-fetch.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { walkTree } from '../manifest/tree-walk.js';
import { createNodeLoader } from '../manifest/node-loader.js';
import { CorruptDataError } from '../errors.js';
import type { BlobIndex } from '../content/blob-index.js';
import type { ScopedIndex } from './snapshot-index.js';
import { WINDOW_BYTES } from './restore.js';
import type { Repository } from './repository.js';

/**
 * A pack is read densely when the snapshot uses at least half of its plaintext (below that,
 * prune would repack it anyway; above it, the dead blocks cost a restore some decoding, far
 * less than the reads a copy saves)...
 */
export const DENSE_USE = 0.5;
/**
 * ...and the windows that use its blobs first are few for its size: at most this many times the
 * windows its data would fill, plus an eighth of the volume's windows, at most DENSE_WINDOW_SLACK.
 * A pack a full archive wrote covers a stretch of the volume, used by the few windows there; a
 * pack of one day's changes, spread over the whole volume, by nearly every window for a few
 * blocks each. What a read brings does not tell them apart: a volume that repeats its blocks
 * reads a full archive's packs in short pieces too. The windows that repeat a block used
 * earlier are not counted: they read its one copy in any layout, relocated included.
 */
export const DENSE_WINDOWS_FACTOR = 4;
export const DENSE_WINDOW_SLACK = 8;

const GIB = 1024 ** 3;

export interface PackUse {
  packId: string;
  packLength: number;
  /** Plaintext of the pack's frames, and the part of it this snapshot references (each blob once). */
  rawBytes: number;
  usedBytes: number;
  /** The restore's reads of this pack (a window reads each pack it needs once per nearby run of frames). */
  reads: number;
  /** The restore windows that use one of its blobs first (a block repeated later is not counted again). */
  windows: number;
  dense: boolean;
}

export interface LocalityAssessment {
  snapshotId: string;
  volumeId: string;
  /** Bytes of the volume that are data, not holes. */
  dataBytes: number;
  /** What a restore would do: ranged reads, plaintext decoded, and per GiB of data. */
  reads: number;
  decodedBytes: number;
  decodeAmplification: number;
  readsPerGiB: number;
  /** The restore's windows that hold data: no layout needs fewer reads than these. */
  windows: number;
  /** Every pack the snapshot reads, with how densely. */
  packs: PackUse[];
  /** Plaintext of the snapshot's blobs (data and manifest nodes) in packs that are not dense. */
  scatteredBytes: number;
  /**
   * The same restore predicted after a relocation (relocation.ts): the blobs outside dense
   * packs in new frames in volume order, each blob once, no frame across two windows. A blob
   * repeated elsewhere in the volume is still read from its one copy, so a volume full of
   * repeats gains less than its scatter suggests.
   */
  relocated: PredictedRestore;
  /**
   * The restore predicted for the snapshot laid out afresh: every blob relocated, as a fresh full
   * archive would store it. What the volume's own repeats cost whatever maintenance does.
   */
  fresh: PredictedRestore;
}

export interface PredictedRestore {
  reads: number;
  decodedBytes: number;
  decodeAmplification: number;
  readsPerGiB: number;
}

/** Walks the snapshot, calling `leaf` with each non-hole chunk's id in volume order and `node` with each manifest node. */
export interface SnapshotVisitor {
  leaf(ids: Uint8Array, offset: number, chunk: number): void | Promise<void>;
  node(ids: Uint8Array, offset: number): void;
}

export async function walkSnapshot(repo: Repository, pool: CodecPool, entry: SnapshotEntry, scoped: ScopedIndex, visit: SnapshotVisitor): Promise<void> {
  const { snapshot } = entry;
  const load = createNodeLoader(repo, pool, 'corrupt', scoped.index, scoped.ensure);
  await walkTree(fromHex(snapshot.tree.root), snapshot.tree.height, load, {
    node: (id) => {
      visit.node(id, 0);
      return true;
    },
    leaf: (id, chunk) => visit.leaf(id, 0, chunk),
  });
}

export async function assessLocality(
  repo: Repository,
  pool: CodecPool,
  entry: SnapshotEntry,
  scoped: ScopedIndex,
  condemned: ReadonlySet<string>,
): Promise<LocalityAssessment> {
  const { index } = scoped;
  const chunkSize = entry.snapshot.chunkSize;
  const perWindow = Math.max(1, Math.floor(WINDOW_BYTES / chunkSize));
  const uses = new Map<string, PackUse>();
  const counted = new IdTable();
  let dataBytes = 0;
  let reads = 0;
  let decodedBytes = 0;
  let window = -1;
  let frames = new Map<number, FrameRef>();

  const locate = async (ids: Uint8Array, offset: number, what: string): Promise<number> => {
    let e = index.entry(ids, offset);
    if (e < 0 && (await scoped.ensure(ids, offset))) e = index.entry(ids, offset);
    if (e < 0) throw new CorruptDataError(`snapshot ${entry.id}: ${what} is missing from the repository; run verify`, { snapshotId: entry.id });
    return e;
  };
  const use = (packId: string): PackUse => {
    let u = uses.get(packId);
    if (!u)
      uses.set(
        packId,
        (u = { packId, packLength: index.packLength(packId) ?? 0, rawBytes: index.packRawBytes(packId), usedBytes: 0, reads: 0, windows: 0, dense: false }),
      );
    return u;
  };
  /** Counts a blob's bytes once, at its first use: returns its pack's record there, else undefined. */
  const count = (ids: Uint8Array, offset: number, e: number): PackUse | undefined => {
    const u = use(index.frame(index.entryFrameNo(e)).packId);
    if (!counted.add(ids, offset)) return undefined;
    u.usedBytes += index.entryLength(e);
    return u;
  };
  // Packs that hold a blob this window uses first. A pack's spread counts these windows only: a
  // block the volume repeats far away is read from wherever its one copy lies, in any layout,
  // and counting the windows that repeat it would call the pack holding it sparse again after
  // every relocation, and copy it again and again.
  let firstUses = new Set<PackUse>();
  let windows = 0;
  const endWindow = () => {
    windows++;
    const runs = planRuns([...frames.values()]);
    reads += runs.length;
    for (const run of runs) use(run.packId).reads++;
    for (const u of firstUses) u.windows++;
    for (const ref of frames.values()) decodedBytes += ref.frame.rawLength;
    frames = new Map();
    firstUses = new Set();
  };
  const nodes: Uint8Array[] = [];
  // The walk, kept for the simulations below: each non-hole chunk and its index entry.
  const leaves = { chunks: new GrowableU32(), entries: new GrowableU32() };

  await walkSnapshot(repo, pool, entry, scoped, {
    node: (ids, offset) => nodes.push(ids.slice(offset, offset + ID_BYTES)),
    leaf: async (ids, offset, chunk) => {
      const w = Math.floor(chunk / perWindow);
      if (w !== window) {
        if (window >= 0) endWindow();
        window = w;
      }
      const e = await locate(ids, offset, `block ${chunk}`);
      const frameNo = index.entryFrameNo(e);
      if (!frames.has(frameNo)) frames.set(frameNo, { frameNo, frame: index.frame(frameNo) });
      dataBytes += chunkBytes(entry, chunk);
      const first = count(ids, offset, e);
      if (first) firstUses.add(first);
      leaves.chunks.push(chunk);
      leaves.entries.push(e);
    },
  });
  if (window >= 0) endWindow();
  for (const id of nodes) count(id, 0, await locate(id, 0, 'a manifest node'));

  let scatteredBytes = 0;
  for (const u of uses.values()) {
    const fills = Math.ceil(u.usedBytes / WINDOW_BYTES);
    const slack = Math.min(DENSE_WINDOW_SLACK, windows / 8);
    u.dense = !condemned.has(u.packId) && u.usedBytes >= DENSE_USE * u.rawBytes && u.windows <= DENSE_WINDOWS_FACTOR * fills + slack;
    if (!u.dense) scatteredBytes += u.usedBytes;
  }
  const predicted = (p: { reads: number; decodedBytes: number }): PredictedRestore => ({
    ...p,
    decodeAmplification: dataBytes > 0 ? p.decodedBytes / dataBytes : 0,
    readsPerGiB: dataBytes > 0 ? p.reads / (dataBytes / GIB) : 0,
  });
  const dense = new Set([...uses.values()].filter((u) => u.dense).map((u) => u.packId));
  return {
    relocated: predicted(simulateRelocation(index, leaves, dense, perWindow)),
    fresh: predicted(simulateRelocation(index, leaves, new Set(), perWindow)),
    snapshotId: entry.id,
    volumeId: entry.snapshot.volumeId,
    dataBytes,
    reads,
    decodedBytes,
    decodeAmplification: dataBytes > 0 ? decodedBytes / dataBytes : 0,
    readsPerGiB: dataBytes > 0 ? reads / (dataBytes / GIB) : 0,
    windows,
    packs: [...uses.values()],
    scatteredBytes,
  };
}

/**
 * Replays the walk with the blobs outside `dense` placed as relocation.ts would place them:
 * virtual frames of up to DEFAULT_FRAME_SIZE in volume order, each blob once, a new frame at
 * each window, one after another in new packs (consecutive frames merge into one read).
 */
function simulateRelocation(index: BlobIndex, leaves: { chunks: GrowableU32; entries: GrowableU32 }, dense: ReadonlySet<string>, perWindow: number) {
  /** Index entry (one per blob) -> its virtual frame. */
  const placed = new Map<number, number>();
  const frameRaw: number[] = [];
  let fill = DEFAULT_FRAME_SIZE;
  let reads = 0;
  let decodedBytes = 0;
  let window = -1;
  let real = new Map<number, FrameRef>();
  let virtual = new Set<number>();
  const endWindow = () => {
    reads += planRuns([...real.values()]).length;
    for (const ref of real.values()) decodedBytes += ref.frame.rawLength;
    const frames = [...virtual].sort((a, b) => a - b);
    frames.forEach((f, i) => {
      decodedBytes += frameRaw[f]!;
      if (i === 0 || frames[i - 1] !== f - 1) reads++;
    });
    real = new Map();
    virtual = new Set();
  };
  for (let i = 0; i < leaves.chunks.length; i++) {
    const w = Math.floor(leaves.chunks.get(i) / perWindow);
    if (w !== window) {
      if (window >= 0) endWindow();
      window = w;
      fill = DEFAULT_FRAME_SIZE; // relocation starts a new frame at each window
    }
    const e = leaves.entries.get(i);
    const frameNo = index.entryFrameNo(e);
    if (dense.has(index.frame(frameNo).packId)) {
      if (!real.has(frameNo)) real.set(frameNo, { frameNo, frame: index.frame(frameNo) });
      continue;
    }
    let f = placed.get(e);
    if (f === undefined) {
      const length = index.entryLength(e);
      if (fill + length > DEFAULT_FRAME_SIZE) {
        frameRaw.push(0);
        fill = 0;
      }
      fill += length;
      frameRaw[frameRaw.length - 1]! += length;
      placed.set(e, (f = frameRaw.length - 1));
    }
    virtual.add(f);
  }
  if (window >= 0) endWindow();
  return { reads, decodedBytes };
}

/** The volume bytes chunk `chunk` covers (the last chunk may be short). */
export function chunkBytes(entry: SnapshotEntry, chunk: number): number {
  const { chunkSize, sizeBytes } = entry.snapshot;
  return Math.min(chunkSize, sizeBytes - chunk * chunkSize);
}
