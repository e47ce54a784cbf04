/**
 * Reads chunk ids out of a manifest tree by range. Keeps the last node of each level, so a
 * sequential scan loads every node once and holds one node per level in memory.
 */
import { CorruptDataError } from '../errors.js';
import { ID_BYTES, isHole } from '../format/ids.js';
import { FANOUT, nodeEntries } from '../format/tree-shape.js';

interface Cached {
  node: number;
  data: Uint8Array;
}

export class TreeReader {
  private readonly cache: (Cached | undefined)[];

  constructor(
    private readonly root: Uint8Array,
    private readonly height: number,
    private readonly chunks: number,
    private readonly loadNode: (id: Uint8Array) => Promise<Uint8Array>,
  ) {
    this.cache = new Array(height).fill(undefined);
  }

  /** Ids of chunks [start, start + count), 32 bytes each; holes are all-zero ids. */
  async read(start: number, count: number): Promise<Buffer> {
    if (start < 0 || start + count > this.chunks) throw new RangeError(`chunks ${start}+${count} outside 0..${this.chunks}`);
    const out = Buffer.alloc(count * ID_BYTES);
    let c = start;
    while (c < start + count) {
      const leafNo = Math.floor(c / FANOUT);
      const leaf = await this.node(0, leafNo);
      const from = c - leafNo * FANOUT;
      const n = Math.min(FANOUT - from, start + count - c);
      if (leaf) out.set(leaf.subarray(from * ID_BYTES, (from + n) * ID_BYTES), (c - start) * ID_BYTES);
      c += n;
    }
    return out;
  }

  /** The node's entries, or undefined when the whole subtree is a hole. */
  private async node(level: number, node: number): Promise<Uint8Array | undefined> {
    const cached = this.cache[level];
    if (cached?.node === node) return cached.data;
    let id: Uint8Array;
    if (level === this.height - 1) {
      id = this.root;
    } else {
      const parentNo = Math.floor(node / FANOUT);
      const parent = await this.node(level + 1, parentNo);
      if (!parent) return undefined;
      const at = (node - parentNo * FANOUT) * ID_BYTES;
      id = parent.subarray(at, at + ID_BYTES);
    }
    if (isHole(id, 0)) return undefined;
    const data = await this.loadNode(id);
    const expected = nodeEntries(this.chunks, level, node) * ID_BYTES;
    if (data.byteLength !== expected) {
      throw new CorruptDataError(`manifest node at level ${level} #${node} has ${data.byteLength} bytes, expected ${expected}`);
    }
    this.cache[level] = { node, data };
    return data;
  }
}
