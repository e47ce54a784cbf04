/**
 * @snapfleet/shared: the engine. Pure: it reaches storage and volumes only through the ports,
 * reads no environment and no wall clock (see eslint.config.js).
 */
export * from './errors.js';
export * from './ports/index.js';
export { FORMAT_VERSION, OLDEST_FORMAT_VERSION, Compression, Encryption, BlobType } from './format/codec-ids.js';
export { DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_OBJECT_LOCK_DAYS, isValidChunkSize, type RepoConfig } from './format/repo-config.js';
export type { Snapshot, SnapshotEntry, SnapshotStats } from './format/snapshot.js';
export type { IndexedPack } from './format/index-object.js';
export type { FrameEntry } from './format/pack-header.js';
export type { ListedPack } from './format/pack-list.js';
export { ID_BYTES } from './format/ids.js';
export { DATA_PREFIX } from './format/layout.js';
export { DEFAULT_ZSTD_LEVEL } from './format/zstd.js';
export { Repository } from './engine/repository.js';
export { initRepository, openRepository, type InitOptions, type OpenOptions } from './engine/repository-open.js';
export { archiveVolume, type ArchiveRequest, type ArchiveResult } from './engine/archive.js';
export { openWriteIndex, type WriteIndex } from './engine/write-index.js';
export { restoreSnapshot, type RestoreRequest, type RestoreStats } from './engine/restore.js';
export {
  verifyRepository,
  describeRanges,
  severityOf,
  type VerifyReport,
  type VerifyOptions,
  type Problem,
  type ProblemKind,
  type Severity,
  type Affected,
  type SnapshotDamage,
  type VerifySummary,
} from './engine/verify.js';
export { verifySnapshot } from './engine/verify-snapshot.js';
export { checkVolumeAgainstSnapshot, type VolumeCheckReport } from './engine/volume-check.js';
export { drillSnapshot, type DrillReport } from './engine/drill.js';
export { readPackList } from './engine/snapshot-index.js';
export type { Progress, ProgressListener } from './engine/progress.js';
export { createInlineCodecPool, type CodecPool, type CodecThreads } from './parallel/codec-pool.js';
export { SlotPool } from './parallel/slot-pool.js';
export { pruneRepository, DEFAULT_REPACK_BELOW, type PruneOptions, type PruneReport } from './engine/prune.js';
export { compactIndex, COMPACT_TARGET_BLOBS, type CompactionReport, type MaintenanceOptions, type MaintenanceReport } from './engine/index-compaction.js';
export {
  improveLocalityUnderLease,
  maintainLocality,
  DEFAULT_MAX_DECODE_AMPLIFICATION,
  DEFAULT_MAX_READS_PER_GIB,
  type LocalityOptions,
  type LocalityReport,
  type VolumeLocality,
} from './engine/locality.js';
export { planForget, removeSnapshots, type RemovalReport, type VolumeForgetPlan } from './engine/forget.js';
export { packsAwaitingRetrieval, retrieveSnapshotPacks, type RetrievalOptions, type RetrievalReport } from './engine/retrieval.js';
export { copySnapshots, checkCopyable, type CopyOptions, type CopyReport, type CopiedSnapshot } from './engine/copy.js';
export { ObjectLockStore, objectLockOf, isLockedKey, retentionAt, type ObjectLockConfig, type RetentionReport } from './engine/object-lock.js';
export { acquireLease, acquireExclusiveLease, liveLeases, LEASE_TTL_MS, CLOCK_SKEW_MS, type HeldLease } from './engine/leases.js';
export { migrateRepository, type MigrateOptions, type MigrateReport } from './engine/migrate.js';
export { addKey, changePassword, listKeys, removeKey, type KeyChangeOptions, type KeyInfo } from './engine/key-files.js';
export { repairIndex, type IndexRepairReport, type RepairOptions } from './engine/repair-index.js';
export { repairPacks, type PackRepairReport, type PackRepairOptions, type RepairedPack } from './engine/repair-packs.js';
export { repairSnapshots, REPAIRED_TAG, type SnapshotRepairReport, type SnapshotRepairOptions, type RepairedSnapshot } from './engine/repair-snapshots.js';
export { appendAuditEntry, listAuditEntries, type AuditListOptions, type StoredRepositoryAuditEntry } from './engine/audit-trail.js';
export { AUDIT_OUTCOMES, type AuditOutcome, type RepositoryAuditEntry } from './format/audit-entry.js';
export { unlockRepository, type UnlockOptions, type UnlockReport, type UnlockedLease } from './engine/unlock.js';
