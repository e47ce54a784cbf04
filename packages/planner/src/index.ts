/**
 * @snapfleet/planner: job schedulers per policy schedule, discovery on each tick, and each
 * volume's snapshot job (the head of its chain snapshot -> archive -> retention) with
 * deterministic job ids.
 */
export { createPlanner, type Planner, type PlannerOptions, type EnqueuedVolume } from './planner.js';
export { desiredSchedulers, reconcileSchedulers, type DesiredScheduler } from './schedulers.js';
export { workJobOptions, tickJobOptions } from './job-options.js';
export { startCompletedSweeper, SWEEP_MS, type CompletedSweeper } from './completed-sweeper.js';
