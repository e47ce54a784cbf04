export type {
  BlobStore,
  BlobData,
  ByteRange,
  ObjectInfo,
  ObjectLockMode,
  ObjectRetention,
  PackStorageClass,
  PutOptions,
  RetrievalState,
  RetrievalTier,
} from './blob-store.js';
export {
  ARCHIVE_STORAGE_CLASSES,
  blobDataLength,
  isArchiveStorageClass,
  joinBlobData,
  OBJECT_LOCK_MODES,
  PACK_STORAGE_CLASSES,
  RETRIEVAL_TIERS,
} from './blob-store.js';
export type { VolumeSource } from './volume-source.js';
export type { VolumeTarget } from './volume-target.js';
export type { Clock } from './clock.js';
export type {
  VolumeProvider,
  VolumeSelectorSpec,
  DiscoveredVolume,
  SnapshotRef,
  SnapshotState,
  ProviderSnapshot,
  SnapshotCopies,
  SnapshotCopyTarget,
  ScratchRequest,
  ScratchTarget,
  ScratchTargets,
} from './volume-provider.js';
export type { RateLimiter } from './rate-limiter.js';
export type { ProcessIdentity, HolderId } from './process-identity.js';
export type { DedupIndex, DedupIndexCache, DedupIndexOpenOptions, DedupIndexStats, IndexObjectView } from './dedup-index.js';
