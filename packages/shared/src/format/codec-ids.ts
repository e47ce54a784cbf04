/**
 * Stable numeric ids of every codec and format variant. They are written into objects and read
 * back by every future version: an id is never reused or renumbered, only new ones are added
 * (and listed in docs/format.md's changes log).
 */

/** Version of the repository format written by this code (config, envelopes, packs, indexes). */
export const FORMAT_VERSION = 1;

/** Compression of a frame or an envelope's payload. */
export const Compression = {
  /** Stored as is: incompressible data, where zstd would not save anything. */
  None: 0,
  Zstd: 1,
} as const;
export type CompressionId = (typeof Compression)[keyof typeof Compression];

/** Encryption of a frame or an envelope's payload. */
export const Encryption = {
  None: 0,
  /** AES-256-GCM, 12-byte random nonce first, 16-byte tag last. */
  Aes256Gcm: 1,
} as const;
export type EncryptionId = (typeof Encryption)[keyof typeof Encryption];

/** What a blob holds; data and map blobs never share a frame. */
export const BlobType = {
  /** One chunk of volume data. */
  Data: 0,
  /** One node of a snapshot's manifest tree: a list of child ids. */
  Map: 1,
} as const;
export type BlobTypeId = (typeof BlobType)[keyof typeof BlobType];

export function isCompressionId(n: number): n is CompressionId {
  return n === Compression.None || n === Compression.Zstd;
}
export function isBlobTypeId(n: number): n is BlobTypeId {
  return n === BlobType.Data || n === BlobType.Map;
}
