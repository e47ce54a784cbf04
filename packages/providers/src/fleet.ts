/**
 * @snapfleet/providers/fleet: adapters only the fleet (planner, worker, `snapfleet run`) uses. A
 * separate entry, so that one-shot commands do not load the fleet config schema (yaml,
 * cron-parser) or the rate limiter at start.
 */
export { LocalVolumeProvider, type LocalVolumeSpec } from './local/local-volume-provider.js';
export { createMemoryRateLimiter, createRedisRateLimiter, type RateLimitOptions, type RedisRateLimitOptions } from './limits/index.js';
export { createComplianceRecorder, readComplianceRecords, type ComplianceRecorder, type ComplianceRecords } from './compliance/redis-compliance.js';
export { createRetentionGuardStore, type HeldChange, type RetentionGuardStore } from './compliance/redis-retention-guard.js';
export { createArchiveHistory, type ArchiveHistory, type ArchiveOutcome } from './compliance/redis-archive-history.js';
export { sendAlert, slackBody, webhookBody, type AlertTarget } from './alerts/http-alert-sender.js';
export { appendAudit, readAudit, type AuditQuery } from './audit/redis-audit-log.js';
export { redisScript, type RedisScript } from './redis-script.js';
