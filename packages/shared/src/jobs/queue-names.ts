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

/**
 * The queue a volume stage's job goes to. With `fleet.routing.byRegion` a volume's jobs carry its
 * region and go to that region's queue (`archive-eu-west-1`), which only workers of that region
 * take, so block reads never cross regions; without a region, the stage's own queue. BullMQ
 * queue names cannot hold ':', region names hold only letters, digits and '-'.
 */
export function stageQueue(stage: VolumeStage, region?: string): string {
  return region ? `${stage}-${region}` : stage;
}
