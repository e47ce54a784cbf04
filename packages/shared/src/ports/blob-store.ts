/**
 * BlobStore: the object store a repository lives in (a folder, an S3 bucket). The engine writes
 * only immutable, uniquely named objects, so a store needs no locking, only atomic puts.
 */
import type { ObjectLockMode, PackStorageClass } from '../format/object-storage.js';

// The storage names are the config file's (format/), spoken by this port: importers find them here.
export {
  ARCHIVE_STORAGE_CLASSES,
  isArchiveStorageClass,
  OBJECT_LOCK_MODES,
  PACK_STORAGE_CLASSES,
  type ObjectLockMode,
  type PackStorageClass,
} from '../format/object-storage.js';

export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * An object's bytes: one buffer, or the parts it is the concatenation of. Packs are handed over
 * as their frames, so a store that can write parts (writev) never copies 16 MiB into one buffer.
 */
export type BlobData = Uint8Array | readonly Uint8Array[];

export function blobDataLength(data: BlobData): number {
  if (data instanceof Uint8Array) return data.byteLength;
  let n = 0;
  for (const part of data) n += part.byteLength;
  return n;
}

/** The bytes as one buffer (copies only when there are several parts). */
export function joinBlobData(data: BlobData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data.length === 1) return data[0]!;
  const out = new Uint8Array(blobDataLength(data));
  let at = 0;
  for (const part of data) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

export interface ObjectInfo {
  /** Key relative to the store's root, `/`-separated, e.g. `data/ab/ab12…`. */
  key: string;
  size: number;
  /**
   * Until when the object cannot be deleted or overwritten (S3 Object Lock), when it has a
   * retention date. Only `stat` reports it (listings do not carry it).
   */
  retainUntil?: Date;
}

/** An object's retention: not deletable (nor its version overwritable) before `until`. */
export interface ObjectRetention {
  mode: ObjectLockMode;
  until: Date;
}

/** S3 retrieval tiers: Expedited (minutes, GLACIER only), Standard (hours), Bulk (cheapest, longest). */
export const RETRIEVAL_TIERS = ['Expedited', 'Standard', 'Bulk'] as const;
export type RetrievalTier = (typeof RETRIEVAL_TIERS)[number];

/** Whether an object can be read now: `archived` needs a retrieval, `retrieving` has one under way. */
export type RetrievalState = 'readable' | 'archived' | 'retrieving';

export interface PutOptions {
  /** The storage class of the object; stores without storage classes (a folder) ignore it. @defaultValue the store's default */
  storageClass?: PackStorageClass;
  /** Write the object under this retention. Only stores with `extendRetention` take it; others refuse such a repository when it is opened. */
  retention?: ObjectRetention;
}

export interface BlobStore {
  /** Where the store is, for messages; never contains credentials. */
  readonly location: string;

  /**
   * Stores `data` under `key` atomically: a concurrent or later reader sees either no object or
   * all of it, never a prefix. May be called twice with the same key and bytes (retries, two
   * writers storing the same content-named object); that must succeed. The store MUST NOT keep
   * or read `data` once the returned promise settles: writers reuse that memory for the next
   * object.
   */
  put(key: string, data: BlobData, options?: PutOptions): Promise<void>;

  /**
   * Reads the whole object, or `range` of it. A range past the end is an InvalidInputError;
   * a missing key is a NotFoundError.
   */
  get(key: string, range?: ByteRange): Promise<Uint8Array>;

  /**
   * Optional: reads `range` of the object into `into` (at least range.length bytes) and returns
   * the view of `into` that holds it; errors as for get. Callers that read gigabytes (restore)
   * recycle their memory this way instead of touching fresh pages for every read. Stores
   * without it are read with get.
   */
  getInto?(key: string, range: ByteRange, into: Uint8Array): Promise<Uint8Array>;

  /** The object's size, or undefined when it does not exist. */
  stat(key: string): Promise<ObjectInfo | undefined>;

  /**
   * Every object whose key starts with `prefix`, in no particular order, each exactly once.
   * Objects put or deleted during the listing may or may not appear.
   */
  list(prefix: string): AsyncIterable<ObjectInfo>;

  /** Removes the object; removing a missing one is not an error (idempotent). */
  delete(key: string): Promise<void>;

  /**
   * Removes what puts interrupted by a crash left behind (a folder's temp files) that was started
   * before `before`, and says how much. Optional: a store whose puts leave nothing behind, or
   * that cleans up by itself, has none.
   */
  sweepIncomplete?(before: Date): Promise<{ count: number; bytes: number }>;

  /**
   * Object Lock. Optional: only stores that enforce retention (S3 buckets with Object Lock) have
   * it. Sets the object's retention to `retention` (never shortening it: a store refuses that);
   * a missing object is a NotFoundError.
   */
  extendRetention?(key: string, retention: ObjectRetention): Promise<void>;

  /**
   * Archive storage classes. Optional: stores without them have every object readable. Whether
   * the object can be read now; a missing object is a NotFoundError.
   */
  retrievalState?(key: string): Promise<RetrievalState>;

  /**
   * Archive storage classes: asks for a readable copy of the object for `days` (S3
   * RestoreObject). Asking again while one is under way is not an error.
   */
  requestRetrieval?(key: string, options: { days: number; tier: RetrievalTier }): Promise<void>;

  /**
   * Object Lock: fails with an InvalidInputError naming the problem unless objects written
   * here can be given retention (an S3 bucket created with Object Lock enabled).
   */
  checkObjectLock?(): Promise<void>;
}
