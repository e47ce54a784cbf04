/**
 * The options of the fleet's work jobs (snapshot, archive, retention, verify) from the fleet
 * config: attempts with exponential backoff and jitter, and how long finished jobs are kept.
 * Kept jobs matter beyond the board: while a job is kept, its deterministic id blocks a second
 * enqueue of the same (policy, volume, slot). The planner adds snapshot jobs with them, and a
 * worker adds each volume's next job of the chain with them (docs/operations.md, "Queues and job ids").
 * The shape is BullMQ's JobsOptions; this layer does not import BullMQ.
 */
import type { FleetConfig } from '../config/fleet-config-schema.js';

export interface WorkJobOptions {
  attempts: number;
  backoff: { type: 'exponential'; delay: number; jitter: number };
  removeOnComplete: { age: number };
  removeOnFail: { age: number };
}

export function workJobOptions(config: FleetConfig): WorkJobOptions {
  const j = config.fleet.jobs;
  return {
    attempts: j.attempts,
    backoff: { type: 'exponential', delay: j.backoff, jitter: j.jitter },
    removeOnComplete: { age: Math.ceil(j.keepCompleted / 1000) },
    removeOnFail: { age: Math.ceil(j.keepFailed / 1000) },
  };
}

/**
 * BullMQ's `streams` option of a Queue. Every Queue a planner or worker makes writes its events
 * cap into the queue's meta hash, where the last writer wins, so every one of them passes this;
 * processes that only read (status, the board) pass `skipMetasUpdate` instead and write nothing.
 */
export function queueStreams(config: FleetConfig): { events: { maxLen: number } } {
  return { events: { maxLen: config.fleet.jobs.keepEvents } };
}
