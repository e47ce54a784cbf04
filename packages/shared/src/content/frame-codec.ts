/**
 * A frame: several blobs' plaintext, concatenated, compressed as one zstd frame, then sealed.
 * Compressing 4 KiB chunks one by one loses most of zstd's ratio (no history); a frame of
 * consecutive new chunks gets it back while each chunk keeps its own id for deduplication.
 */
import type { KeyObject } from 'node:crypto';
import { Compression, type CompressionId } from '../format/codec-ids.js';
import { open, seal } from '../format/sealing.js';
import { zstdCompress, zstdDecompress } from './zstd.js';

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

export function encodeFrame(raw: Uint8Array, level: number, enc: KeyObject | undefined): EncodedFrame {
  const compressed = zstdCompress(raw, level);
  const useZstd = worthCompressing(raw.byteLength, compressed.byteLength);
  const body = useZstd ? compressed : raw;
  return {
    stored: enc ? seal(enc, body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    compression: useZstd ? Compression.Zstd : Compression.None,
  };
}

/** Throws CorruptDataError when the frame fails authentication, decoding or its length check. */
export function decodeFrame(stored: Uint8Array, compression: CompressionId, rawLength: number, enc: KeyObject | undefined, what: string): Buffer {
  const body = enc ? open(enc, stored, what) : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  return compression === Compression.Zstd ? zstdDecompress(body, rawLength, what) : body;
}
