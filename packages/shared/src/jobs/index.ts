/**
 * @snapfleet/shared/jobs: the contracts between planner and workers: queue names, payload
 * schemas (ids, not data), deterministic job ids and the fleet's own Redis key names.
 * Pure: no BullMQ here, only what both sides must agree on. See docs/operations.md.
 */
export * from './queue-names.js';
export * from './job-ids.js';
export * from './payloads.js';
export * from './redis-keys.js';
export * from './logger.js';
export * from './audit.js';
export * from './job-options.js';
export * from './fleet-queues.js';
