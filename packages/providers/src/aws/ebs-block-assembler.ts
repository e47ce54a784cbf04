/**
 * Turns a restore's writes and zeroed ranges (aligned to the repository's chunks, which are
 * smaller than EBS's 512 KiB blocks) into whole blocks. A block is complete when every byte of it
 * inside the volume was written or zeroed; calls never overlap, so counting covered bytes is
 * exact. Blocks that turn out all zero are holes: a fresh EBS snapshot already reads as zeros
 * there, and an unwritten block costs neither a request nor snapshot storage.
 */

export interface AssembledBlock {
  index: number;
  /** The block's bytes (a whole block, zero-padded past the volume's end); undefined for a hole. */
  data?: Uint8Array;
}

interface PendingBlock {
  covered: number;
  /** Allocated on the first write: a block that is only ever zeroed needs no memory. */
  data?: Uint8Array;
}

export class BlockAssembler {
  private readonly pending = new Map<number, PendingBlock>();
  /** Buffers of blocks already sent, for reuse: restores write volumes of many GiB. */
  private readonly free: Uint8Array[] = [];

  constructor(
    readonly sizeBytes: number,
    readonly blockSize: number,
    private readonly maxFreeBuffers = 16,
  ) {}

  /** Blocks partly written so far. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Copies `data` (at volume byte `offset`) into its blocks; returns the blocks it completed. */
  write(offset: number, data: Uint8Array): AssembledBlock[] {
    return this.cover(offset, data.byteLength, (block, from, to, at) => {
      block.data ??= this.allocate();
      block.data.set(data.subarray(from, to), at);
    });
  }

  /** Marks a range as zeros; returns the blocks it completed. */
  zero(offset: number, length: number): AssembledBlock[] {
    // Nothing to copy: block buffers start zeroed and calls never overlap, so only the count moves.
    return this.cover(offset, length, () => {});
  }

  /** Every partly covered block, as it stands (the uncovered rest reads as zeros). */
  drain(): AssembledBlock[] {
    const out = [...this.pending.keys()].sort((a, b) => a - b).map((index) => this.finish(index));
    this.pending.clear();
    return out;
  }

  /** Hands a sent block's buffer back for reuse. */
  release(data: Uint8Array): void {
    if (data.byteLength === this.blockSize && this.free.length < this.maxFreeBuffers) this.free.push(data);
  }

  private cover(offset: number, length: number, apply: (block: PendingBlock, from: number, to: number, at: number) => void): AssembledBlock[] {
    const done: AssembledBlock[] = [];
    let from = 0;
    while (from < length) {
      const pos = offset + from;
      const index = Math.floor(pos / this.blockSize);
      const at = pos - index * this.blockSize;
      const to = Math.min(length, from + this.blockSize - at);
      let block = this.pending.get(index);
      if (!block) this.pending.set(index, (block = { covered: 0 }));
      apply(block, from, to, at);
      block.covered += to - from;
      if (block.covered >= this.lengthOf(index)) {
        done.push(this.finish(index));
        this.pending.delete(index);
      }
      from = to;
    }
    return done;
  }

  private finish(index: number): AssembledBlock {
    const data = this.pending.get(index)?.data;
    if (!data) return { index };
    if (isAllZero(data)) {
      this.release(data);
      return { index };
    }
    return { index, data };
  }

  /** Bytes of block `index` inside the volume: the last one may be shorter. */
  private lengthOf(index: number): number {
    return Math.min(this.blockSize, this.sizeBytes - index * this.blockSize);
  }

  private allocate(): Uint8Array {
    const reused = this.free.pop();
    if (!reused) return new Uint8Array(this.blockSize);
    reused.fill(0);
    return reused;
  }
}

const ZEROS = new Uint8Array(64 * 1024);

/** memcmp against zeros in 64 KiB pieces: a byte loop over 512 KiB would be ~50x slower. */
export function isAllZero(data: Uint8Array): boolean {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at < view.byteLength; at += ZEROS.byteLength) {
    const piece = view.subarray(at, Math.min(view.byteLength, at + ZEROS.byteLength));
    if (!piece.equals(ZEROS.subarray(0, piece.byteLength))) return false;
  }
  return true;
}
