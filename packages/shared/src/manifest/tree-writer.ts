/** Streams chunk ids in volume order into a manifest tree; returns the root id. */
import { HOLE_ID, ID_BYTES, isHole } from '../format/ids.js';
import { FANOUT, treeHeight } from '../format/tree-shape.js';

interface Level {
  buf: Buffer;
  count: number;
  holes: number;
}

export class TreeWriter {
  private readonly levels: Level[];
  private pushed = 0;

  /** `storeNode` stores one node and returns its id (deduplicated like any blob). */
  constructor(
    private readonly chunks: number,
    private readonly storeNode: (raw: Uint8Array) => Promise<Uint8Array>,
  ) {
    this.levels = Array.from({ length: treeHeight(chunks) }, () => ({ buf: Buffer.alloc(FANOUT * ID_BYTES), count: 0, holes: 0 }));
  }

  get height(): number {
    return this.levels.length;
  }

  /** Appends `count` ids from `ids` (32 bytes each), the next chunks in volume order. */
  async push(ids: Uint8Array, count: number): Promise<void> {
    if (this.pushed + count > this.chunks) throw new Error(`manifest overflow: ${this.pushed + count} > ${this.chunks} chunks`);
    // Copy into the current leaf in bulk; only a full leaf needs the (async) node store.
    const leaf = this.levels[0]!;
    let i = 0;
    while (i < count) {
      const n = Math.min(count - i, FANOUT - leaf.count);
      leaf.buf.set(ids.subarray(i * ID_BYTES, (i + n) * ID_BYTES), leaf.count * ID_BYTES);
      for (let k = i; k < i + n; k++) if (isHole(ids, k * ID_BYTES)) leaf.holes++;
      leaf.count += n;
      i += n;
      if (leaf.count === FANOUT && this.levels.length > 1) await this.emit(0);
    }
    this.pushed += count;
  }

  /**
   * Appends `count` hole entries (zero chunks, or blocks the source never wrote). A run of holes
   * costs what it changes in the tree, not its length: where the levels below are empty, a whole
   * node's worth of holes is one hole entry a level up (what that all-hole node would be emitted
   * as), so a mostly empty 16 TiB volume is not four billion entries to zero and count. The tree
   * is the same as pushing the zero ids one by one.
   */
  async pushHoles(count: number): Promise<void> {
    if (this.pushed + count > this.chunks) throw new Error(`manifest overflow: ${this.pushed + count} > ${this.chunks} chunks`);
    const top = this.levels.length - 1;
    let left = count;
    while (left > 0) {
      let level = 0;
      let span = 1;
      while (level < top && this.levels[level]!.count === 0 && left >= span * FANOUT) {
        level++;
        span *= FANOUT;
      }
      if (level > 0) {
        await this.append(level, HOLE_ID, 0);
        left -= span;
        continue;
      }
      const leaf = this.levels[0]!;
      const n = Math.min(left, FANOUT - leaf.count);
      leaf.buf.fill(0, leaf.count * ID_BYTES, (leaf.count + n) * ID_BYTES);
      leaf.holes += n;
      leaf.count += n;
      left -= n;
      if (leaf.count === FANOUT && top > 0) await this.emit(0);
    }
    this.pushed += count;
  }

  async finish(): Promise<Uint8Array> {
    if (this.pushed !== this.chunks) throw new Error(`manifest incomplete: ${this.pushed} of ${this.chunks} chunks`);
    const top = this.levels.length - 1;
    for (let level = 0; level < top; level++) if (this.levels[level]!.count > 0) await this.emit(level);
    const root = this.levels[top]!;
    if (root.count === 0 || root.holes === root.count) return HOLE_ID;
    return this.storeNode(Buffer.from(root.buf.subarray(0, root.count * ID_BYTES)));
  }

  private async append(level: number, ids: Uint8Array, offset: number): Promise<void> {
    const l = this.levels[level]!;
    l.buf.set(ids.subarray(offset, offset + ID_BYTES), l.count * ID_BYTES);
    if (isHole(ids, offset)) l.holes++;
    l.count++;
    if (l.count === FANOUT && level < this.levels.length - 1) await this.emit(level);
  }

  /** Closes the node at `level` and appends its id one level up; an all-hole node is a hole. */
  private async emit(level: number): Promise<void> {
    const l = this.levels[level]!;
    const id = l.holes === l.count ? HOLE_ID : await this.storeNode(l.buf.subarray(0, l.count * ID_BYTES));
    l.count = 0;
    l.holes = 0;
    await this.append(level + 1, id, 0);
  }
}
