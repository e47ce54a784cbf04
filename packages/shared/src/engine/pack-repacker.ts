/**
 * Copies the still-needed blobs of mostly-dead packs into new packs, so the old packs can be
 * condemned whole; and, given another repository as the source, the blobs a copy of snapshots
 * needs (engine/copy.ts). Every copied blob is decoded and checked against its id first: a
 * repack never spreads damage, it stops.
 */
import type { CodecPool } from '../parallel/codec-pool.js';
import { BlobType, type BlobTypeId } from '../format/codec-ids.js';
import { ID_BYTES, toHex } from '../format/ids.js';
import { packKey } from '../format/layout.js';
import type { IndexedPack } from '../format/index-object.js';
import { CorruptDataError } from '../errors.js';
import { FrameBuilder } from '../content/frame-builder.js';
import { IdTable } from '../content/id-table.js';
import { PackWriter } from '../content/pack-writer.js';
import { DEFAULT_ZSTD_LEVEL } from '../format/zstd.js';
import type { Repository } from './repository.js';

export interface RepackStats {
  blobs: number;
  bytes: number;
  packs: number;
  storedBytes: number;
}

/** Remembers the blobs copied so far; `insert` says whether the id is new (and to be copied). */
export interface CopiedIds {
  insert(ids: Uint8Array, offset: number): boolean;
}

/** Where the blobs come from: by default the repository they are copied into. */
export interface RepackSource {
  repo: Repository;
  pool: CodecPool;
}

export class PackRepacker {
  private readonly packs: PackWriter;
  private readonly data: FrameBuilder;
  private readonly maps: FrameBuilder;
  private readonly copied: CopiedIds;
  private readonly source: RepackSource;
  private blobs = 0;
  private bytes = 0;

  constructor(
    private readonly repo: Repository,
    private readonly pool: CodecPool,
    zstdLevel = DEFAULT_ZSTD_LEVEL,
    /** Told of each new pack once it and its index object are stored. */
    onStored: (pack: IndexedPack) => void = () => {},
    options: { source?: RepackSource; copied?: CopiedIds } = {},
  ) {
    this.source = options.source ?? { repo, pool };
    if (options.copied) this.copied = options.copied;
    else {
      const table = new IdTable();
      this.copied = { insert: (ids, offset) => table.add(ids, offset) };
    }
    this.packs = new PackWriter(repo.store, repo.keys, onStored, undefined, repo.packPut);
    const encode = (raw: Uint8Array) => pool.encodeFrame(raw, zstdLevel);
    this.data = new FrameBuilder(BlobType.Data, encode, (f) => this.packs.add(f), 2);
    this.maps = new FrameBuilder(BlobType.Map, encode, (f) => this.packs.add(f), 2);
  }

  /** Copies the blobs of `pack` for which `wanted` says yes (and that were not copied yet). */
  async copy(pack: IndexedPack, wanted: (ids: Uint8Array, offset: number) => boolean): Promise<void> {
    const bytes = await this.source.repo.store.get(packKey(pack.packId));
    let at = 0;
    for (const f of pack.frames) {
      const spans: number[] = [];
      const picks: number[] = [];
      let inFrame = 0;
      for (let i = 0; i < f.lengths.length; i++) {
        if (wanted(f.ids, i * ID_BYTES) && this.copied.insert(f.ids, i * ID_BYTES)) {
          spans.push(inFrame, f.lengths[i]!);
          picks.push(i);
        }
        inFrame += f.lengths[i]!;
      }
      if (picks.length > 0) {
        const ids = new Uint8Array(picks.length * ID_BYTES);
        picks.forEach((i, k) => ids.set(f.ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES), k * ID_BYTES));
        const stored = new Uint8Array(bytes.subarray(at, at + f.storedLength));
        const result = await this.source.pool.decodeFrame({ stored, compression: f.compression, rawLength: f.rawLength, spans: Uint32Array.from(spans), ids });
        if (result.error || result.badSpans.length > 0 || !result.raw) {
          const bad = picks[result.badSpans[0] ?? 0]!;
          throw new CorruptDataError(
            `pack ${pack.packId}: blob ${toHex(f.ids.subarray(bad * ID_BYTES, (bad + 1) * ID_BYTES))} is damaged (${result.error ?? 'id mismatch'}); run verify (nothing was copied from it)`,
            { object: packKey(pack.packId) },
          );
        }
        const builder = f.type === BlobType.Map ? this.maps : this.data;
        for (let k = 0; k < picks.length; k++) {
          const length = spans[k * 2 + 1]!;
          await builder.add(ids.subarray(k * ID_BYTES, (k + 1) * ID_BYTES), result.raw.subarray(spans[k * 2]!, spans[k * 2]! + length));
          this.blobs++;
          this.bytes += length;
        }
      }
      at += f.storedLength;
    }
  }

  /**
   * Copies what reads of a damaged pack: every blob of every frame that lies wholly within
   * `bytes` (what is left of the pack), decodes and checks against its id. Returns the ids of
   * the blobs that do not (a frame cut off, failing authentication, or a blob not matching).
   */
  async salvage(pack: IndexedPack, bytes: Uint8Array): Promise<{ salvaged: number; lost: Uint8Array[] }> {
    const lost: Uint8Array[] = [];
    let salvaged = 0;
    let at = 0;
    for (const f of pack.frames) {
      const start = at;
      at += f.storedLength;
      const idAt = (i: number) => f.ids.slice(i * ID_BYTES, (i + 1) * ID_BYTES);
      if (at > bytes.byteLength) {
        for (let i = 0; i < f.lengths.length; i++) lost.push(idAt(i));
        continue;
      }
      const spans: number[] = [];
      let inFrame = 0;
      for (const length of f.lengths) {
        spans.push(inFrame, length);
        inFrame += length;
      }
      const stored = new Uint8Array(bytes.subarray(start, at));
      const result = await this.pool.decodeFrame({
        stored,
        compression: f.compression,
        rawLength: f.rawLength,
        spans: Uint32Array.from(spans),
        ids: new Uint8Array(f.ids),
      });
      const bad = new Set(result.error || !result.raw ? f.lengths.map((_, i) => i) : result.badSpans);
      const builder = f.type === BlobType.Map ? this.maps : this.data;
      for (let i = 0; i < f.lengths.length; i++) {
        if (bad.has(i)) {
          lost.push(idAt(i));
          continue;
        }
        if (!this.copied.insert(f.ids, i * ID_BYTES)) continue;
        await builder.add(idAt(i), result.raw!.subarray(spans[i * 2]!, spans[i * 2]! + f.lengths[i]!));
        salvaged++;
        this.blobs++;
        this.bytes += f.lengths[i]!;
      }
    }
    return { salvaged, lost };
  }

  /** Adds one blob whose bytes the caller has checked against its id (found elsewhere). */
  async addBlob(type: BlobTypeId, id: Uint8Array, raw: Uint8Array): Promise<void> {
    if (!this.copied.insert(id, 0)) return;
    await (type === BlobType.Map ? this.maps : this.data).add(id, raw);
    this.blobs++;
    this.bytes += raw.byteLength;
  }

  /** Stores the last frames and packs (each with its index object). */
  async close(): Promise<RepackStats> {
    await this.data.close();
    await this.maps.close();
    await this.packs.close();
    return { blobs: this.blobs, bytes: this.bytes, packs: this.packs.stats.packs, storedBytes: this.packs.stats.storedBytes };
  }
}
