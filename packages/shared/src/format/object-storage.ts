/**
 * The S3 names a repository's config records (repo-config.ts): the storage class of its packs and
 * its Object Lock mode. They are part of the config file's format, so they live here; the
 * BlobStore port (ports/blob-store.ts) speaks them and re-exports them.
 */

/** S3 Object Lock modes: governance retention can be lifted by a special permission, compliance retention by nobody. */
export const OBJECT_LOCK_MODES = ['GOVERNANCE', 'COMPLIANCE'] as const;
export type ObjectLockMode = (typeof OBJECT_LOCK_MODES)[number];

/**
 * S3 storage classes a repository may keep its packs in. The first three read back at once
 * (`GLACIER_IR` is Glacier Instant Retrieval); the archive classes (`GLACIER`, Glacier Flexible
 * Retrieval, and `DEEP_ARCHIVE`) must be retrieved before a read (RetrievalTier, hours), which
 * restore drives (engine/retrieval.ts). Manifests then live in STANDARD packs of their own.
 */
export const PACK_STORAGE_CLASSES = ['STANDARD', 'STANDARD_IA', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'] as const;
export const ARCHIVE_STORAGE_CLASSES = ['GLACIER', 'DEEP_ARCHIVE'] as const;
export type PackStorageClass = (typeof PACK_STORAGE_CLASSES)[number];

export function isArchiveStorageClass(c: PackStorageClass | undefined): boolean {
  return c === 'GLACIER' || c === 'DEEP_ARCHIVE';
}
