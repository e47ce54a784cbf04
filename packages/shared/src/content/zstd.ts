/**
 * zstd through zstd-napi, with one reusable context per thread: creating a context per call costs
 * more than compressing a 256 KiB frame. zstd-napi calls are synchronous, which is why the
 * archive and restore paths run them in worker threads (parallel/).
 */
import { Decompressor } from 'zstd-napi';
// The low-level binding compresses into a caller's buffer; zstd-napi's Compressor class cannot.
import binding from 'zstd-napi/binding.js';
import { CorruptDataError } from '../errors.js';

export { DEFAULT_ZSTD_LEVEL } from './compression-level.js';

let decompressor: Decompressor | undefined;

/** Per thread: frames are compressed into it and sealed from it, without an allocation each. */
let scratch = new Uint8Array(0);
const contexts = new Map<number, binding.CCtx>();

function contextFor(level: number): binding.CCtx {
  let c = contexts.get(level);
  if (!c) {
    c = new binding.CCtx();
    c.setParameter(binding.CParameter.compressionLevel, level);
    contexts.set(level, c);
  }
  return c;
}

/**
 * Compresses into this thread's scratch memory: the view is valid until the next call on this
 * thread, so the caller copies (seals) it before compressing anything else.
 */
export function zstdCompressToScratch(data: Uint8Array, level: number): Uint8Array {
  const bound = binding.compressBound(data.byteLength);
  if (scratch.byteLength < bound) scratch = new Uint8Array(bound);
  return scratch.subarray(0, contextFor(level).compress2(scratch, data));
}

/** Compresses into a buffer of its own, exactly the compressed size. */
export function zstdCompress(data: Uint8Array, level: number): Buffer {
  return Buffer.from(zstdCompressToScratch(data, level));
}

let dctx: binding.DCtx | undefined;

/**
 * Decompresses into `dst`, which the plaintext must fill exactly: a restore lays frames straight
 * into its window this way, without an output buffer per frame.
 */
export function zstdDecompressInto(data: Uint8Array, dst: Uint8Array, what: string): void {
  dctx ??= new binding.DCtx();
  let written: number;
  try {
    written = dctx.decompress(dst, data);
  } catch (err) {
    throw new CorruptDataError(`${what}: zstd data is corrupt or longer than expected`, {}, { cause: err });
  }
  if (written !== dst.byteLength) throw new CorruptDataError(`${what}: decompressed to ${written} bytes, expected ${dst.byteLength}`);
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
