/**
 * Every queue a fleet's config puts jobs in: what the board shows, `status` counts, the planner
 * applies limits to and `run --once` follows. With `fleet.routing.byRegion` each volume stage has
 * a queue per region besides its own (which keeps jobs without a region, and the orphans rule's).
 */
import type { FleetConfig } from '../config/fleet-config-schema.js';
import { QUEUE, VOLUME_STAGES, WORK_QUEUES, stageQueue, type VolumeStage, type WorkQueue } from './queue-names.js';

/** The regions whose queues a config's volume jobs can be in (none without routing by region). */
export function routedRegions(config: FleetConfig): readonly string[] {
  return config.fleet.routing.byRegion && config.provider.kind === 'aws' ? config.provider.regions : [];
}

/** A work queue's name and the stage whose settings (concurrency, limits) it takes. */
export interface WorkQueueName {
  name: string;
  queue: WorkQueue;
  region?: string;
}

/** The work queues of `config` for `regions` (default: every routed region), each stage's own first. */
export function workQueueNames(config: FleetConfig, regions: readonly string[] = routedRegions(config)): WorkQueueName[] {
  const out: WorkQueueName[] = [];
  for (const queue of WORK_QUEUES) {
    out.push({ name: queue, queue });
    if (!isVolumeStage(queue)) continue;
    for (const region of regions) out.push({ name: stageQueue(queue, region), queue, region });
  }
  return out;
}

/** Every queue of the fleet, tick and alert included. */
export function fleetQueueNames(config: FleetConfig): string[] {
  return [QUEUE.tick, ...workQueueNames(config).map((q) => q.name), QUEUE.alert];
}

function isVolumeStage(queue: WorkQueue): queue is VolumeStage {
  return (VOLUME_STAGES as readonly string[]).includes(queue);
}
