/**
 * VolumeTarget: where a restore writes a volume back (a file, a block device, a new EBS snapshot).
 * A restore either finishes, or aborts and leaves the destination as it was where the target can
 * promise that (files are written beside the destination and renamed into place).
 */

export interface VolumeTarget {
  /** Where it writes, for messages. */
  readonly location: string;

  /**
   * Called once before any write with the volume's size. Rejects a size that is not a whole
   * number of bytes, or a device that is too small, with InvalidInputError; a second open, or one
   * after abort, with PermanentError.
   */
  open(sizeBytes: number): Promise<void>;

  /**
   * Writes `data` at byte `offset`. Calls never overlap in range; they may run concurrently and
   * in any order. The caller may reuse `data` once the promise resolves. A range outside the
   * volume is rejected with InvalidInputError naming the field; a write before open or after
   * commit or abort with PermanentError (so is zero()).
   */
  write(offset: number, data: Uint8Array): Promise<void>;

  /**
   * The range was a hole in the archive. A fresh sparse file needs nothing; a device or a reused
   * destination must be zeroed there.
   */
  zero(offset: number, length: number): Promise<void>;

  /**
   * Flushes to stable storage and publishes the result (rename into place). Before it nothing is
   * published, except where the target writes in place (a device).
   */
  commit(): Promise<void>;

  /**
   * Discards partial output. Idempotent; safe before open and after a failed open; after commit
   * it changes nothing. An interrupt may call it while open() is still under way: it then waits
   * for open() and discards what that made (a temp file, a started snapshot).
   */
  abort(): Promise<void>;
}
