// The Redis a fleet keeps once a week of nights has passed, measured after one real night (lib/
// night-run.mjs) without running six more: the planner's own completed-job sweep runs as it
// would once `fleet.jobs.keepCompleted` has passed (the real sweeper, with keepCompleted 0), and
// each volume's archive history gets the six following nights' entries through the fleet's own
// recorder (createArchiveHistory), which also ages out what `keepHistory` drops. The compliance
// records and covered lists keep their size from night to night, and the events streams are at
// their cap after a single night of thousands of jobs, so they are measured as the night left them.
import { readFile } from 'node:fs/promises';
import { redisMemory } from './night-probes.mjs';

const DAY_MS = 86_400_000;
const NIGHTS = 7;
const BATCH = 500;

/** The fleet's per-volume Redis after a simulated week: what the sweep removed and what stays. */
export async function simulateWeek(pkgs, { connection, redis, prefix, configPath, volumes }) {
  const config = pkgs.config.fleetConfigSchema.parse(JSON.parse(await readFile(configPath, 'utf8')));
  const keepHistory = config.fleet.jobs.keepHistory;
  const swept = { ...config, fleet: { ...config.fleet, jobs: { ...config.fleet.jobs, keepCompleted: 0 } } };
  const sweeper = pkgs.planner.startCompletedSweeper(connection, prefix, () => swept, pkgs.jobs.silentLogger, 2 ** 31 - 1);
  let removed;
  try {
    removed = await sweeper.sweep();
  } finally {
    sweeper.stop();
  }
  const history = pkgs.providersFleet.createArchiveHistory(redis, prefix);
  const start = Date.now();
  for (let night = 1; night < NIGHTS; night++) {
    const at = new Date(start + night * DAY_MS);
    const slot = pkgs.jobs.slotFromTime(at);
    for (let i = 0; i < volumes.length; i += BATCH)
      await Promise.all(volumes.slice(i, i + BATCH).map((v) => history.record(v.policy, v.id, slot, at, 'archived', keepHistory, at)));
  }
  return { nights: NIGHTS, removedJobs: removed, memory: await redisMemory(redis, prefix) };
}
