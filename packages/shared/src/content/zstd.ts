/**
 * zstd through zstd-napi, with one reusable context per thread: creating a context per call costs
 * more than compressing a 256 KiB frame. zstd-napi calls are synchronous, which is why the
 * archive and restore paths run them in worker threads (parallel/).
 */
import { Compressor, Decompressor } from 'zstd-napi';
import { CorruptDataError } from '../errors.js';

/** zstd's own default: the ratio/speed knee on disk-like data (TOOLCHAIN: ~650 MiB/s a core). */
export const DEFAULT_ZSTD_LEVEL = 3;

const compressors = new Map<number, Compressor>();
let decompressor: Decompressor | undefined;

export function zstdCompress(data: Uint8Array, level: number): Buffer {
  let c = compressors.get(level);
  if (!c) {
    c = new Compressor();
    c.setParameters({ compressionLevel: level });
    compressors.set(level, c);
  }
  return c.compress(data);
}

export function zstdDecompress(data: Uint8Array, expectedLength: number | undefined, what: string): Buffer {
  decompressor ??= new Decompressor();
  let out: Buffer;
  try {
    out = decompressor.decompress(data);
  } catch (err) {
    throw new CorruptDataError(`${what}: zstd data is corrupt`, {}, { cause: err });
  }
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new CorruptDataError(`${what}: decompressed to ${out.length} bytes, expected ${expectedLength}`);
  }
  return out;
}
