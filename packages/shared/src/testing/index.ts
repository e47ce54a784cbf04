/**
 * Test support for every package: in-memory and faulty fakes of the ports, and the conformance
 * suites each adapter runs. Imported as `@snapfleet/shared/testing`; needs vitest.
 */
export { MemoryBlobStore } from './memory-blob-store.js';
export { FaultyBlobStore, type BlobOp, type FaultEffect, type FaultRule } from './faulty-blob-store.js';
export { RecordingBlobStore, type RecordedCall } from './recording-blob-store.js';
export { RetentionBlobStore } from './retention-blob-store.js';
export { ArchiveClassBlobStore } from './archive-class-blob-store.js';
export { MemoryVolumeSource, type MemoryVolumeSourceOptions } from './memory-volume-source.js';
export { MemoryVolumeTarget, type MemoryVolumeTargetOptions } from './memory-volume-target.js';
export { MemoryVolumeProvider, type MemoryVolume, type MemoryVolumeProviderOptions } from './memory-volume-provider.js';
export {
  describeBlobStoreConformance,
  type BlobStoreConformanceCase,
  type BlobStoreConformanceOptions,
  type BlobStoreFactory,
  type BlobStoreFixture,
} from './blob-store-conformance.js';
export {
  conformanceVolume,
  describeVolumeSourceConformance,
  type VolumeSourceConformanceOptions,
  type VolumeSourceFactory,
  type VolumeSourceFixture,
} from './volume-source-conformance.js';
export {
  describeVolumeTargetConformance,
  type VolumeTargetConformanceOptions,
  type VolumeTargetFactory,
  type VolumeTargetFixture,
} from './volume-target-conformance.js';
export {
  conformanceVolumes,
  describeVolumeProviderConformance,
  type ConformanceVolumeSpec,
  type VolumeProviderConformanceOptions,
  type VolumeProviderFactory,
  type VolumeProviderFixture,
} from './volume-provider-conformance.js';
export { mapLimit, randomData, seededBytes, sha256Hex } from './test-data.js';
export { createTestBucket, type TestBucket } from './s3-test-bucket.js';
export { FAULT_KINDS, startFaultProxy, type FaultKind, type FaultProxy, type FaultProxyOptions, type FaultProxyStats, type FaultRates } from './fault-proxy.js';
