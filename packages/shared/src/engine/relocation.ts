/**
 * Relocation: copies the blobs of one snapshot that lie in packs it reads sparsely (assessed by
 * locality-assessment.ts) into new packs, in volume order, then stores a layout list
 * (format/layout-list.ts) naming the new packs and the dense old ones. A restore of the
 * snapshot reads the list instead of the one the snapshot names, and finds its data in a few
 * long reads again. Nothing is moved: the old copies stay for the snapshots that share them
 * until prune, which keeps the copies in layout packs first, drains them.
 *
 * Every copied blob is decoded and checked against its id first, as repacking does. The caller
 * holds the prune lease (docs/format.md, "Locality").
 */
import { BlobType } from '../format/codec-ids.js';
import { ID_BYTES, toHex } from '../format/ids.js';
import { packKey } from '../format/layout.js';
import { encodeEnvelope } from '../format/envelope.js';
import { encodePackList, type ListedPack } from '../format/pack-list.js';
import { newLayoutKey, snapshotLayoutsPrefix } from '../format/layout-list.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { CorruptDataError } from '../errors.js';
import { FrameBuilder } from '../content/frame-builder.js';
import { fetchRuns, type FrameRef } from '../content/frame-fetch.js';
import { IdTable } from '../content/id-table.js';
import { collect } from '../content/map-limit.js';
import { PackWriter } from '../content/pack-writer.js';
import { DEFAULT_ZSTD_LEVEL } from '../format/zstd.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { walkSnapshot, type LocalityAssessment } from './locality-assessment.js';
import type { ScopedIndex } from './snapshot-index.js';
import { WINDOW_BYTES } from './restore.js';
import type { Repository } from './repository.js';

/** Blobs gathered before their frames are fetched: about one restore window of 4 KiB chunks... */
const BATCH_BLOBS = 2048;
/** ...or fewer when they come from this many frames (up to 16 MiB of plaintext decoded at once). */
const BATCH_FRAMES = 64;
/** Frames encoded at once: one per codec thread of a two-core host, and one waiting. */
const ENCODES_IN_FLIGHT = 3;

export interface RelocationResult {
  /** Plaintext copied, blobs copied, and the packs (and their bytes) written. */
  copiedBytes: number;
  copiedBlobs: number;
  packsWritten: number;
  storedBytes: number;
  /** Packs the layout list names: the dense old ones and the new ones. */
  layoutPacks: number;
  layoutKey: string;
}

interface Pending {
  id: Uint8Array;
  entry: number;
}

export async function relocateSnapshot(
  repo: Repository,
  pool: CodecPool,
  entry: SnapshotEntry,
  scoped: ScopedIndex,
  assessment: LocalityAssessment,
  beforeCommit: () => void,
): Promise<RelocationResult> {
  const { index } = scoped;
  const dense = new Set(assessment.packs.filter((p) => p.dense).map((p) => p.packId));
  const created: ListedPack[] = [];
  const packs = new PackWriter(repo.store, repo.keys, (p) => created.push({ packId: p.packId, packLength: p.packLength }), undefined, repo.packPut);
  const encode = (raw: Uint8Array) => pool.encodeFrame(raw, DEFAULT_ZSTD_LEVEL);
  const data = new FrameBuilder(BlobType.Data, encode, (f) => packs.add(f), ENCODES_IN_FLIGHT);
  const maps = new FrameBuilder(BlobType.Map, encode, (f) => packs.add(f), ENCODES_IN_FLIGHT);
  const copied = new IdTable();
  const result = { copiedBytes: 0, copiedBlobs: 0 };

  const copy = async (batch: Pending[], into: FrameBuilder) => {
    const frameNos = new Map<number, number>();
    const refs: FrameRef[] = [];
    const blobsOf: Pending[][] = [];
    for (const p of batch) {
      const frameNo = index.entryFrameNo(p.entry);
      let f = frameNos.get(frameNo);
      if (f === undefined) {
        frameNos.set(frameNo, (f = refs.length));
        refs.push({ frameNo, frame: index.frame(frameNo) });
        blobsOf.push([]);
      }
      blobsOf[f]!.push(p);
    }
    const fetched = await fetchRuns(repo.store, refs);
    const raws = await Promise.all(
      refs.map(async (ref, f) => {
        const { run, offset } = fetched.placements[f]!;
        const stored = new Uint8Array(fetched.runs[run]!.subarray(offset, offset + ref.frame.storedLength));
        const mine = blobsOf[f]!;
        const spans = new Uint32Array(mine.length * 2);
        const ids = new Uint8Array(mine.length * ID_BYTES);
        mine.forEach((p, k) => {
          spans[k * 2] = index.entryOffset(p.entry);
          spans[k * 2 + 1] = index.entryLength(p.entry);
          ids.set(p.id, k * ID_BYTES);
        });
        const r = await pool.decodeFrame({ stored, compression: ref.frame.compression, rawLength: ref.frame.rawLength, spans, ids });
        if (r.error || r.badSpans.length > 0 || !r.raw) {
          const bad = mine[r.badSpans[0] ?? 0]!;
          throw new CorruptDataError(
            `pack ${ref.frame.packId}: blob ${toHex(bad.id)} is damaged (${r.error ?? 'id mismatch'}); run verify, maintenance stopped`,
            { object: packKey(ref.frame.packId) },
          );
        }
        return r.raw;
      }),
    );
    for (const p of batch) {
      const raw = raws[frameNos.get(index.entryFrameNo(p.entry))!]!;
      const at = index.entryOffset(p.entry);
      const length = index.entryLength(p.entry);
      await into.add(p.id, raw.subarray(at, at + length));
      result.copiedBytes += length;
      result.copiedBlobs++;
    }
  };

  // Data in volume order; each blob once (a block repeated in the volume is read from its first copy).
  let batch: Pending[] = [];
  let batchFrames = new Set<number>();
  const nodes: Uint8Array[] = [];
  const wanted = (ids: Uint8Array, offset: number): number => {
    const e = index.entry(ids, offset);
    if (e < 0 || dense.has(index.frame(index.entryFrameNo(e)).packId)) return -1;
    return copied.add(ids, offset) ? e : -1;
  };
  // A frame never straddles two restore windows: each would decode it whole.
  const perWindow = Math.max(1, Math.floor(WINDOW_BYTES / entry.snapshot.chunkSize));
  let window = 0;
  await walkSnapshot(repo, pool, entry, scoped, {
    node: (ids, offset) => nodes.push(ids.slice(offset, offset + ID_BYTES)),
    leaf: async (ids, offset, chunk) => {
      const e = wanted(ids, offset);
      if (e < 0) return;
      const w = Math.floor(chunk / perWindow);
      if (w !== window) {
        const full = batch;
        batch = [];
        batchFrames = new Set();
        await copy(full, data);
        await data.flush();
        window = w;
      }
      batch.push({ id: ids.slice(offset, offset + ID_BYTES), entry: e });
      batchFrames.add(index.entryFrameNo(e));
      if (batch.length >= BATCH_BLOBS || batchFrames.size >= BATCH_FRAMES) {
        const full = batch;
        batch = [];
        batchFrames = new Set();
        await copy(full, data);
      }
    },
  });
  await copy(batch, data);
  const nodeBatch: Pending[] = [];
  for (const id of nodes) {
    const e = wanted(id, 0);
    if (e >= 0) nodeBatch.push({ id, entry: e });
  }
  for (let i = 0; i < nodeBatch.length; i += BATCH_FRAMES) await copy(nodeBatch.slice(i, i + BATCH_FRAMES), maps);
  await data.close();
  await maps.close();
  await packs.close();

  // The new packs and their index objects are stored: only now may a list name them.
  // The copies first: a blob a dense pack holds too is read from where the assessment placed it.
  const layout: ListedPack[] = [...created, ...assessment.packs.filter((p) => p.dense).map((p) => ({ packId: p.packId, packLength: p.packLength }))];
  beforeCommit();
  const prefix = snapshotLayoutsPrefix(repo.volumeKey(entry.snapshot.volumeId), entry.id);
  const older = (await collect(repo.store.list(prefix))).map((o) => o.key);
  const layoutKey = newLayoutKey(repo.volumeKey(entry.snapshot.volumeId), entry.id);
  await repo.store.put(layoutKey, encodeEnvelope(encodePackList(layout), repo.keys.enc));
  for (const key of older) await repo.store.delete(key);
  return { ...result, packsWritten: packs.stats.packs, storedBytes: packs.stats.storedBytes, layoutPacks: layout.length, layoutKey };
}
