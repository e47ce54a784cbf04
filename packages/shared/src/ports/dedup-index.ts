/**
 * DedupIndex: where an archive looks up whether the repository already holds a blob, without
 * loading the repository's index into memory. A host keeps it on local disk (the host index
 * table in @snapfleet/providers): sorted files of (blob id, pack) built from the bucket's index
 * objects and refreshed with what is new since, shared by every job and process on the host.
 * It is a cache: the bucket's index objects stay the truth, and the table is rebuilt from them.
 *
 * The engine cannot touch local files itself, so the composition root passes a DedupIndexCache
 * in when the host has a cache folder; without one an archive loads the index into memory.
 */
import type { IndexedPack } from '../format/index-object.js';
import type { ListedPack } from '../format/pack-list.js';

/** The repository's index objects, as the table refreshes itself from them. */
export interface IndexObjectView {
  /** Names the repository's index for the cache (its id key's fingerprint): one table each. */
  readonly repositoryId: string;
  /** Keys of the index objects the store lists now. */
  list(): Promise<string[]>;
  /** One index object's packs, or undefined when it is gone (compaction or prune removed it). */
  read(key: string): Promise<IndexedPack[] | undefined>;
}

export interface DedupIndex {
  /**
   * The pack holding the blob whose id is at `ids[offset..offset+32)`, or undefined. Called for
   * every chunk an archive reads, so it answers synchronously from local files.
   */
  find(ids: Uint8Array, offset: number): ListedPack | undefined;
  /**
   * `find` for the id at each of `offsets` in `ids`, answered together and off the calling
   * thread where the table can: an archive asks for a block's chunks while the block waits its
   * turn in the pipeline, so lookups no longer serialize it. The answers are `find`'s.
   */
  findMany(ids: Uint8Array, offsets: Uint32Array): Promise<(ListedPack | undefined)[]>;
  /** Whether some index object of the view describes the pack. */
  hasPack(packId: string): boolean;
  /** What the table holds and what its refresh read, for logs and benchmarks. */
  readonly stats: DedupIndexStats;
  close(): Promise<void>;
}

export interface DedupIndexStats {
  /** Entries in the table (a blob stored in two packs counts twice) and its files. */
  entries: number;
  runs: number;
  bytes: number;
  /** Runs and entries held in memory (small runs; the rest is read a bucket per lookup). */
  residentRuns: number;
  residentEntries: number;
  /** Index objects read from the view by this open's refresh (0 when nothing was new). */
  objectsRead: number;
}

export interface DedupIndexCache {
  /**
   * The table of this view's index, refreshed to match the listing taken now: entries of index
   * objects gone since are dropped, new ones added. Open it after the archive's lease is held,
   * as the index was loaded before (docs/format.md, "Concurrency"). Undefined when the host's
   * table cannot be used (its folder is unwritable, the disk full: reported through the
   * adapter's warnings): the archive then loads the index into memory.
   */
  open(view: IndexObjectView, options?: DedupIndexOpenOptions): Promise<DedupIndex | undefined>;
}

export interface DedupIndexOpenOptions {
  /**
   * Packs whose blobs `find` must not return (those prune has condemned): a blob found only in
   * them counts as absent, one also stored elsewhere is found there.
   */
  exclude?: ReadonlySet<string>;
}
