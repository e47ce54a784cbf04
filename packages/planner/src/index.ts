/**
 * @snapfleet/planner: job schedulers per policy schedule, discovery on each tick, and one flow
 * per volume (snapshot -> archive -> retention) with deterministic job ids.
 */
export { createPlanner, type Planner, type PlannerOptions, type EnqueuedVolume } from './planner.js';
export { desiredSchedulers, reconcileSchedulers, type DesiredScheduler } from './schedulers.js';
export { volumeFlow } from './flows.js';
export { workJobOptions, tickJobOptions } from './job-options.js';
