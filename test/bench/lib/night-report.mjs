// The "night" scenario's RESULTS.md section: the input, one row per night (worker count), then
// the details of the night with the most workers, then the planner enqueue at 100,000 volumes.
import { fmt, mdTable } from './format.mjs';

const pct = (x) => (x === undefined || Number.isNaN(x) ? '-' : `${fmt(x * 100, 1)}%`);
const s = (x) => fmt(x, 1);

function inputSection(data, cfg) {
  const n = cfg.night;
  const r = data.nights[0]?.run;
  return [
    `- world: ${n.volumes} simulated EBS volumes (1 GiB each to EC2), tagged \`tier=web\`, \`tier=db\` or \`tier=batch\` in turn; each image file`,
    '  holds its first 3 or 4 blocks of 512 KiB, 2 or 3 of them written (4 KiB of random bytes repeated: no dedup, ~100x',
    `  compressible), the rest sparse: ${r ? r.dataBlocks : '-'} data blocks in all (test/support/aws-world, \`lib/night-world.mjs\`)`,
    '- policies: `web`, `db`, `batch`, each selecting one tag, `schedules: [{ every: 1d }]`: BullMQ fires a new job scheduler at',
    "  once, so the two planners' schedulers tick each policy once at start (one tick job per policy: the schedulers are upserted by id)",
    `- account (test/sim, server defaults for latency: blocks 50-150 ms): GetSnapshotBlock / PutSnapshotBlock quota **${n.quota}/s** (burst ${n.quota});`,
    `  EC2 describe ${r?.ec2.describe.perSecond ?? '-'}/s (burst ${r?.ec2.describe.burst ?? '-'}), mutate ${r?.ec2.mutate.perSecond ?? '-'}/s (burst ${r?.ec2.mutate.burst ?? '-'}) (raised: at EC2's default 5/s, ${n.volumes} CreateSnapshot calls`,
    `  alone need ${fmt(Math.max(0, n.volumes - 200) / 5, 0)} s after the bucket's 200); list 50/s; snapshots complete at once (no pending time)`,
    `- the night with the most workers runs to its end; the others run ${n.compareS} s from the planners' start and are cut off (volumes/s and rates over`,
    "  their window: makespan and its bound are the full night's)",
    `- fleet: \`provider.limits\` set to the same quotas; 2 \`snapfleet planner\` + W \`snapfleet worker\` processes (W = ${n.workers.join(', ')}),`,
    `  archive concurrency ${r?.archiveConcurrency ?? '-'} per worker, codecThreads 1, snapshotPollInterval 1s, job attempts 5 (default), Redis ${cfg.fleet.redisUrl.replace(/\/\/[^@/]*@/, '//***@')} under a fresh prefix per night (deleted after)`,
    "- repository: one S3 repository (`s3://night/repo`) on s3rver (the tests' S3 server), a fresh bucket per night",
    "- lower bound = block requests the server served / quota; the rate is the server's per-second stats over the night (first tick to last retention job)",
  ].join('\n');
}

function nightsTable(data) {
  return mdTable(
    [
      'workers',
      'complete',
      'makespan s',
      'block requests',
      'lower bound s',
      'makespan / bound',
      'volumes/s',
      'steady rate/s (mid 80%)',
      'utilisation',
      'peak/s',
      's above quota',
      'idle s (mid 80%)',
      'block throttles',
      'all throttles',
      'jobs failed',
      'jobs retried',
      'snapshots ok',
    ],
    data.nights.map(({ m, full }) => [
      m.workers,
      full
        ? m.complete
          ? 'yes'
          : `**no** (${m.volumesDone} volumes done${m.timedOut ? `, cut off at ${m.deadlineS} s` : ''})`
        : `window of ${m.deadlineS} s: ${m.volumesDone} volumes done`,
      full ? `${m.timedOut ? '> ' : ''}${s(m.makespanS)}` : '-',
      m.served,
      full ? s(m.lowerBoundS) : '-',
      full ? `**${m.timedOut ? '> ' : ''}${fmt(m.ratio, 2)}x**` : '-',
      fmt(m.volumesPerS, 2),
      s(m.steadyPerS),
      `**${pct(m.utilisation)}**`,
      m.peakPerS,
      `${m.secondsAboveQuota} of ${m.seconds}`,
      m.idleSeconds,
      `${m.blockThrottled} (${pct(m.blockThrottledShare)})`,
      `${m.allThrottled} (${pct(m.allThrottledShare)})`,
      Object.values(m.jobs).reduce((k, j) => k + j.failed, 0),
      Object.values(m.jobs).reduce((k, j) => k + j.retried, 0),
      !full || m.timedOut
        ? `${m.check.snapshots} for ${m.volumesDone} done (${m.check.duplicated} duplicated)`
        : m.check.missing === 0 && m.check.duplicated === 0 && m.check.foreign === 0
          ? `${m.check.volumesWithSnapshot}/${m.check.snapshots}`
          : `**${m.check.missing} missing, ${m.check.duplicated} duplicated**`,
    ]),
  );
}

function detail(m, quota) {
  const lines = [
    `### The night with ${m.workers} workers`,
    '',
    `Block-request rate in ten equal slices of the night (quota ${quota}/s):`,
    '',
    mdTable(
      ['slice', ...m.slices.map((_, i) => `${i * 10}-${i * 10 + 10}%`)],
      [
        ['requests/s', ...m.slices.map((x) => s(x.meanPerS))],
        ['of quota', ...m.slices.map((x) => pct(x.utilisation))],
        ['throttled', ...m.slices.map((x) => x.throttled)],
      ],
    ),
    '',
    `Requests served by API: ${Object.entries(m.servedByApi)
      .map(([api, k]) => `${api} ${k}`)
      .join(', ')}. Throttled by API: ${
      Object.entries(m.throttledByApi)
        .map(([api, k]) => `${api} ${k}`)
        .join(', ') || 'none'
    }. Injected 5xx ${m.errors}, timeouts ${m.timeouts}.`,
    '',
    mdTable(
      ['queue', 'finished', 'failed', 'retried (attempts > 1)', 'extra attempts', 'failure reasons'],
      Object.entries(m.jobs).map(([q, j]) => [q, j.finished, j.failed, j.retried, j.extraAttempts, j.failedReasons.join('; ') || '-']),
    ),
    '',
    'Processes (CPU from /proc/PID/stat, peak RSS = VmHWM from /proc/PID/status, sampled every second):',
    '',
    mdTable(
      ['process', 'CPU s', 'CPU ms per volume', 'peak RSS MiB'],
      m.procs.map((p) => [p.role, s(p.cpuS), fmt(p.cpuMsPerVolume, 1), fmt(p.peakRssMiB, 0)]),
    ),
    '',
    `Redis (shared server: INFO used_memory moves with its other clients too; the prefix's own keys are summed MEMORY USAGE, ${m.redis.samples} samples every 15 s): ` +
      `during the night at most ${fmt(m.redis.duringPeakKeysPerVolume, 0)} B of prefix keys per volume (used_memory +${fmt(m.redis.duringPeakUsedPerVolume, 0)} B per volume); ` +
      `right after it ${fmt(m.redis.afterKeysPerVolume, 0)} B per volume in ${m.redis.afterKeys} keys (used_memory +${fmt(m.redis.afterUsedPerVolume, 0)} B per volume), with the night's finished jobs still kept (\`fleet.jobs.keepCompleted\`, 1 h by default).` +
      (m.redis.week
        ? ` **After a simulated week** (lib/night-week.mjs: the planner's sweep of completed jobs past keepCompleted, which removed ${m.redis.week.removedJobs} jobs, and ${m.redis.week.nights - 1} more nights of archive history per volume through the fleet's recorder): **${fmt(m.redis.week.keysPerVolume, 0)} B per volume** in ${m.redis.week.keys} keys (used_memory +${fmt(m.redis.week.usedPerVolume, 0)} B per volume), events streams included (capped by \`fleet.jobs.keepEvents\`).`
        : ''),
    '',
    mdTable(
      ['policy', 'volumes', 'tick s (tick job processed -> finished)', 'attempts'],
      m.ticks.map((t) => [t.policy, t.volumes ?? '-', fmt(t.tickS, 2), t.attempts]),
    ),
    '',
    `Repository: ${m.check.snapshots} snapshots for ${m.check.volumesWithSnapshot} volumes (missing ${m.check.missing}, duplicated ${m.check.duplicated}, not in the world ${m.check.foreign})` +
      (m.restores.sampled
        ? `; ${m.restores.identical} of ${m.restores.sampled} sampled snapshots restored byte-identical (sha256 against the world's image, zero-extended to the volume).`
        : '.'),
  ];
  if (m.restores.failures.length) lines.push('', `Restore failures: ${m.restores.failures.map((f) => `${f.volumeId}: ${f.error ?? 'differs'}`).join('; ')}`);
  return lines.join('\n');
}

function enqueueSection(e) {
  if (!e) return '';
  if (e.error) return `### Planner enqueue at scale\n\nFailed: ${e.error}`;
  return [
    `### Planner enqueue at ${e.volumes} volumes`,
    '',
    "The real planner (`createPlanner`, no schedulers) over the fleet scenario's in-memory VolumeProvider; `planner.enqueuePolicy(policy, slot)`, what a tick runs, timed:",
    '',
    mdTable(
      [
        'volumes',
        'discover s',
        'enqueuePolicy s',
        'volumes/s',
        'snapshot jobs in Redis',
        'prefix keys B per volume',
        'used_memory B per volume',
        'repeat tick s (adds nothing)',
      ],
      [
        [
          e.volumes,
          fmt(e.discoverMs / 1000, 2),
          fmt(e.enqueueMs / 1000, 2),
          fmt(e.volumes / (e.enqueueMs / 1000), 0),
          e.jobs,
          fmt(e.keyBytesPerVolume, 0),
          fmt(e.usedPerVolume, 0),
          fmt(e.repeatMs / 1000, 2),
        ],
      ],
    ),
  ].join('\n');
}

const verdict = (pass) => (pass === undefined ? 'not measured' : pass ? 'PASS' : 'MISS');

/**
 * The night's targets, judged on the night with the most workers: the block-request rate in its
 * steady state against the quota, throttling, makespan against the quota's lower bound, Redis per
 * volume after a simulated week, the planner's enqueue at 100,000 volumes, and the sample restores.
 */
function targetsTable(main, enqueue) {
  const m = main?.m;
  const rows = [
    ['steady block-request rate >= 95% of the quota', m ? pct(m.utilisation) : '-', verdict(m && m.utilisation >= 0.95)],
    ['block requests throttled < 1%', m ? pct(m.blockThrottledShare) : '-', verdict(m && m.blockThrottledShare < 0.01)],
    ['makespan <= 1.15x the quota lower bound', m?.complete ? `${fmt(m.ratio, 2)}x` : 'not finished', verdict(m && (m.complete ? m.ratio <= 1.15 : false))],
    [
      'Redis <= 2 KiB per volume after a week of history',
      m?.redis.week ? `${fmt(m.redis.week.keysPerVolume, 0)} B` : '-',
      verdict(m?.redis.week ? m.redis.week.keysPerVolume <= 2048 : undefined),
    ],
    [
      `planner tick for ${enqueue?.volumes ?? '-'} volumes < 10 s`,
      enqueue?.enqueueMs !== undefined ? `${fmt(enqueue.enqueueMs / 1000, 2)} s` : '-',
      verdict(enqueue?.enqueueMs !== undefined && enqueue.volumes >= 100_000 ? enqueue.enqueueMs < 10_000 : undefined),
    ],
    [
      'sampled restores byte-identical',
      m?.restores.sampled ? `${m.restores.identical} of ${m.restores.sampled}` : '-',
      verdict(m?.restores.sampled ? m.restores.identical === m.restores.sampled : undefined),
    ],
  ];
  return mdTable(['target (night with the most workers)', 'measured', ''], rows);
}

export function nightMarkdown(data, cfg) {
  const main = data.nights.find((x) => x.full) ?? data.nights.at(-1);
  const parts = [
    "A fleet's nightly window against the simulated AWS account (`lib/scenario-night.mjs`): the planners tick every policy once, the",
    'workers snapshot, archive and apply retention to every volume; makespan from the first tick to the last retention job, against',
    "the block requests it needed at the account's quota.",
    '',
    '**Input**',
    '',
    inputSection(data, cfg),
    '',
    nightsTable(data),
    '',
    targetsTable(main, data.enqueue),
    '',
    ...(data.notes.length ? [...data.notes.map((x) => `- ${x}`), ''] : []),
    main ? detail(main.m, cfg.night.quota) : '',
    '',
    enqueueSection(data.enqueue),
  ];
  return parts
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
