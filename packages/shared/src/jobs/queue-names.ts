/**
 * The fleet's queues. A per-volume flow runs snapshot -> archive -> retention (BullMQ runs a
 * flow's children before their parent, so retention is the root and snapshot the leaf); verify
 * runs per repository; tick jobs come from the planner's job schedulers.
 */
export const QUEUE = {
  tick: 'tick',
  snapshot: 'snapshot',
  archive: 'archive',
  retention: 'retention',
  verify: 'verify',
  /** Alert deliveries, and the periodic RPO check that decides them (docs/operations.md, "Alerts"). */
  alert: 'alert',
} as const;

export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];
/** The stages of a volume's flow, in the order they run. */
export const VOLUME_STAGES = ['snapshot', 'archive', 'retention'] as const;
export type VolumeStage = (typeof VOLUME_STAGES)[number];
export const WORK_QUEUES = [QUEUE.snapshot, QUEUE.archive, QUEUE.retention, QUEUE.verify] as const;
export type WorkQueue = (typeof WORK_QUEUES)[number];
