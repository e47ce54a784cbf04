// Scenario "night-scaling": does adding worker processes add throughput until the account's quota
// binds? The "night" scenario cannot show it: at its quota one worker already fills the budget
// (its nights with 1, 2 and 4 workers all run at ~100% of the quota). Raising the quota instead
// does not show it on a 2-core machine either: the simulated account, s3rver and the workers
// then share the cores, and the machine, not the fleet, sets the pace (at 24/s, 2 archive jobs a
// worker: 1, 2 and 4 workers used 36%, 43% and 41% of the quota, the cores busy throughout).
// So here each block request takes longer (SNAPFLEET_BENCH_SCALING_BLOCK_LATENCY_MS, default
// 1000: answers in 1.0-1.5 s, as from a far or loaded region) and each worker runs fewer archive
// jobs at once (SNAPFLEET_BENCH_SCALING_CONCURRENCY, default 1): one worker is bound by waiting,
// not by CPU, and cannot reach the quota (SNAPFLEET_BENCH_SCALING_QUOTA, default 5/s) alone.
// One night per worker count in SNAPFLEET_BENCH_SCALING_WORKERS (default 1,2,4), each over the
// same world as "night" and cut off after SNAPFLEET_BENCH_NIGHT_COMPARE_S (default 120) seconds:
// throughput over that window is the measure. The nights run through lib/night-run.mjs, so
// every process, quota and check is the night scenario's.
// Alone: SNAPFLEET_BENCH_SCENARIOS=night-scaling node test/bench/run.mjs (~10 min here).
import console from 'node:console';
import { snapfleetScenario } from './scenario-result.mjs';
import { fmt, mdTable } from './format.mjs';
import { loadFleetPackages } from './fleet-support.mjs';
import { nightBase, runNight } from './night-run.mjs';
import { nightMetrics } from './night-metrics.mjs';

/** A step from fewer workers to more "adds throughput" when volumes/s grows by at least this share. */
const MIN_GAIN = 0.1;
/** Utilisation at which the quota counts as binding: more workers cannot add throughput beyond it. */
const BINDING = 0.95;

const pct = (x) => `${fmt(x * 100, 1)}%`;

async function runScenario(ctx) {
  const { cfg } = ctx;
  const s = cfg.nightScaling;
  // The night machinery reads cfg.night: the same world and window, this scenario's quota and concurrency.
  const blockLatencyMs = [s.blockLatencyMs, Math.round(s.blockLatencyMs * 1.5)];
  const nightCfg = { ...cfg, night: { ...cfg.night, quota: s.quota, concurrency: s.concurrency, blockLatencyMs } };
  const pkgs = await loadFleetPackages();
  const base = nightBase();
  const rows = [];
  const failures = [];
  for (const workers of s.workers) {
    console.log(`night-scaling: quota ${s.quota}/s, ${s.concurrency} archive jobs per worker, ${workers} worker(s), ${cfg.night.compareS} s window`);
    const run = await runNight(pkgs, { cfg: nightCfg, base, workers, restore: false, deadlineS: cfg.night.compareS });
    const m = nightMetrics(run);
    const failed = Object.values(m.jobs).reduce((k, j) => k + j.failed, 0);
    const workerCpuS = m.procs.filter((p) => p.role.startsWith('worker')).reduce((k, p) => k + p.cpuS, 0);
    console.log(
      `  [scaling w${workers}] ${m.volumesDone} volumes in ${fmt(m.makespanS, 1)} s = ${fmt(m.volumesPerS, 2)}/s; steady ${fmt(m.steadyPerS, 1)}/s = ${pct(m.utilisation)} of quota; throttles ${m.blockThrottled}; failed ${failed}`,
    );
    if (failed) failures.push(`night-scaling with ${workers} workers: ${failed} jobs failed`);
    if (m.check.duplicated || m.check.foreign)
      failures.push(`night-scaling with ${workers} workers: ${m.check.duplicated} volumes with more than one snapshot`);
    rows.push({
      workers,
      windowS: m.makespanS,
      volumesDone: m.volumesDone,
      volumesPerS: m.volumesPerS,
      steadyPerS: m.steadyPerS,
      utilisation: m.utilisation,
      peakPerS: m.peakPerS,
      secondsAboveQuota: m.secondsAboveQuota,
      blockThrottled: m.blockThrottled,
      blockThrottledShare: m.blockThrottledShare,
      failed,
      workerCpuS,
      workerPeakRssMiB: Math.max(...m.procs.filter((p) => p.role.startsWith('worker')).map((p) => p.peakRssMiB)),
    });
  }
  return { data: { quota: s.quota, concurrency: s.concurrency, blockLatencyMs, windowS: cfg.night.compareS, volumes: cfg.night.volumes, rows }, failures };
}

/** For each step to more workers: did throughput grow, or was the quota already binding? */
function steps(rows) {
  const out = [];
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = [rows[i - 1], rows[i]];
    const gain = b.volumesPerS / a.volumesPerS - 1;
    const binding = a.utilisation >= BINDING;
    out.push({ from: a.workers, to: b.workers, gain, binding, pass: binding || gain >= MIN_GAIN });
  }
  return out;
}

function markdown(data) {
  if (!data.rows?.length) return 'No night ran.';
  const table = mdTable(
    [
      'workers',
      'window s',
      'volumes done',
      'volumes/s',
      'vs 1 worker',
      'steady block requests/s (mid 80%)',
      'of the quota',
      'peak/s',
      's above quota',
      'block throttles',
      'jobs failed',
      'worker CPU s (all)',
      'worker peak RSS MiB',
    ],
    data.rows.map((r) => [
      r.workers,
      fmt(r.windowS, 1),
      r.volumesDone,
      fmt(r.volumesPerS, 2),
      `${fmt(r.volumesPerS / data.rows[0].volumesPerS, 2)}x`,
      fmt(r.steadyPerS, 1),
      `**${pct(r.utilisation)}**`,
      r.peakPerS,
      r.secondsAboveQuota,
      `${r.blockThrottled} (${pct(r.blockThrottledShare || 0)})`,
      r.failed,
      fmt(r.workerCpuS, 1),
      fmt(r.workerPeakRssMiB, 0),
    ]),
  );
  const targets = mdTable(
    ['step', 'volumes/s gained', 'quota binding before it', ''],
    steps(data.rows).map((s) => [
      `${s.from} -> ${s.to} workers`,
      `${s.gain >= 0 ? '+' : ''}${fmt(s.gain * 100, 0)}%`,
      s.binding ? 'yes' : 'no',
      s.pass ? 'PASS' : 'MISS',
    ]),
  );
  return [
    `The night scenario's world (${data.volumes} simulated volumes, three policies, two planners, the simulated account, one S3 repository on s3rver: see its input), ` +
      `with a block-request quota of **${data.quota}/s** (the fleet's \`provider.limits\` the same), block requests answered in ${data.blockLatencyMs?.join('-') ?? '50-150'} ms ` +
      `and **${data.concurrency}** archive job(s) per worker process, so that one worker, bound by waiting rather than by this machine's two cores, cannot fill the quota alone. Each night is cut off after ${data.windowS} s; volumes/s counts retention jobs done (the last stage of a volume) over the window from the first tick. ` +
      `A step to more workers passes when it adds at least ${fmt(MIN_GAIN * 100, 0)}% volumes/s, or when the quota was already binding (>= ${fmt(BINDING * 100, 0)}% used) before it.`,
    '',
    table,
    '',
    targets,
  ].join('\n');
}

export const nightScalingScenario = snapfleetScenario({
  id: 'night-scaling',
  title: 'Night scaling: worker processes below the quota',
  measure: runScenario,
  markdown,
});
