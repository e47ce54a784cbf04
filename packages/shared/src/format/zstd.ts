/**
 * zstd through zstd-napi, with one reusable context per thread: creating a context per call costs
 * more than compressing a 256 KiB frame. zstd-napi calls are synchronous, which is why the
 * archive and restore paths run them in worker threads (parallel/).
 */
// The low-level binding compresses into a caller's buffer; zstd-napi's Compressor class cannot.
import binding from 'zstd-napi/binding.js';
import { CorruptDataError } from '../errors.js';

export { DEFAULT_ZSTD_LEVEL } from './compression-level.js';

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

/**
 * The most an envelope's payload may decompress to. Merged index objects are ~18 MiB and the pack
 * list of a 64 TiB volume in 16 MiB packs ~160 MiB; nothing a writer stores comes near 1 GiB, and a
 * body that would is damaged (or hostile), not worth the memory.
 */
export const MAX_ZSTD_OUTPUT = 1024 * 1024 * 1024;
/** First output buffer when the frame does not say its size (zstd's own stream buffer size). */
const MIN_STREAM_OUT = 128 * 1024;

let sctx: binding.DCtx | undefined;

/**
 * Decompresses `data`, checking the result is `expectedLength` bytes when given. Memory follows
 * what the data really decompresses to, never the content size its header claims: a damaged
 * 20-byte body may claim gigabytes (zstd-napi's Decompressor would allocate them up front). A
 * known length is allocated once and filled; an unknown one grows by doubling up to `maxLength`.
 */
export function zstdDecompress(data: Uint8Array, expectedLength: number | undefined, what: string, maxLength = MAX_ZSTD_OUTPUT): Buffer {
  if (expectedLength !== undefined) {
    const out = Buffer.allocUnsafe(expectedLength);
    zstdDecompressInto(data, out, what);
    return out;
  }
  sctx ??= new binding.DCtx();
  // A previous call may have stopped mid-frame (it threw): start a new frame.
  sctx.reset(binding.ResetDirective.sessionOnly);
  const parts: Buffer[] = [];
  let total = 0;
  let src = data;
  for (;;) {
    if (total >= maxLength) throw new CorruptDataError(`${what}: zstd data decompresses to more than ${maxLength} bytes`);
    // A multiple of the input: one buffer holds what snapfleet writes (ids barely compress, JSON
    // by a few times); more doubles what is already there, so memory stays under twice the output.
    const room = Math.min(maxLength - total, Math.max(MIN_STREAM_OUT, total, 8 * data.byteLength));
    const out = Buffer.allocUnsafe(room);
    let ret: number, produced: number, consumed: number;
    try {
      [ret, produced, consumed] = sctx.decompressStream(out, src);
    } catch (err) {
      throw new CorruptDataError(`${what}: zstd data is corrupt`, {}, { cause: err });
    }
    if (produced > 0) parts.push(out.subarray(0, produced));
    total += produced;
    src = src.subarray(consumed);
    if (ret === 0 && src.byteLength === 0) break;
    // Everything was read and flushed into room to spare, yet the frame is not complete.
    if (src.byteLength === 0 && produced < room) throw new CorruptDataError(`${what}: zstd data is truncated`);
    if (produced === 0 && consumed === 0) throw new CorruptDataError(`${what}: zstd data does not decode`);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}
