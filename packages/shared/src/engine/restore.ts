/**
 * Restore: writes a snapshot's volume back through a VolumeTarget. It reads the index of the
 * packs the snapshot's pack list names, not the repository's (snapshot-index.ts). The volume is processed in
 * windows: the window's chunk ids come from the manifest, the frames they live in are fetched
 * with merged reads, and one codec-pool task decodes them, checks every chunk against its id
 * and lays the window out; the main thread then writes it as runs of data between holes.
 */
import type { VolumeTarget } from '../ports/volume-target.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { CorruptDataError } from '../errors.js';
import { fromHex, ID_BYTES, isHole, toHex } from '../format/ids.js';
import { packKey } from '../format/layout.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { fetchRuns, type FrameRef } from '../content/frame-fetch.js';
import { CHUNK_FIELDS, FRAME_FIELDS } from '../parallel/window-decode.js';
import { SharedBufferPool } from '../parallel/shared-buffer-pool.js';
import { TreeReader } from '../manifest/tree-reader.js';
import { chunkCount } from '../format/tree-shape.js';
import { createNodeLoader } from '../manifest/node-loader.js';
import { orderedPipeline } from './ordered-pipeline.js';
import { loadSnapshotIndex, type ScopedIndex } from './snapshot-index.js';
import { readAhead } from './read-ahead.js';
import type { ProgressListener } from './progress.js';
import type { Repository } from './repository.js';

/** Volume bytes per window: big enough that frames rarely straddle windows, small for RSS. */
export const WINDOW_BYTES = 8 * 1024 * 1024;
/** Windows being fetched and decoded while earlier ones are written: two per codec thread. */
const WINDOWS_IN_FLIGHT = 4;
/**
 * Windows whose chunk ids are read from the manifest ahead of their turn. A manifest node is
 * decoded in the codec pool behind whole windows; read only when its window was due, its wait
 * kept a thread idle for ~40% of a restore.
 */
const MANIFEST_WINDOWS_AHEAD = 8;

export interface RestoreRequest {
  snapshot: SnapshotEntry;
  target: VolumeTarget;
  onProgress?: ProgressListener;
}

/** What a restore read to write the volume: the measure of how scattered its snapshot is. */
export interface RestoreStats {
  /** Ranged reads of pack data (merged frames), and the bytes they returned. */
  dataReads: number;
  dataBytesRead: number;
  /** Bytes of the volume that are data (holes are not read, nor written to a file). */
  dataBytesRestored: number;
  /**
   * dataBytesRead / dataBytesRestored: below 1 when the data compressed well, above it when the
   * reads carried frames or gaps the volume did not need (a snapshot scattered over many packs).
   */
  readAmplification: number;
  /**
   * Plaintext bytes of the frames decoded (a frame is decoded whole, once for each window that
   * needs a chunk of it), and their ratio to dataBytesRestored: the CPU a scattered snapshot costs
   * beyond its reads, since chunks the snapshot does not use are decompressed too.
   */
  dataBytesDecoded: number;
  decodeAmplification: number;
  /** Packs the snapshot's pack list named, and blobs found beyond them (a stale list). */
  listedPacks: number;
  fallbackBlobs: number;
}

interface Window {
  first: number;
  count: number;
  ids: Buffer;
}

interface Decoded {
  /** The window's bytes, in a pool slot that is released once they are written. */
  out: Uint8Array;
  slot: Uint8Array;
  holes: Uint8Array;
}

export async function restoreSnapshot(repo: Repository, pool: CodecPool, req: RestoreRequest): Promise<RestoreStats> {
  const scoped = await loadSnapshotIndex(repo, req.snapshot);
  try {
    const read = await restoreWith(repo, pool, req, scoped);
    return {
      ...read,
      readAmplification: read.dataBytesRestored > 0 ? read.dataBytesRead / read.dataBytesRestored : 0,
      decodeAmplification: read.dataBytesRestored > 0 ? read.dataBytesDecoded / read.dataBytesRestored : 0,
      listedPacks: scoped.stats.listedPacks,
      fallbackBlobs: scoped.stats.fallbackBlobs,
    };
  } finally {
    await scoped.close();
  }
}

type ReadStats = Pick<RestoreStats, 'dataReads' | 'dataBytesRead' | 'dataBytesRestored' | 'dataBytesDecoded'>;

async function restoreWith(repo: Repository, pool: CodecPool, req: RestoreRequest, { index, ensure }: ScopedIndex): Promise<ReadStats> {
  const { id: snapshotId, snapshot } = req.snapshot;
  const stats: ReadStats = { dataReads: 0, dataBytesRead: 0, dataBytesRestored: 0, dataBytesDecoded: 0 };
  const chunkSize = snapshot.chunkSize;
  const chunks = chunkCount(snapshot.sizeBytes, chunkSize);
  const reader = new TreeReader(fromHex(snapshot.tree.root), snapshot.tree.height, chunks, createNodeLoader(repo, pool, 'corrupt', index, ensure));
  const perWindow = Math.max(1, Math.floor(WINDOW_BYTES / chunkSize));
  // Windows being decoded, plus the one being written (a write returns once its data is staged).
  const slots = new SharedBufferPool(perWindow * chunkSize, WINDOWS_IN_FLIGHT + 1);
  // Each window being decoded reads its frames into one of these (a window's stored frames are
  // at most about its size unless it draws on many packs; the excess gets memory of its own).
  // Reused memory instead of fresh buffers per read: on virtual machines the first touch of fresh
  // pages made the reads cost up to a quarter of a restore's CPU.
  const fetchSlots = new SharedBufferPool(WINDOW_BYTES, WINDOWS_IN_FLIGHT);
  const fail = (chunk: number, why: string, extra: { blobId?: string; object?: string } = {}) =>
    new CorruptDataError(`snapshot ${snapshotId} block ${chunk} (byte offset ${chunk * chunkSize}): ${why}`, {
      snapshotId,
      volumeId: snapshot.volumeId,
      chunk,
      byteOffset: chunk * chunkSize,
      ...extra,
    });

  async function* windows(): AsyncGenerator<Window> {
    for (let first = 0; first < chunks; first += perWindow) {
      const count = Math.min(perWindow, chunks - first);
      yield { first, count, ids: await reader.read(first, count) };
    }
  }

  const decodeWindow = async (w: Window): Promise<Decoded> => {
    const frameIdx = new Map<number, number>();
    const refs: FrameRef[] = [];
    const placement = new Float64Array(w.count * CHUNK_FIELDS);
    const holes = new Uint8Array(w.count);
    for (let i = 0; i < w.count; i++) {
      const p = i * CHUNK_FIELDS;
      if (isHole(w.ids, i * ID_BYTES)) {
        placement[p] = -1;
        holes[i] = 1;
        continue;
      }
      let e = index.entry(w.ids, i * ID_BYTES);
      if (e < 0 && (await ensure(w.ids, i * ID_BYTES))) e = index.entry(w.ids, i * ID_BYTES);
      if (e < 0) {
        const id = toHex(w.ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES));
        throw fail(w.first + i, `blob ${id} is missing from the repository`, { blobId: id });
      }
      const frameNo = index.entryFrameNo(e);
      let f = frameIdx.get(frameNo);
      if (f === undefined) {
        frameIdx.set(frameNo, (f = refs.length));
        const frame = index.frame(frameNo);
        refs.push({ frameNo, frame });
        stats.dataBytesDecoded += frame.rawLength;
      }
      placement[p] = f;
      placement[p + 1] = index.entryOffset(e);
      placement[p + 2] = index.entryLength(e);
    }
    const fetchSlot = await fetchSlots.acquire();
    try {
      let fetched;
      try {
        fetched = await fetchRuns(repo.store, refs, fetchSlot);
      } catch (err) {
        // A pack gone or cut short: name the snapshot and the window's first block with it.
        if (err instanceof CorruptDataError) throw fail(w.first, err.message, err.site.object ? { object: err.site.object } : {});
        throw err;
      }
      stats.dataReads += fetched.runs.length;
      for (const run of fetched.runs) stats.dataBytesRead += run.byteLength;
      const frames = new Float64Array(refs.length * FRAME_FIELDS);
      fetched.placements.forEach((pl, f) => {
        const ref = refs[f]!;
        frames.set([pl.run, pl.offset, ref.frame.storedLength, ref.frame.rawLength, ref.frame.compression], f * FRAME_FIELDS);
      });
      const outBytes = Math.min(w.count * chunkSize, snapshot.sizeBytes - w.first * chunkSize);
      const slot = await slots.acquire();
      const out = slot.subarray(0, outBytes);
      let result;
      try {
        result = await pool.decodeWindow({ runs: fetched.runs, frames, chunks: placement, ids: w.ids, chunkSize, out });
      } catch (err) {
        slots.release(slot);
        throw err;
      }
      if (result.failure) {
        slots.release(slot);
        const { chunk, frame, message } = result.failure;
        const ref = refs[frame]!;
        const id = toHex(w.ids.subarray(chunk * ID_BYTES, (chunk + 1) * ID_BYTES));
        throw fail(w.first + chunk, `corrupt data in pack ${ref.frame.packId} frame at offset ${ref.frame.offset}: ${message}`, {
          blobId: id,
          object: packKey(ref.frame.packId),
        });
      }
      return { out, slot, holes };
    } finally {
      // The frames were decoded (in place, in this slot) by the time decodeWindow settled.
      fetchSlots.release(fetchSlot);
    }
  };

  const writeWindow = async (d: Decoded, w: Window) => {
    try {
      await writeRuns(d, w);
    } finally {
      slots.release(d.slot);
    }
  };

  const writeRuns = async (d: Decoded, w: Window) => {
    const base = w.first * chunkSize;
    const end = base + d.out.byteLength;
    // Alternate runs of data and holes: one write or zero call per run.
    let i = 0;
    while (i < w.count) {
      const hole = d.holes[i];
      let j = i;
      while (j < w.count && d.holes[j] === hole) j++;
      const from = i * chunkSize;
      const to = Math.min(d.out.byteLength, j * chunkSize);
      if (hole) await req.target.zero(base + from, to - from);
      else {
        await req.target.write(base + from, d.out.subarray(from, to));
        stats.dataBytesRestored += to - from;
      }
      i = j;
    }
    req.onProgress?.({ bytesDone: end, bytesTotal: snapshot.sizeBytes });
  };

  await req.target.open(snapshot.sizeBytes);
  try {
    await orderedPipeline(readAhead(windows(), MANIFEST_WINDOWS_AHEAD), WINDOWS_IN_FLIGHT, decodeWindow, writeWindow);
    await req.target.commit();
  } catch (err) {
    await req.target.abort();
    throw err;
  }
  return stats;
}
