/**
 * MemoryVolumeSource: a VolumeSource over a Uint8Array, for engine tests. It can pretend to know
 * which blocks are written and which changed since an earlier point in time, as EBS does.
 */
import { InvalidInputError, PermanentError } from '../errors.js';
import type { VolumeSource } from '../ports/volume-source.js';

export interface MemoryVolumeSourceOptions {
  /** @defaultValue 64 KiB: small enough that test volumes span many blocks */
  blockSize?: number;
  /** The source's name for this point in time (as an EBS snapshot id). */
  sourceRef?: string;
  /** Blocks that may hold data. @defaultValue every block */
  writtenBlocks?: readonly number[];
  /** Changed-block lists by parent sourceRef; a parent not listed means "cannot tell". */
  changedSince?: Readonly<Record<string, readonly number[]>>;
}

const DEFAULT_BLOCK_SIZE = 64 * 1024;

export class MemoryVolumeSource implements VolumeSource {
  readonly sizeBytes: number;
  readonly blockSize: number;
  readonly sourceRef?: string;
  /** How many readBlock calls were made: lets tests check that unchanged blocks were skipped. */
  reads = 0;
  closed = false;
  private readonly data: Uint8Array;
  private readonly written?: readonly number[];
  private readonly changedSince: Readonly<Record<string, readonly number[]>>;

  constructor(data: Uint8Array, options: MemoryVolumeSourceOptions = {}) {
    const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    if (!isPowerOfTwo(blockSize)) throw new InvalidInputError(`blockSize ${blockSize} is not a power of two`, 'blockSize');
    this.data = data;
    this.sizeBytes = data.length;
    this.blockSize = blockSize;
    if (options.sourceRef !== undefined) this.sourceRef = options.sourceRef;
    if (options.writtenBlocks !== undefined) this.written = sortedUnique(options.writtenBlocks);
    this.changedSince = options.changedSince ?? {};
  }

  get blockCount(): number {
    return Math.ceil(this.sizeBytes / this.blockSize);
  }

  async *writtenBlocks(): AsyncIterable<number> {
    if (this.written !== undefined) {
      yield* this.written;
      return;
    }
    for (let index = 0; index < this.blockCount; index++) yield index;
  }

  async changedBlocksSince(parentRef: string): Promise<AsyncIterable<number> | undefined> {
    const changed = this.changedSince[parentRef];
    if (changed === undefined) return undefined;
    const blocks = sortedUnique(changed);
    return (async function* () {
      yield* blocks;
    })();
  }

  async readBlock(index: number, into?: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new PermanentError('memory volume source is closed');
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.blockCount) {
      throw new InvalidInputError(`block ${index} is outside the volume (${this.blockCount} blocks)`, 'index');
    }
    this.reads += 1;
    const start = index * this.blockSize;
    const block = this.data.subarray(start, Math.min(start + this.blockSize, this.sizeBytes));
    if (into) {
      if (into.byteLength < block.byteLength) throw new InvalidInputError(`buffer of ${into.byteLength} bytes is too small for block ${index}`, 'into');
      into.set(block);
      return into.subarray(0, block.byteLength);
    }
    // slice() copies: the caller owns (and may transfer) the returned buffer.
    return block.slice();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function sortedUnique(blocks: readonly number[]): number[] {
  return [...new Set(blocks)].sort((a, b) => a - b);
}
