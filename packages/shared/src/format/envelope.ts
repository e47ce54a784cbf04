/**
 * The envelope around every structured object (pack headers, index objects, snapshots):
 *   version (u8) | compression id (u8) | encryption id (u8) | body
 * where body is the (compressed) payload, sealed when the repository is encrypted.
 */
import type { KeyObject } from 'node:crypto';
import { CorruptDataError, PermanentError } from '../errors.js';
import { Compression, ENVELOPE_VERSION, Encryption, isCompressionId } from './codec-ids.js';
import { open, seal } from './sealing.js';
import { zstdCompress, zstdDecompress } from './zstd.js';

const HEADER_BYTES = 3;
/** Metadata is mostly random 32-byte ids, which no level compresses: the fastest level will do. */
const METADATA_ZSTD_LEVEL = 1;

export function encodeEnvelope(payload: Uint8Array, enc: KeyObject | undefined): Buffer {
  const compressed = zstdCompress(payload, METADATA_ZSTD_LEVEL);
  const useZstd = compressed.byteLength < payload.byteLength;
  const body = useZstd ? compressed : payload;
  const header = Buffer.from([ENVELOPE_VERSION, useZstd ? Compression.Zstd : Compression.None, enc ? Encryption.Aes256Gcm : Encryption.None]);
  return Buffer.concat([header, enc ? seal(enc, body) : body]);
}

export function decodeEnvelope(bytes: Uint8Array, enc: KeyObject | undefined, what: string): Buffer {
  if (bytes.byteLength < HEADER_BYTES) throw new CorruptDataError(`${what}: truncated (${bytes.byteLength} bytes)`, { object: what });
  const version = bytes[0]!;
  const compression = bytes[1]!;
  const encryption = bytes[2]!;
  if (version > ENVELOPE_VERSION) throw new PermanentError(`${what}: envelope version ${version} is newer than this snapfleet supports`);
  if (!isCompressionId(compression)) throw new CorruptDataError(`${what}: unknown compression id ${compression}`, { object: what });
  const expected = enc ? Encryption.Aes256Gcm : Encryption.None;
  if (encryption !== expected) throw new CorruptDataError(`${what}: encryption id ${encryption}, the repository uses ${expected}`, { object: what });
  const sealed = bytes.subarray(HEADER_BYTES);
  const body = enc ? open(enc, sealed, what) : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  return compression === Compression.Zstd ? zstdDecompress(body, undefined, what) : body;
}
