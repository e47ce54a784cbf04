/**
 * BullMQ job options from the fleet config: attempts with exponential backoff and jitter, and
 * how long finished jobs are kept. Kept jobs matter beyond the board: while a job is kept, its
 * deterministic id blocks a second enqueue of the same (policy, volume, slot).
 */
import type { JobsOptions } from 'bullmq';
import type { FleetConfig } from '@snapfleet/shared/config';

export function workJobOptions(config: FleetConfig): JobsOptions {
  const j = config.fleet.jobs;
  return {
    attempts: j.attempts,
    backoff: { type: 'exponential', delay: j.backoff, jitter: j.jitter },
    removeOnComplete: { age: Math.ceil(j.keepCompleted / 1000) },
    removeOnFail: { age: Math.ceil(j.keepFailed / 1000) },
  };
}

/** Ticks retry a little (discovery may hit a throttled API) and are kept briefly. */
export function tickJobOptions(): JobsOptions {
  return {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 },
    removeOnComplete: { age: 86_400, count: 1000 },
    removeOnFail: { age: 7 * 86_400 },
  };
}
