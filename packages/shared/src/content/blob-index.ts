/**
 * The in-memory index: blob id -> (pack, frame, offset in the frame's plaintext, length).
 * Ids sit in an IdTable and numbers in typed arrays, ~60 bytes per blob, so a repository of
 * millions of blobs fits the archive's memory budget.
 */
import type { BlobTypeId, CompressionId } from '../format/codec-ids.js';
import type { IndexedPack } from '../format/index-object.js';
import type { ListedPack } from '../format/pack-list.js';
import { ID_BYTES } from '../format/ids.js';
import { GrowableU32 } from './growable.js';
import { IdTable } from './id-table.js';

export interface FrameLocation {
  packId: string;
  /** Byte offset of the stored frame in the pack. */
  offset: number;
  storedLength: number;
  rawLength: number;
  compression: CompressionId;
  type: BlobTypeId;
}

export interface BlobLocation {
  /** Identifies the frame within this index: equal for blobs of one frame. */
  frameNo: number;
  frame: FrameLocation;
  /** Offset of the blob in the frame's plaintext. */
  offset: number;
  length: number;
}

/** A string key for an id, for small Maps and Sets (manifest nodes, reports). */
export function idKeyOf(id: Uint8Array, offset = 0): string {
  return Buffer.from(id.buffer, id.byteOffset + offset, ID_BYTES).toString('latin1');
}

export class BlobIndex {
  /** Pack id -> the pack (id and length), one object each so lookups allocate nothing. */
  private readonly packs = new Map<string, ListedPack>();
  /** Pack id -> plaintext bytes of its indexed frames. */
  private readonly packRaw = new Map<string, number>();
  private readonly frames: FrameLocation[] = [];
  private readonly blobs: IdTable;
  private readonly blobFrame: GrowableU32;
  private readonly blobOffset: GrowableU32;
  private readonly blobLength: GrowableU32;

  /**
   * `presize`: blobs the index is sized for up front, when the caller knows (a restore, from the
   * pack headers it read): no growth and rehashing while hundreds of thousands are added.
   */
  constructor(options: { presize?: number } = {}) {
    const presize = Math.max(1024, options.presize ?? 0);
    this.blobs = new IdTable({ presize });
    this.blobFrame = new GrowableU32(presize);
    this.blobOffset = new GrowableU32(presize);
    this.blobLength = new GrowableU32(presize);
  }

  hasPack(packId: string): boolean {
    return this.packs.has(packId);
  }

  /** Every indexed pack's id. */
  packIds(): string[] {
    return [...this.packs.keys()];
  }

  /** Plaintext bytes of the frames indexed from a pack (0 for a pack not indexed). */
  packRawBytes(packId: string): number {
    return this.packRaw.get(packId) ?? 0;
  }

  /** The length of an indexed pack, or undefined. */
  packLength(packId: string): number | undefined {
    return this.packs.get(packId)?.packLength;
  }

  /**
   * Adds a pack's blobs; a blob already indexed elsewhere keeps its first location. With `only`,
   * frames of other blob types are left out (their bytes still count towards the offsets).
   */
  addPack(pack: IndexedPack, only?: BlobTypeId): void {
    if (this.packs.has(pack.packId)) return;
    this.packs.set(pack.packId, { packId: pack.packId, packLength: pack.packLength });
    let offset = 0;
    let raw = 0;
    for (const f of pack.frames) {
      if (only !== undefined && f.type !== only) {
        offset += f.storedLength;
        continue;
      }
      raw += f.rawLength;
      const frameNo = this.frames.length;
      this.frames.push({ packId: pack.packId, offset, storedLength: f.storedLength, rawLength: f.rawLength, compression: f.compression, type: f.type });
      offset += f.storedLength;
      let inFrame = 0;
      for (let i = 0; i < f.lengths.length; i++) {
        if (this.blobs.add(f.ids, i * ID_BYTES)) {
          this.blobFrame.push(frameNo);
          this.blobOffset.push(inFrame);
          this.blobLength.push(f.lengths[i]!);
        }
        inFrame += f.lengths[i]!;
      }
    }
    this.packRaw.set(pack.packId, raw);
  }

  /** The pack holding the blob, or undefined (the archive's lookup, as DedupIndex.find). */
  find(id: Uint8Array, offset = 0): ListedPack | undefined {
    const i = this.blobs.find(id, offset);
    return i < 0 ? undefined : this.packs.get(this.frames[this.blobFrame.get(i)]!.packId);
  }

  has(id: Uint8Array, offset = 0): boolean {
    return this.blobs.find(id, offset) >= 0;
  }

  /** The blob's entry number, or -1: allocation-free lookups for per-chunk loops. */
  entry(id: Uint8Array, offset = 0): number {
    return this.blobs.find(id, offset);
  }

  entryFrameNo(entry: number): number {
    return this.blobFrame.get(entry);
  }

  entryOffset(entry: number): number {
    return this.blobOffset.get(entry);
  }

  entryLength(entry: number): number {
    return this.blobLength.get(entry);
  }

  frame(frameNo: number): FrameLocation {
    return this.frames[frameNo]!;
  }

  lookup(id: Uint8Array, offset = 0): BlobLocation | undefined {
    const i = this.blobs.find(id, offset);
    if (i < 0) return undefined;
    const frameNo = this.blobFrame.get(i);
    return { frameNo, frame: this.frames[frameNo]!, offset: this.blobOffset.get(i), length: this.blobLength.get(i) };
  }
}
