/**
 * A frame: several blobs' plaintext, concatenated, compressed as one zstd frame, then sealed.
 * Compressing 4 KiB chunks one by one loses most of zstd's ratio (no history); a frame of
 * consecutive new chunks gets it back while each chunk keeps its own id for deduplication.
 */
import type { KeyObject } from 'node:crypto';
import { Compression, type CompressionId } from './codec-ids.js';
import { CorruptDataError } from '../errors.js';
import { open, openInPlace, openInto, SEAL_OVERHEAD, sealInto } from './sealing.js';
import { zstdCompressToScratch, zstdDecompress, zstdDecompressInto } from './zstd.js';

export interface EncodedFrame {
  stored: Buffer;
  compression: CompressionId;
}

/**
 * Stores data raw when zstd saves less than 1/32 (3%) of it: such data is already compressed, and
 * raw frames restore faster.
 */
function worthCompressing(raw: number, compressed: number): boolean {
  return compressed < raw - (raw >>> 5);
}

/** The most bytes a frame of `rawLength` plaintext takes stored (raw, sealed). */
export function maxStoredLength(rawLength: number): number {
  return rawLength + SEAL_OVERHEAD;
}

/** zstd into this thread's scratch, or the plaintext itself when zstd does not pay. */
function compressedBody(raw: Uint8Array, level: number): { body: Uint8Array; compression: CompressionId } {
  const compressed = zstdCompressToScratch(raw, level);
  return worthCompressing(raw.byteLength, compressed.byteLength)
    ? { body: compressed, compression: Compression.Zstd }
    : { body: raw, compression: Compression.None };
}

function store(body: Uint8Array, enc: KeyObject | undefined, out: Uint8Array, at: number): number {
  if (enc) return sealInto(enc, body, out, at);
  out.set(body, at);
  return body.byteLength;
}

/**
 * Encodes a frame into `out` at `at` (room for maxStoredLength(raw) bytes) and returns its
 * stored length and compression. `raw` may be the caller's scratch memory.
 */
export function encodeFrameInto(
  raw: Uint8Array,
  level: number,
  enc: KeyObject | undefined,
  out: Uint8Array,
  at: number,
): { storedLength: number; compression: CompressionId } {
  const { body, compression } = compressedBody(raw, level);
  return { storedLength: store(body, enc, out, at), compression };
}

/** Encodes a frame into memory of its own, exactly its size (it may move to another thread). */
export function encodeFrame(raw: Uint8Array, level: number, enc: KeyObject | undefined): EncodedFrame {
  const { body, compression } = compressedBody(raw, level);
  const stored = Buffer.allocUnsafeSlow(body.byteLength + (enc ? SEAL_OVERHEAD : 0));
  store(body, enc, stored, 0);
  return { stored, compression };
}

/**
 * Throws CorruptDataError when the frame fails authentication, decoding or its length check.
 * With `inPlace`, `stored` may be overwritten by its plaintext (bytes nothing reads again).
 */
export function decodeFrame(
  stored: Uint8Array,
  compression: CompressionId,
  rawLength: number,
  enc: KeyObject | undefined,
  what: string,
  inPlace = false,
): Buffer {
  if (compression !== Compression.Zstd) {
    // Checked before opening: a raw frame's length is known from its stored length, and a header
    // that disagrees is damaged (callers would otherwise find spans past the end, or miss bytes).
    const length = stored.byteLength - (enc ? SEAL_OVERHEAD : 0);
    if (length !== rawLength) throw new CorruptDataError(`${what}: holds ${Math.max(0, length)} bytes, expected ${rawLength}`);
  }
  const body = enc ? (inPlace ? openInPlace(enc, stored, what) : open(enc, stored, what)) : stored;
  return compression === Compression.Zstd ? zstdDecompress(body, rawLength, what) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/**
 * Decodes a frame into `dst`, which its plaintext must fill exactly. `stored` may be overwritten
 * (bytes nothing reads again). Throws CorruptDataError as decodeFrame does.
 */
export function decodeFrameInto(stored: Uint8Array, compression: CompressionId, enc: KeyObject | undefined, dst: Uint8Array, what: string): void {
  if (compression === Compression.Zstd) {
    zstdDecompressInto(enc ? openInPlace(enc, stored, what) : stored, dst, what);
  } else if (enc) {
    openInto(enc, stored, dst, what);
  } else {
    if (stored.byteLength !== dst.byteLength) throw new CorruptDataError(`${what}: holds ${stored.byteLength} bytes, expected ${dst.byteLength}`);
    dst.set(stored);
  }
}
