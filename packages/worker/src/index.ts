/**
 * @snapfleet/worker: the BullMQ processors (snapshot, archive, retention, verify) as factories
 * over ports, the per-(volume, stage) Redis lock, error classification, metrics (per process
 * and fleet-wide in Redis), policy slots and rate limits, reload of the configuration and
 * graceful shutdown.
 */
export { createFleetWorker, workerSettingsNeedingRestart, type FleetWorker, type FleetWorkerOptions } from './fleet-worker.js';
export { createPolicyRateLimits, type PolicyRateLimits, type RateLimiterFactory } from './policy-rate-limits.js';
export { createFleetRepositories, type FleetRepositories, type FleetRepositoriesOptions, type OpenedRepository } from './fleet-repositories.js';
export { createFleetMetrics, readFleetMetrics, fleetMetricsText, type FleetMetrics, type FleetMetricsSnapshot } from './fleet-metrics.js';
export { createLockService, type LockService, type HeldLock } from './stage-lock.js';
export { toQueueError, errorKindOf, parsePayload, isControlFlowError } from './job-errors.js';
export { createSnapshotProcessor } from './processors/snapshot-processor.js';
export { createArchiveProcessor, type ArchiveJobResult } from './processors/archive-processor.js';
export { createRetentionProcessor, type RetentionDeps, type RetentionJobResult } from './processors/retention-processor.js';
export { applySnapshotTier, type ArchiveJobState, type SnapshotTierOutcome } from './processors/snapshot-tier-retention.js';
export { createVerifyProcessor } from './processors/verify-processor.js';
export type { Processor, ProcessorDeps } from './processors/processor-deps.js';
export { startProcessEndpoints, type ProcessEndpoints } from './process-endpoints.js';
