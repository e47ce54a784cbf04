// Figures of one night (night-run.mjs's raw result): makespan against the block-request lower
// bound, the per-second block-request rate against the quota, throttles, failed and retried
// jobs, per-process CPU and memory, Redis memory per volume, tick times, the repository check.
const BLOCK_APIS = ['GetSnapshotBlock', 'PutSnapshotBlock'];
/** The rate is judged over the middle 80% of the night: its ramp-up and its tail are not steady. */
const EDGE_SHARE = 0.1;

const sum = (xs) => xs.reduce((n, x) => n + x, 0);
const mean = (xs) => (xs.length ? sum(xs) / xs.length : undefined);

function blockRate(stats, fromMs, toMs) {
  const rows = new Map(stats.seconds.map((r) => [r.t, r]));
  const series = [];
  for (let t = Math.floor(fromMs / 1000); t <= Math.floor(toMs / 1000); t++) {
    const row = rows.get(t);
    series.push({
      t,
      served: row ? sum(BLOCK_APIS.map((a) => row.served[a] ?? 0)) : 0,
      throttled: row ? sum(BLOCK_APIS.map((a) => row.throttled[a] ?? 0)) : 0,
    });
  }
  return series;
}

function throttleTotals(stats) {
  const byApi = {};
  for (const [api, reasons] of Object.entries(stats.totals.throttled)) byApi[api] = sum(Object.values(reasons));
  return byApi;
}

function jobFigures(jobs) {
  const out = {};
  for (const [queue, list] of Object.entries(jobs)) {
    out[queue] = {
      finished: list.length,
      failed: list.filter((j) => j.state === 'failed').length,
      retried: list.filter((j) => j.attemptsMade > 1).length,
      extraAttempts: sum(list.map((j) => Math.max(0, (j.attemptsMade ?? 1) - 1))),
      failedReasons: [...new Set(list.filter((j) => j.state === 'failed').map((j) => j.failedReason))].slice(0, 3),
    };
  }
  return out;
}

/** Ten equal slices of the night: the mean block-request rate in each, against the quota. */
function slices(series, quota) {
  const out = [];
  for (let i = 0; i < 10; i++) {
    const part = series.slice(Math.floor((i * series.length) / 10), Math.floor(((i + 1) * series.length) / 10));
    out.push({
      meanPerS: mean(part.map((s) => s.served)) ?? 0,
      utilisation: (mean(part.map((s) => s.served)) ?? 0) / quota,
      throttled: sum(part.map((s) => s.throttled)),
    });
  }
  return out;
}

export function nightMetrics(run) {
  const ticks = run.ticks.filter((j) => j.data?.kind === 'policy');
  const firstTick = Math.min(...ticks.map((j) => j.processedOn));
  const retention = run.jobs.retention ?? [];
  // A night cut off at its deadline is measured over its window: first tick to the cut.
  const timedOut = Boolean(run.outcome.timedOut);
  const lastRetention = timedOut ? run.tEnd : Math.max(...retention.map((j) => j.finishedOn));
  const makespanS = (lastRetention - firstTick) / 1000;
  const series = blockRate(run.stats, firstTick, lastRetention);
  const served = timedOut ? sum(series.map((x) => x.served)) : sum(BLOCK_APIS.map((a) => run.stats.totals.served[a] ?? 0));
  const throttledByApi = throttleTotals(run.stats);
  const blockThrottled = sum(BLOCK_APIS.map((a) => throttledByApi[a] ?? 0));
  const allServed = sum(Object.values(run.stats.totals.served));
  const allThrottled = sum(Object.values(throttledByApi));
  const lowerBoundS = served / run.quota;
  const cut = Math.floor(series.length * EDGE_SHARE);
  const middle = series.slice(cut, series.length - cut);
  const steadyPerS = mean(middle.map((s) => s.served)) ?? 0;
  const peakPerS = Math.max(0, ...series.map((s) => s.served));
  const volumes = run.volumes;
  const procs = run.procs.map((p) => ({ role: p.role, cpuS: p.cpuS, cpuMsPerVolume: (p.cpuS * 1000) / volumes, peakRssMiB: p.peakRssKiB / 1024 }));
  const peakRedis = run.redis.samples.reduce((m, s) => (s.prefixBytes > (m?.prefixBytes ?? -1) ? s : m), undefined);
  const peakUsed = Math.max(run.redis.before.usedMemory, ...run.redis.samples.map((s) => s.usedMemory));
  const redis = {
    usedBefore: run.redis.before.usedMemory,
    duringPeakUsedPerVolume: (peakUsed - run.redis.before.usedMemory) / volumes,
    duringPeakKeysPerVolume: peakRedis ? peakRedis.prefixBytes / volumes : undefined,
    afterUsedPerVolume: (run.redis.after.usedMemory - run.redis.before.usedMemory) / volumes,
    afterKeysPerVolume: run.redis.after.prefixBytes / volumes,
    afterKeys: run.redis.after.prefixKeys,
    samples: run.redis.samples.length,
    week: run.redis.week && {
      nights: run.redis.week.nights,
      removedJobs: run.redis.week.removedJobs,
      keysPerVolume: run.redis.week.memory.prefixBytes / volumes,
      keys: run.redis.week.memory.prefixKeys,
      usedPerVolume: (run.redis.week.memory.usedMemory - run.redis.before.usedMemory) / volumes,
    },
  };
  const tickRows = ticks
    .map((j) => {
      const line = run.enqueuedLines.find((l) => l.policy === j.data.policy);
      return { policy: j.data.policy, volumes: line?.volumes, tickS: (j.finishedOn - j.processedOn) / 1000, attempts: j.attemptsMade };
    })
    .sort((a, b) => a.policy.localeCompare(b.policy));
  const restored = run.restores.filter((r) => r.identical).length;
  return {
    workers: run.workers,
    complete: run.outcome.complete && !timedOut,
    timedOut,
    deadlineS: run.deadlineS,
    volumesDone: retention.filter((j) => j.state === 'completed').length,
    makespanS,
    served,
    lowerBoundS,
    ratio: makespanS / lowerBoundS,
    volumesPerS: retention.filter((j) => j.state === 'completed').length / makespanS,
    steadyPerS,
    utilisation: steadyPerS / run.quota,
    peakPerS,
    secondsAboveQuota: series.filter((s) => s.served > run.quota).length,
    seconds: series.length,
    idleSeconds: middle.filter((s) => s.served === 0).length,
    blockThrottled,
    blockThrottledShare: blockThrottled / (served + blockThrottled),
    allThrottled,
    allThrottledShare: allThrottled / (allServed + allThrottled),
    throttledByApi,
    errors: sum(Object.values(run.stats.totals.errors)),
    timeouts: sum(Object.values(run.stats.totals.timeouts)),
    worldFailed: run.stats.totals.failed,
    servedByApi: run.stats.totals.served,
    jobs: jobFigures(run.jobs),
    procs,
    redis,
    ticks: tickRows,
    slices: slices(series, run.quota),
    check: {
      ...run.check,
      missing: run.check.missing.length,
      duplicated: run.check.duplicated.length,
      foreign: run.check.foreign.length,
      missingIds: run.check.missing.slice(0, 5),
      duplicatedIds: run.check.duplicated.slice(0, 5),
    },
    restores: { sampled: run.restores.length, identical: restored, failures: run.restores.filter((r) => !r.identical).slice(0, 3) },
  };
}
