// Settings and helpers the fleet scenario's two measurements share: the bench policy and slot,
// and the minimal fleet config the planner and the worker are built from.
export const POLICY = 'bench';
export const SLOT_TIME = Date.UTC(2026, 0, 1, 2); // a nightly slot
export const WARM_SLOT_TIME = SLOT_TIME - 86_400_000;
export const JOBS_PER_BATCH = 1000; // the planner's JOBS_PER_BATCH, for the bare Queue.addBulk baseline
export const ADD_BATCH = 1000; // plain Queue.addBulk jobs per call when filling the worker queues
export const WARM_FLOWS = 500; // one addBulk batch on another slot before measuring (connection, Lua scripts, JIT)
export const WORK_QUEUES = ['snapshot', 'archive', 'retention'];
export const STATES = ['waiting', 'waiting-children', 'prioritized', 'delayed', 'active', 'completed', 'failed', 'paused'];
export const DRAIN_TIMEOUT_MS = 300_000;
export const VARIANTS = ['raw', 'raw-chain', 'raw-chain-lock', 'fleet', 'fleet-silent'];

export const sec = (ms) => ms / 1000;
export const perSec = (n, ms) => n / sec(ms);

export function benchConfig(pkgs, concurrency) {
  // A minimal fleet.yaml: the repository is never opened (snapshot jobs only; enqueue opens nothing).
  const text = JSON.stringify({
    fleet: { queues: { snapshot: { concurrency } } },
    repositories: { bench: { url: '/nonexistent/snapfleet-bench-repository' } },
    policies: [{ name: POLICY, selector: { tags: ['prod'] }, schedules: [{ every: '1d' }], repository: 'bench' }],
  });
  return pkgs.config.parseFleetConfig(text, 'bench-fleet.json');
}
