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
 */
import { IdTable } from './id-table.js';

/**
 * 512 Ki ids (about 24 MiB at most): every repeat within 1 GiB of new 4 KiB chunks is found
 * (within 2 GiB most are), which covers most files repeated inside one filesystem. Twice this
 * made a 16 GiB archive's peak RSS 1.25x a 1 GiB one's (the window full against a quarter full);
 * the repository of the benchmark's 2 GiB image did not grow with the smaller window.
 */
export const DEFAULT_RECENT_IDS = 512 * 1024;

export class RecentIds {
  private current = new IdTable();
  private previous = new IdTable();
  private readonly generation: number;

  constructor(capacity = DEFAULT_RECENT_IDS) {
    this.generation = Math.max(1, Math.floor(capacity / 2));
  }

  /** True when the id was not remembered (and is now); false for a repeat. */
  insert(ids: Uint8Array, offset: number): boolean {
    if (this.previous.find(ids, offset) >= 0) return false;
    if (!this.current.insert(ids, offset).added) return false;
    if (this.current.count >= this.generation) {
      // The dropped generation's table is cleared and refilled rather than replaced: a new one
      // would grow by doubling again, and every generation's outgrown arrays would linger until
      // a major collection (~10 MiB a generation, which made a long archive's memory creep).
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
