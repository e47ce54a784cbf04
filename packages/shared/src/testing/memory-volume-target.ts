/**
 * MemoryVolumeTarget: a VolumeTarget that restores into a Uint8Array, for engine tests. It checks
 * the contract as it goes (open first, writes inside the volume, nothing after commit/abort) so a
 * restore that misuses a target fails in unit tests rather than on a customer's device.
 */
import { InvalidInputError, PermanentError } from '../errors.js';
import type { VolumeTarget } from '../ports/volume-target.js';

export interface MemoryVolumeTargetOptions {
  /** Simulates a device of this size: open() rejects larger volumes. */
  capacityBytes?: number;
}

type State = 'new' | 'open' | 'committed' | 'aborted';

export class MemoryVolumeTarget implements VolumeTarget {
  readonly location = 'memory://target';
  state: State = 'new';
  /** Bytes written by write() and zero(); tests compare this with the source. */
  bytesWritten = 0;
  zeroCalls = 0;
  private buffer = new Uint8Array(0);

  constructor(private readonly options: MemoryVolumeTargetOptions = {}) {}

  /** The restored volume; only meaningful after commit. */
  get data(): Uint8Array {
    if (this.state !== 'committed') throw new PermanentError(`memory target is ${this.state}, not committed`);
    return this.buffer;
  }

  async open(sizeBytes: number): Promise<void> {
    if (this.state !== 'new') throw new PermanentError(`memory target opened twice (state ${this.state})`);
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) throw new InvalidInputError(`invalid size ${sizeBytes}`, 'sizeBytes');
    const capacity = this.options.capacityBytes;
    if (capacity !== undefined && sizeBytes > capacity) {
      throw new InvalidInputError(`target holds ${capacity} bytes, the volume needs ${sizeBytes}`, 'target');
    }
    this.buffer = new Uint8Array(sizeBytes);
    this.state = 'open';
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.checkRange(offset, data.length);
    this.buffer.set(data, offset);
    this.bytesWritten += data.length;
  }

  async zero(offset: number, length: number): Promise<void> {
    this.checkRange(offset, length);
    this.zeroCalls += 1;
    this.buffer.fill(0, offset, offset + length);
  }

  async commit(): Promise<void> {
    if (this.state !== 'open') throw new PermanentError(`cannot commit a memory target that is ${this.state}`);
    this.state = 'committed';
  }

  async abort(): Promise<void> {
    if (this.state === 'committed') return;
    this.state = 'aborted';
    this.buffer = new Uint8Array(0);
  }

  private checkRange(offset: number, length: number): void {
    if (this.state !== 'open') throw new PermanentError(`cannot write to a memory target that is ${this.state}`);
    const valid = Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0;
    if (!valid || offset + length > this.buffer.length) {
      throw new InvalidInputError(`write ${offset}+${length} is outside the volume (${this.buffer.length} bytes)`, 'offset');
    }
  }
}
