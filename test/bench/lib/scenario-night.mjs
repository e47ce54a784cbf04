// Scenario "night": the fleet's nightly window against the simulated AWS account (test/sim).
// For each worker count in SNAPFLEET_BENCH_NIGHT_WORKERS (default 1,2,4), one night
// (lib/night-run.mjs): a fresh world of SNAPFLEET_BENCH_NIGHT_VOLUMES tiny EBS volumes over three
// policies, the account server with a block-request quota of SNAPFLEET_BENCH_NIGHT_QUOTA per
// second (the fleet's provider.limits set to the same), one S3 repository on s3rver, two
// `snapfleet planner` and W `snapfleet worker` processes under a fresh Redis prefix. Measured per
// night (lib/night-metrics.mjs): makespan (first tick -> last retention job) against the
// lower bound (block requests served / quota), the per-second block-request rate against the
// quota, throttles, failed and retried jobs, CPU and peak RSS per process, Redis memory per
// volume, tick times; every volume must have exactly one snapshot in the repository, and in the
// night with the most workers 20 of them are restored and compared with the world's images.
// Then, on its own: the planner's enqueuePolicy over SNAPFLEET_BENCH_NIGHT_ENQUEUE_VOLUMES
// (default 100,000) volumes of the fleet scenario's in-memory provider. The nights with fewer
// workers than the most run SNAPFLEET_BENCH_NIGHT_COMPARE_S (default 120) seconds and are cut
// off: their throughput over that window is what the comparison needs, and three whole nights
// of 2,000 volumes would take over an hour on a 2-core machine.
// Not in the default scenario set: ~35 min on a 2-core machine. Alone: SNAPFLEET_BENCH_SCENARIOS=night node test/bench/run.mjs
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import console from 'node:console';
import { fmt } from './format.mjs';
import { MemoryVolumeProvider, deleteKeys, fileLogger, keysMemory, loadFleetPackages, scanKeys, usedMemory } from './fleet-support.mjs';
import { POLICY, SLOT_TIME, benchConfig } from './fleet-bench-shared.mjs';
import { nightBase, redisOptions, runNight } from './night-run.mjs';
import { nightMetrics } from './night-metrics.mjs';
import { nightMarkdown } from './night-report.mjs';
import { snapfleetScenario } from './scenario-result.mjs';

/** enqueuePolicy over many in-memory volumes: what a tick costs the planner when discovery is free. */
async function measureEnqueue(pkgs, cfg, base) {
  const connection = redisOptions(cfg.fleet.redisUrl);
  const prefix = `${base}.e`;
  const redis = new pkgs.Redis({ ...connection, maxRetriesPerRequest: 1 });
  const logger = await fileLogger(pkgs.pino, join(cfg.runDir, 'night', 'enqueue-planner.log'), { role: 'planner', prefix });
  const volumes = cfg.night.enqueueVolumes;
  const provider = new MemoryVolumeProvider(volumes, { selectorMatches: pkgs.config.selectorMatches, PermanentError: pkgs.shared.PermanentError });
  const config = benchConfig(pkgs, 4);
  const planner = pkgs.planner.createPlanner({
    connection,
    prefix,
    config,
    provider,
    clock: { now: () => new Date() },
    log: logger.log,
    processTicks: false,
    manageSchedulers: false,
  });
  try {
    await planner.start();
    let t = performance.now();
    await provider.discover(config.policies[0].selector);
    const discoverMs = performance.now() - t;
    const used0 = await usedMemory(redis);
    const slot = pkgs.jobs.slotFromTime(new Date(SLOT_TIME));
    t = performance.now();
    const enqueued = await planner.enqueuePolicy(POLICY, slot);
    const enqueueMs = performance.now() - t;
    const used1 = await usedMemory(redis);
    const keys = await keysMemory(redis, `${prefix}:*`);
    const jobs = (await scanKeys(redis, `${prefix}:snapshot:snapshot-*`)).length;
    t = performance.now();
    await planner.enqueuePolicy(POLICY, slot);
    const repeatMs = performance.now() - t;
    return {
      volumes,
      enqueued: enqueued.length,
      discoverMs,
      enqueueMs,
      repeatMs,
      jobs,
      keyBytesPerVolume: keys.bytes / volumes,
      usedPerVolume: (used1 - used0) / volumes,
    };
  } finally {
    await planner.close();
    logger.close();
    await deleteKeys(redis, `${prefix}:*`);
    redis.disconnect();
  }
}

async function runScenario(ctx) {
  const { cfg } = ctx;
  const pkgs = await loadFleetPackages();
  const base = nightBase();
  const nights = [];
  const failures = [];
  const notes = [];
  const most = Math.max(...cfg.night.workers);
  for (const workers of cfg.night.workers) {
    console.log(`night: ${cfg.night.volumes} volumes, quota ${cfg.night.quota}/s, ${workers} worker(s)`);
    // The night with the most workers runs to its end and is checked; the others run a window.
    const full = workers === most && !nights.some((n) => n.workers === most);
    const run = await runNight(pkgs, { cfg, base, workers, restore: full, deadlineS: full ? cfg.night.deadlineS : cfg.night.compareS });
    const m = nightMetrics(run);
    console.log(
      `  [night w${workers}] makespan ${fmt(m.makespanS, 1)} s vs lower bound ${fmt(m.lowerBoundS, 1)} s (${fmt(m.ratio, 2)}x); steady ${fmt(m.steadyPerS, 1)}/s = ${fmt(m.utilisation * 100, 1)}% of quota, peak ${m.peakPerS}/s; ` +
        `block throttles ${m.blockThrottled}; failed ${Object.values(m.jobs).reduce((k, j) => k + j.failed, 0)}; snapshots ${m.check.snapshots} (missing ${m.check.missing}, dup ${m.check.duplicated}); restores ${m.restores.identical}/${m.restores.sampled}`,
    );
    const { jobs: _jobs, stats, ticks: _ticks, ...kept } = run;
    nights.push({ workers, full, run: { ...kept, seconds: stats.seconds.length }, m });
    // As a missed target elsewhere in the bench: a night that is slower than its deadline is
    // reported, not failed. Failed jobs, duplicated or missing snapshots and restores that
    // differ are failures.
    const failedJobs = Object.values(m.jobs).reduce((k, j) => k + j.failed, 0);
    if (failedJobs) failures.push(`night with ${workers} workers: ${failedJobs} jobs failed`);
    if (full && m.timedOut) {
      notes.push(
        `The night with ${workers} workers did not finish within ${cfg.night.deadlineS} s: ${m.volumesDone} of ${cfg.night.volumes} volumes were done when it was cut off ` +
          `(at its ${fmt(m.volumesPerS, 2)} volumes/s, all of them would take ~${fmt(cfg.night.volumes / m.volumesPerS, 0)} s); its makespan is a lower limit and the repository check covers the volumes done.`,
      );
    }
    if (full && !m.timedOut ? m.check.missing || m.check.duplicated || m.check.foreign : m.check.duplicated || m.check.foreign)
      failures.push(`night with ${workers} workers: ${m.check.missing} volumes without a snapshot, ${m.check.duplicated} with more than one`);
    if (m.restores.sampled && m.restores.identical !== m.restores.sampled)
      failures.push(`night with ${workers} workers: ${m.restores.sampled - m.restores.identical} sampled restores differ`);
  }
  const curve = nights
    .map(
      (n) => `${n.workers}: ${fmt(n.m.volumesPerS, 2)} volumes/s, ${fmt(n.m.steadyPerS, 1)} block requests/s (${fmt(n.m.utilisation * 100, 0)}% of the quota)`,
    )
    .join('; ');
  if (nights.length > 1) notes.push(`Throughput by worker processes: ${curve}.`);
  let enqueue;
  try {
    enqueue = await measureEnqueue(pkgs, cfg, base);
    console.log(`  [night] enqueuePolicy over ${enqueue.volumes} in-memory volumes: ${fmt(enqueue.enqueueMs / 1000, 2)} s`);
  } catch (e) {
    enqueue = { error: e.message };
    failures.push(`enqueue measurement: ${e.message}`);
  }
  return { data: { nights, enqueue, notes }, failures };
}

export const nightScenario = snapfleetScenario({
  id: 'night',
  title: 'Night: a fleet against the simulated AWS account (quota, makespan, workers)',
  measure: runScenario,
  markdown: nightMarkdown,
});
