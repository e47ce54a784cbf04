/**
 * BullMQ job options of the planner's own ticks. Work jobs take `workJobOptions` from the
 * shared jobs layer, which workers use too when they add a volume's next job.
 */
import type { JobsOptions } from 'bullmq';

export { workJobOptions } from '@snapfleet/shared/jobs';

/** Ticks retry a little (discovery may hit a throttled API) and are kept briefly. */
export function tickJobOptions(): JobsOptions {
  return {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 },
    removeOnComplete: { age: 86_400, count: 1000 },
    removeOnFail: { age: 7 * 86_400 },
  };
}
