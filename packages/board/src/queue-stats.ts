/** Job counts per queue, read from Redis through BullMQ: shared by /api/queues and /metrics. */
import type { Queue } from 'bullmq';

/**
 * Every job state BullMQ 6 counts (a paused queue keeps its jobs in `waiting`: BullMQ 6 has no
 * separate paused state). Fixed, so a metric series never silently disappears.
 */
export const JOB_STATES = ['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized', 'waiting-children'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface QueueStats {
  name: string;
  paused: boolean;
  counts: Record<JobState, number>;
}

export async function readQueueStats(queue: Queue): Promise<QueueStats> {
  const [raw, paused] = await Promise.all([queue.getJobCounts(...JOB_STATES), queue.isPaused()]);
  const counts = Object.fromEntries(JOB_STATES.map((s) => [s, raw[s] ?? 0])) as Record<JobState, number>;
  return { name: queue.name, paused, counts };
}

export function readAllQueueStats(queues: Iterable<Queue>): Promise<QueueStats[]> {
  return Promise.all([...queues].map(readQueueStats));
}
