/**
 * VolumeSource: a point-in-time view of a block volume to archive (an image file, a block device,
 * an EBS snapshot read through the EBS direct APIs). The engine reads it block by block; the
 * source decides the block size (EBS: 512 KiB), the engine splits blocks into chunks.
 */

export interface VolumeSource {
  /** Volume size in bytes; the last block may be shorter than blockSize. */
  readonly sizeBytes: number;

  /** Read unit in bytes: a power of two, a multiple of the repository's chunk size. */
  readonly blockSize: number;

  /**
   * The provider's own name for this point in time (an EBS snapshot id), stored in the manifest so
   * that the next archive can ask for the blocks changed since it. Undefined for local sources.
   */
  readonly sourceRef?: string;

  /**
   * Block numbers that may hold data, ascending, each once. Blocks not listed read as zeros.
   * A source that cannot tell lists every block.
   */
  writtenBlocks(): AsyncIterable<number>;

  /**
   * Block numbers changed since the point in time `parentRef` (a sourceRef of an earlier archive),
   * ascending, each once; or undefined when the source cannot tell (different lineage, no API):
   * the engine then reads every written block and stores only new data.
   */
  changedBlocksSince(parentRef: string): Promise<AsyncIterable<number> | undefined>;

  /**
   * Reads block `index`: exactly blockSize bytes, or fewer for the last block. With `into` (at
   * least blockSize bytes, possibly shared memory), reads into it and returns a view of it;
   * without, returns a buffer the caller owns. May be called concurrently.
   */
  readBlock(index: number, into?: Uint8Array): Promise<Uint8Array>;

  /** Releases file handles and connections. Idempotent. */
  close(): Promise<void>;
}
