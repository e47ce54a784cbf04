/**
 * The ids an archive has stored (or is storing) itself, as a window of the most recent ones
 * rather than all of them. Kept whole, this set grows with the volume (about 48 bytes per new
 * chunk: 12 GiB for a 1 TiB volume of new 4 KiB chunks), and so would the archive's memory.
 *
 * Forgetting an old id is safe: the archive only misses a duplicate and stores it again.
 * Deduplication within a volume's own history does not depend on this window: unchanged
 * blocks are found in the repository index (or, with a changed-block list, in the parent's
 * manifest). Only repeats of new data farther apart than the window are stored twice.
 *
 * Two generations: ids go into the current one; when it is full it becomes the previous one
 * and the old previous one is dropped, so between `capacity / 2` and `capacity` of the most
 * recent ids are always remembered, in at most `capacity` entries of memory.
 *
 * Only the first 16 bytes of each id are kept (24 bytes an entry with the slots, instead of
 * 40). Ids are keyed hashes: without the key nobody can make two chunks share a prefix, and by
 * chance two of a window's ids share 128 bits with odds of about 2^-90. kopia uses 128-bit
 * content ids for all of its deduplication on the same argument. Should it happen anyway, the
 * later chunk is referenced by its own full id without being stored: a missing blob that
 * verify reports, never other data restored in its place.
 *
 * Both generations are sized for their ids up front and reused: the window never grows by
 * doubling, so an archive's memory for it is the same at its first GiB as at its last.
 */
import { IdTable } from './id-table.js';

/** Bytes of each id the window keeps: see above. */
export const RECENT_ID_PREFIX_BYTES = 16;

/**
 * 512 Ki ids (12 MiB at most: two generations of 256 Ki prefixes and their slots): every
 * repeat within 1 GiB of new 4 KiB chunks is found (within 2 GiB most are), which covers most
 * files repeated inside one filesystem. The repository of the benchmark's 2 GiB image did not
 * grow with this window against one twice as large.
 */
export const DEFAULT_RECENT_IDS = 512 * 1024;

export class RecentIds {
  private current: IdTable;
  private previous: IdTable;
  private readonly generation: number;

  constructor(capacity = DEFAULT_RECENT_IDS) {
    this.generation = Math.max(1, Math.floor(capacity / 2));
    const sized = { keyBytes: RECENT_ID_PREFIX_BYTES, presize: this.generation };
    this.current = new IdTable(sized);
    this.previous = new IdTable(sized);
  }

  /** True when the id was not remembered (and is now); false for a repeat. */
  insert(ids: Uint8Array, offset: number): boolean {
    if (this.previous.find(ids, offset) >= 0) return false;
    if (!this.current.insert(ids, offset).added) return false;
    if (this.current.count >= this.generation) {
      // The dropped generation's table is cleared and refilled rather than replaced: its arrays
      // are already the size a generation needs, and a new one's would linger as garbage.
      const dropped = this.previous;
      dropped.clear();
      this.previous = this.current;
      this.current = dropped;
    }
    return true;
  }

  has(ids: Uint8Array, offset: number): boolean {
    return this.current.find(ids, offset) >= 0 || this.previous.find(ids, offset) >= 0;
  }

  /** Ids remembered now. */
  get count(): number {
    return this.current.count + this.previous.count;
  }
}
