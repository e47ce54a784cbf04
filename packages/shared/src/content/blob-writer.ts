/**
 * BlobWriter: the write side of the content layer. It deduplicates against the repository index
 * (as it stood when the archive started: the host's table, or the index loaded into memory) and against the blobs this session stored or is storing
 * (a bounded window of the most recent: RecentIds), and routes new data and map blobs into
 * separate frames (a restore never decodes data to read the manifest). Packs it stores are not
 * added to the loaded index: that would make the archive's memory grow with the volume.
 */
import type { BlobStore, PutOptions } from '../ports/blob-store.js';
import type { MasterKeys } from '../format/master-keys.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { framesOutBytes, type BuiltFrame } from '../parallel/chunk-frames.js';
import { SharedBufferPool } from '../parallel/shared-buffer-pool.js';
import { BlobType } from '../format/codec-ids.js';
import { blobId, ID_BYTES, isHole } from '../format/ids.js';
import type { DedupIndex } from '../ports/dedup-index.js';
import { RecentIds } from './recent-ids.js';
import type { ListedPack } from '../format/pack-list.js';
import { DEFAULT_FRAME_SIZE, FrameBuilder } from './frame-builder.js';
import { PackWriter } from './pack-writer.js';
import { TaskGroup } from './task-group.js';

export interface BlobWriterStats {
  newBlobs: number;
  /** Plaintext bytes of the new blobs. */
  newBytes: number;
  dedupedBlobs: number;
  packs: number;
  /** Bytes of packs written (frames and headers), what the object store grows by. */
  storedBytes: number;
}

export interface BlobWriterOptions {
  zstdLevel: number;
  /** The largest block addBlock is given (the source's block size). */
  blockSize: number;
  /** Blocks being framed in the pool at once: enough to keep every codec thread busy. */
  blocksInFlight: number;
  packSize?: number;
  /** How packs are put (the repository's pack storage class). */
  packPut?: PutOptions;
  /**
   * When given, manifest (map) blobs go into packs of their own, put with these options: a
   * repository whose data packs sit in an archive storage class keeps its manifests readable.
   * @defaultValue undefined: maps share the data packs
   */
  mapPut?: PutOptions;
  /** Ids of this session's own new blobs remembered for deduplication. @defaultValue DEFAULT_RECENT_IDS */
  recentIds?: number;
}

/** The index's answers for a block's chunks, asked ahead: `packs[k]` is for `offsets[k]`. */
export interface LookupsAhead {
  offsets: Uint32Array;
  packs: readonly (ListedPack | undefined)[];
}

/** claim's mark for a chunk whose lookup was not made ahead. */
const NOT_ASKED = Symbol('not asked');

export class BlobWriter {
  /** Ids this session claimed: stored, or on their way to a pack. */
  private readonly recent: RecentIds;
  /** Packs this session stored, and indexed packs holding blobs it referenced: the pack list. */
  private readonly ownPacks: ListedPack[] = [];
  private readonly usedPacks = new Map<string, ListedPack>();
  private readonly packs: PackWriter;
  /** The map blobs' own packs (options.mapPut), or the data packs. */
  private readonly mapPacks: PackWriter;
  private readonly maps: FrameBuilder;
  /** Shared memory the codec threads encode a block's frames into, one slot per block in flight. */
  private framing?: SharedBufferPool;
  private readonly tasks = new TaskGroup();
  private newBlobs = 0;
  private newBytes = 0;
  private dedupedBlobs = 0;

  constructor(
    store: BlobStore,
    private readonly keys: MasterKeys,
    /** The repository's blobs as the archive may reuse them (the write view). */
    private readonly index: Pick<DedupIndex, 'find'>,
    private readonly pool: CodecPool,
    private readonly options: BlobWriterOptions,
  ) {
    const stored = (pack: { packId: string; packLength: number }) => void this.ownPacks.push({ packId: pack.packId, packLength: pack.packLength });
    this.packs = new PackWriter(store, keys, stored, options.packSize, options.packPut);
    this.mapPacks = options.mapPut ? new PackWriter(store, keys, stored, options.packSize, options.mapPut) : this.packs;
    this.recent = new RecentIds(options.recentIds);
    this.maps = new FrameBuilder(
      BlobType.Map,
      (raw) => pool.encodeFrame(raw, options.zstdLevel),
      (frame) => this.mapPacks.add(frame),
      2,
    );
  }

  /**
   * Marks the id as stored-or-coming and says whether it is new: false when the repository has
   * it or this session took it recently. `pack` is the index's answer when it was asked ahead
   * (lookupsAhead), undefined among them; NOT_ASKED has the index asked now.
   */
  private claim(ids: Uint8Array, offset: number, pack: ListedPack | undefined | typeof NOT_ASKED): boolean {
    // This session's own chunks first: a repeat of one it stored is answered from memory, not by
    // the index, whose lookup on a host table is a system call.
    if (this.recent.has(ids, offset)) return false;
    return !this.use(pack === NOT_ASKED ? this.index.find(ids, offset) : pack) && this.recent.insert(ids, offset);
  }

  /**
   * The offsets in `ids` of the chunks addBlock will look up in the index (not holes, not the
   * parent's, not among this session's recent ids), for a caller that asks the index for them
   * ahead, off its thread (DedupIndex.findMany). Asking for more or fewer than addBlock needs
   * is safe: a chunk asked in vain costs a lookup, one not asked is looked up in turn.
   */
  lookupsAhead(ids: Uint8Array, parentIds?: Uint8Array): Uint32Array {
    const n = ids.byteLength / ID_BYTES;
    const out = new Uint32Array(n);
    let count = 0;
    for (let i = 0; i < n; i++) {
      const o = i * ID_BYTES;
      if (isHole(ids, o) || (parentIds && sameId(ids, parentIds, o)) || this.recent.has(ids, o)) continue;
      out[count++] = o;
    }
    return out.subarray(0, count);
  }

  /**
   * Whether the loaded index has the blob; if so, its pack goes into the pack list. For blobs
   * the snapshot references without storing them (a parent's unchanged blocks).
   */
  noteIndexed(ids: Uint8Array, offset: number): boolean {
    return this.use(this.index.find(ids, offset));
  }

  /** Puts an indexed blob's pack into the pack list; false when there is none (not indexed). */
  private use(pack: ListedPack | undefined): boolean {
    if (!pack) return false;
    if (!this.usedPacks.has(pack.packId)) this.usedPacks.set(pack.packId, pack);
    return true;
  }

  /**
   * Adds packs to the pack list without looking anything up: the parent's list, taken over for
   * the chunks the snapshot shares with it (engine/parent-lineage.ts).
   */
  inherit(packs: readonly ListedPack[]): void {
    for (const p of packs) if (!this.usedPacks.has(p.packId)) this.usedPacks.set(p.packId, p);
  }

  /**
   * The packs holding every blob this session stored or referenced (after close), in precedence
   * order (format/pack-list.ts): its own, then the parent's taken over, then those lookups named.
   */
  packList(): ListedPack[] {
    const out = [...this.ownPacks];
    for (const p of this.usedPacks.values()) out.push({ packId: p.packId, packLength: p.packLength });
    return out;
  }

  /** Ids of this session remembered now (bounded by the window). */
  get recentCount(): number {
    return this.recent.count;
  }

  /**
   * Stores the chunks of one source block that the repository lacks. `ids` holds every chunk's
   * id (holes all-zero); a chunk equal to `parentIds` at its place (the parent's, whose packs
   * were inherited) is known to be stored and needs no lookup. `done` is called once `data` is
   * no longer needed (the caller recycles its buffer): at once when nothing is new, else when
   * the block's frames are built. `ahead` holds the index's answers for chunks asked ahead of
   * time (lookupsAhead, ascending offsets), which spares those their lookup here.
   */
  async addBlock(
    data: Uint8Array,
    ids: Uint8Array,
    chunkSize: number,
    done: () => void = () => {},
    parentIds?: Uint8Array,
    ahead?: LookupsAhead,
  ): Promise<void> {
    try {
      this.tasks.check();
    } catch (err) {
      done();
      throw err;
    }
    const n = ids.byteLength / ID_BYTES;
    const fresh: number[] = [];
    let next = 0;
    for (let i = 0; i < n; i++) {
      const o = i * ID_BYTES;
      if (isHole(ids, o)) continue;
      let pack: ListedPack | undefined | typeof NOT_ASKED = NOT_ASKED;
      if (ahead && next < ahead.offsets.length && ahead.offsets[next] === o) pack = ahead.packs[next++];
      if ((parentIds && sameId(ids, parentIds, o)) || !this.claim(ids, o, pack)) {
        this.dedupedBlobs++;
        continue;
      }
      fresh.push(i);
      this.newBlobs++;
      this.newBytes += Math.min(chunkSize, data.byteLength - i * chunkSize);
    }
    if (fresh.length === 0) {
      done();
      return;
    }
    if (data.byteLength > this.options.blockSize) {
      done();
      throw new RangeError(`block of ${data.byteLength} bytes is larger than the block size ${this.options.blockSize}`);
    }
    this.framing ??= new SharedBufferPool(framesOutBytes(this.options.blockSize, Math.ceil(this.options.blockSize / chunkSize)), this.options.blocksInFlight);
    const framing = this.framing;
    const out = await framing.acquire();
    const job = { data, chunkSize, chunks: Uint32Array.from(fresh), blockIds: ids, level: this.options.zstdLevel, frameSize: DEFAULT_FRAME_SIZE, out };
    this.tasks.spawn(
      this.pool
        .chunkFrames(job)
        .finally(done)
        .then((frames) => this.storeFrames(frames, out))
        .finally(() => framing.release(out)),
    );
  }

  /** Copies the frames out of their slot into packs; the slot is free again once this returns. */
  private async storeFrames(frames: BuiltFrame[], out: Uint8Array): Promise<void> {
    for (const f of frames) {
      const stored = out.subarray(f.offset, f.offset + f.storedLength);
      await this.packs.add({
        type: BlobType.Data,
        compression: f.compression,
        storedLength: f.storedLength,
        rawLength: f.rawLength,
        ids: f.ids,
        lengths: f.lengths,
        stored,
      });
    }
  }

  /** Stores a manifest node; ids it on this thread (nodes are small and rare). */
  async addMap(raw: Uint8Array): Promise<Buffer> {
    const id = blobId(this.keys.id, raw);
    if (this.claim(id, 0, NOT_ASKED)) await this.maps.add(id, raw);
    return id;
  }

  /** Flushes every frame and pack and waits until all are stored and indexed. */
  async close(): Promise<BlobWriterStats> {
    await this.tasks.wait();
    await this.maps.close();
    await this.packs.close();
    if (this.mapPacks !== this.packs) await this.mapPacks.close();
    return {
      newBlobs: this.newBlobs,
      newBytes: this.newBytes,
      dedupedBlobs: this.dedupedBlobs,
      packs: this.packs.stats.packs + (this.mapPacks !== this.packs ? this.mapPacks.stats.packs : 0),
      storedBytes: this.packs.stats.storedBytes + (this.mapPacks !== this.packs ? this.mapPacks.stats.storedBytes : 0),
    };
  }
}

/** Whether the ids at `offset` in `a` and `b` are equal (false past the end of `b`). */
function sameId(a: Uint8Array, b: Uint8Array, offset: number): boolean {
  if (offset + ID_BYTES > b.byteLength) return false;
  for (let i = 0; i < ID_BYTES; i++) if (a[offset + i] !== b[offset + i]) return false;
  return true;
}
