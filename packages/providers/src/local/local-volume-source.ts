/**
 * LocalVolumeSource: a VolumeSource over an image file or a block device (the embedded default).
 * It cannot tell written from unwritten blocks nor what changed since an earlier archive, so it
 * lists every block and lets the engine's dedup find the new data.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { InvalidInputError, NotFoundError, PermanentError, type VolumeSource } from '@snapfleet/shared';
import { blockDeviceSizeBytes } from './block-device.js';
import { errorCode, translateFsError } from './fs-errors.js';
import { readFully } from './positional-io.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** 4 MiB reads: large enough that per-call overhead vanishes and disks stream at full speed. */
export const DEFAULT_LOCAL_BLOCK_SIZE = 4 * MiB;
/** A disk sector: no device reads in smaller units. */
const MIN_BLOCK_SIZE = 512;
/** Each in-flight read holds one block in memory; 64 MiB keeps a few dozen readers affordable. */
const MAX_BLOCK_SIZE = 64 * MiB;

export interface LocalVolumeSourceOptions {
  /** Read unit; a power of two between 512 B and 64 MiB. @defaultValue 4 MiB */
  blockSize?: number;
  /**
   * Bytes to expose, at most the file's or device's own size: a device larger than the volume
   * restored onto it (a restore drill's read-back) is read only as far as the volume goes.
   * @defaultValue the whole file or device
   */
  sizeBytes?: number;
}

export class LocalVolumeSource implements VolumeSource {
  /** Local files have no provider point-in-time name. */
  readonly sourceRef?: string;
  private closing?: Promise<void>;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly sizeBytes: number,
    readonly blockSize: number,
    readonly isBlockDevice: boolean,
  ) {}

  /** Opens `path` for reading; rejects missing, unreadable and non-volume paths with the path in the message. */
  static async open(path: string, options: LocalVolumeSourceOptions = {}): Promise<LocalVolumeSource> {
    const blockSize = options.blockSize ?? DEFAULT_LOCAL_BLOCK_SIZE;
    validateBlockSize(blockSize);
    const info = await statVolume(path);
    const isBlockDevice = info.isBlockDevice();
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (errorCode(err) === 'EACCES' || errorCode(err) === 'EPERM') {
        throw new InvalidInputError(`volume ${path} is not readable (permission denied)`, 'path', { cause: err });
      }
      throw translateFsError(err, 'open volume', path);
    }
    try {
      const whole = isBlockDevice ? await blockDeviceSizeBytes(path) : info.size;
      const sizeBytes = options.sizeBytes ?? whole;
      if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0 || sizeBytes > whole) {
        throw new InvalidInputError(`volume ${path} holds ${whole} bytes, fewer than the ${sizeBytes} to be read`, 'sizeBytes');
      }
      return new LocalVolumeSource(path, handle, sizeBytes, blockSize, isBlockDevice);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  get blockCount(): number {
    return Math.ceil(this.sizeBytes / this.blockSize);
  }

  async *writtenBlocks(): AsyncIterable<number> {
    for (let index = 0; index < this.blockCount; index++) yield index;
  }

  async changedBlocksSince(_parentRef: string): Promise<AsyncIterable<number> | undefined> {
    return undefined; // a file has no change tracking: the engine hashes every block instead
  }

  async readBlock(index: number, into?: Uint8Array): Promise<Uint8Array> {
    if (this.closing) throw new PermanentError(`volume ${this.path} is closed`);
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.blockCount) {
      throw new InvalidInputError(`block ${index} is outside volume ${this.path} (${this.blockCount} blocks)`, 'index');
    }
    const offset = index * this.blockSize;
    const length = Math.min(this.blockSize, this.sizeBytes - offset);
    if (into && into.byteLength < length)
      throw new InvalidInputError(`buffer of ${into.byteLength} bytes is too small for block ${index} (${length} bytes)`, 'into');
    // allocUnsafeSlow never hands out a slice of Node's shared pool, so the caller may transfer
    // the buffer to a worker thread; readFully overwrites every byte.
    const block = into ? into.subarray(0, length) : Buffer.allocUnsafeSlow(length);
    try {
      await readFully(this.handle, block, offset);
    } catch (err) {
      throw translateFsError(err, `read block ${index} of`, this.path);
    }
    return new Uint8Array(block.buffer, block.byteOffset, length);
  }

  async close(): Promise<void> {
    this.closing ??= this.handle.close();
    await this.closing;
  }
}

function validateBlockSize(blockSize: number): void {
  const powerOfTwo = Number.isSafeInteger(blockSize) && blockSize > 0 && (blockSize & (blockSize - 1)) === 0;
  if (!powerOfTwo || blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE) {
    throw new InvalidInputError(`blockSize ${blockSize} must be a power of two between ${MIN_BLOCK_SIZE} and ${MAX_BLOCK_SIZE}`, 'blockSize');
  }
}

async function statVolume(path: string): Promise<Stats> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`volume ${path} does not exist`, { cause: err });
    if (code === 'EACCES') throw new InvalidInputError(`volume ${path} is not accessible (permission denied)`, 'path', { cause: err });
    throw translateFsError(err, 'stat volume', path);
  }
  if (info.isDirectory()) throw new InvalidInputError(`volume ${path} is a directory, not an image file or block device`, 'path');
  if (!info.isFile() && !info.isBlockDevice()) throw new InvalidInputError(`volume ${path} is neither an image file nor a block device`, 'path');
  return info;
}
