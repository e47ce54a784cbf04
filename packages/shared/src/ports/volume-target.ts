/**
 * VolumeTarget: where a restore writes a volume back (a file, a block device, a new EBS snapshot).
 * A restore either finishes, or aborts and leaves the destination as it was where the target can
 * promise that (files are written beside the destination and renamed into place).
 */

export interface VolumeTarget {
  /** Where it writes, for messages. */
  readonly location: string;

  /** Called once before any write with the volume's size. Rejects a device that is too small. */
  open(sizeBytes: number): Promise<void>;

  /** Writes `data` at byte `offset`. Calls never overlap in range; they may run concurrently. */
  write(offset: number, data: Uint8Array): Promise<void>;

  /**
   * The range was a hole in the archive. A fresh sparse file needs nothing; a device or a reused
   * destination must be zeroed there.
   */
  zero(offset: number, length: number): Promise<void>;

  /** Flushes to stable storage and publishes the result (rename into place). */
  commit(): Promise<void>;

  /** Discards partial output. Idempotent; safe after a failed open. */
  abort(): Promise<void>;
}
