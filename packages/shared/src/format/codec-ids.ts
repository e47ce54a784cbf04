/**
 * Stable numeric ids of every codec and format variant. They are written into objects and read
 * back by every future version: an id is never reused or renumbered, only new ones are added
 * (and listed in docs/format.md's changes log).
 */

/**
 * Version of the repository format that `init` writes (the config's `version`). Readers take
 * every version from OLDEST_FORMAT_VERSION to this one; docs/format.md lists what each changed.
 */
export const FORMAT_VERSION = 2;
/** The oldest format version this code still reads and writes (in that version's own layout). */
export const OLDEST_FORMAT_VERSION = 1;
/** From this version on, snapshot objects live under their volume's key (`snapshots/<volume key>/<id>`). */
export const VOLUME_SNAPSHOTS_VERSION = 2;
/**
 * From this version on, index objects may list many packs (compaction merges them) and prune
 * removes a pack by rewriting the objects that list it. A format-1 snapfleet deletes only a
 * pack's own index object, so it would leave a merged object naming a deleted pack: format-1
 * repositories are never compacted.
 */
export const COMPACTED_INDEX_VERSION = 2;
/**
 * The version byte of envelopes (pack headers, index objects, snapshots). Their layout has not
 * changed since format 1, so it stays 1: an older snapfleet still reads what this one writes into
 * a format-1 repository.
 */
export const ENVELOPE_VERSION = 1;

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
