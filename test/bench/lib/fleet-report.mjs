// The fleet scenario's section of RESULTS.md.
import { fmt, mb, mdTable } from './format.mjs';
import { sec } from './fleet-bench-shared.mjs';

export function fleetMarkdown(d, cfg) {
  const e = d.enqueue;
  const w = d.workers;
  const counts = Object.entries(e.countsAdded)
    .map(
      ([q, s]) =>
        `${q} ${Object.entries(s)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}`,
    )
    .join('; ');
  const lines = [
    `Redis ${d.redisVersion} (shared with other clients: used_memory and Redis CPU include their activity, if any), ` +
      `BullMQ from the workspace. No repository and no volume data: this is the queue side only.`,
    '',
    '### Planner enqueue',
    '',
    `\`planner.enqueuePolicy(policy, slot)\` of the real planner (\`createPlanner\`; the function its tick processor calls for a policy tick), ` +
      `over a synthetic in-memory VolumeProvider with ${e.volumes} volumes, a policy selecting all of them (\`tags: [prod]\`): discovery, ` +
      `each volume's snapshot job, the head of its chain (snapshot -> archive -> retention: each job adds the next when it is done), \`Queue.addBulk\` of 1000 jobs per call. ` +
      `After a warm-up enqueue of ${e.warmFlows} volumes on another slot (both here and for the bare baseline below). Discovery alone took ${fmt(e.discoverMs, 1)} ms.`,
    '',
    mdTable(
      [
        'volumes',
        'wall s',
        'volumes/s',
        'jobs/s',
        'jobs in Redis after',
        'planner CPU s',
        'Redis CPU s',
        'Redis commands',
        'used_memory B/job',
        'key MEMORY USAGE B/job',
      ],
      [
        [
          e.volumes,
          fmt(sec(e.enqueueMs)),
          fmt(e.flowsPerS, 0),
          fmt(e.jobsPerS, 0),
          e.jobsAdded,
          fmt(e.nodeCpuS),
          fmt(e.redisCpuS),
          e.redisCommands,
          fmt(e.usedMemoryPerJob, 0),
          fmt(e.keyMemoryPerJob, 0),
        ],
      ],
    ),
    '',
    mdTable(
      ['key MEMORY USAGE by kind', 'keys added', 'B/job', 'after the repeated tick: B added'],
      Object.entries(e.keyMemoryGroups).map(([g, v]) => [g, v.keys, fmt(v.bytesPerJob, 0), e.repeat.keyMemoryGroups[g]?.bytes ?? 0]),
    ),
    '',
    `Jobs counted in Redis after the tick (per queue and state, minus the warm-up's): ${counts}; ` +
      `${e.slotJobHashes} job hashes of slot \`${e.slot}\` found by SCAN; ${e.keysAdded} keys added in all. ` +
      `used_memory went ${mb(e.usedMemoryBefore)} -> ${mb(e.usedMemoryAfter)} MB; "key MEMORY USAGE" is the sum of \`MEMORY USAGE key SAMPLES 0\` over the prefix's keys ` +
      "(without Redis's own dictionary overhead). Both per job = per waiting snapshot job (one per volume). " +
      `The planner's prefix here (\`${e.prefix}\`) is as long as the default \`snapfleet\`. BullMQ trims each queue's events stream to about ` +
      '10,000 entries, so the events share per job shrinks in larger fleets.',
    '',
    `**Same tick again** (same slot, deterministic ids): ${e.repeat.returned} volumes submitted in ${fmt(sec(e.repeat.ms))} s, ` +
      `**${e.repeat.jobsAdded} jobs added** (${e.repeat.redisCommands} Redis commands; ${fmt(e.repeat.ms / e.enqueueMs, 2)}x the first tick's time), ` +
      `used_memory ${e.repeat.usedMemoryDelta >= 0 ? '+' : ''}${e.repeat.usedMemoryDelta} B, prefix keys' memory ${e.repeat.keyMemoryDelta >= 0 ? '+' : ''}${e.repeat.keyMemoryDelta} B ` +
      '(only the events streams change: BullMQ logs a `duplicated` event per job, within their cap).',
    '',
    `Bare BullMQ in the same run, after the planner: the same ${e.bareAddBulk.jobs} snapshot jobs through \`Queue.addBulk\` (1000 per call) on another prefix: ` +
      `${fmt(sec(e.bareAddBulk.ms))} s, ${fmt(e.bareAddBulk.jobsPerS, 0)} jobs/s (planner / bare = ${fmt(e.enqueueMs / e.bareAddBulk.ms, 2)}x the time: the planner also records the volumes the policy covers). ` +
      `Plain \`Queue.addBulk\` while filling the worker queues below: ${fmt(w.addBulkJobsPerS, 0)} jobs/s (median).`,
    '',
    '### Worker overhead per no-op job',
    '',
    `${cfg.fleet.jobs} snapshot jobs (the planner's payloads, ids and job options: the config's defaults: attempts 5, completed jobs kept 1 h) per run on a fresh paused queue; ` +
      'the worker is started, the queue resumed, and the time to the last `completed` event taken. ' +
      '`createFleetWorker` has no way to plug in a processor, so the fleet rows run its real snapshot processor over the in-memory provider, whose ' +
      '`createSnapshot`/`snapshotState` return at once: payload parse (zod), the per-(volume, stage) Redis lock (SET NX PX, renew timer, ' +
      'compare-and-delete release, both by EVALSHA), error classification, the add of the archive job that follows (the job chain: a second BullMQ add per job, which the raw worker does not make), prom-client + fleet HINCRBY metrics (added up in memory, sent once a second), ' +
      "the snapshot's RPO compliance record (gathered for 25 ms and written in one pipeline with others), and the `job started`/`job completed` pino lines " +
      "(CLI logger settings: lines gathered for up to 50 ms and written together, to a file). **raw** = bare BullMQ `Worker` with `async () => {}`; **raw-chain** = bare BullMQ `Worker` whose processor adds the archive job as the fleet's snapshot job does (same payload, id and options: the queue work the fleet cannot skip); **raw-chain-lock** = the same inside the fleet's per-(volume, stage) lock (`createLockService`: SET NX PX, then the compare-and-delete release), taken and released around the add as the fleet's job gate does; **fleet-silent** = fleet without logging. " +
      `Same concurrency, lockDuration and stalledInterval; ${cfg.fleet.rounds} rounds, order rotated; medians. ` +
      'Node CPU = the bench process (worker and its Redis clients); Redis CPU = INFO used_cpu_user+sys of the server; ' +
      "Redis commands = INFO total_commands_processed (a MULTI/EXEC or a Lua script counts each command inside; other clients' commands would count too).",
    '',
  ];
  for (const s of w.summary) {
    const raw = s.variants.find((v) => v.variant === 'raw');
    const rawChain = s.variants.find((v) => v.variant === 'raw-chain');
    const rawChainLock = s.variants.find((v) => v.variant === 'raw-chain-lock');
    lines.push(
      mdTable(
        [
          'concurrency',
          'worker',
          'µs/job (wall)',
          'wall range',
          'jobs/s',
          'vs raw (wall)',
          'overhead µs/job',
          'node CPU µs/job',
          'CPU range',
          'vs raw (CPU)',
          'vs raw-chain (CPU)',
          'vs raw-chain-lock (CPU)',
          'Redis CPU µs/job',
          'Redis commands/job',
          'log bytes/job',
        ],
        s.variants.map((v) => [
          s.concurrency,
          v.variant,
          fmt(v.usPerJob, 1),
          `${fmt(v.usPerJobMin, 0)}-${fmt(v.usPerJobMax, 0)}`,
          fmt(v.jobsPerS, 0),
          `${fmt(v.usPerJob / raw.usPerJob)}x`,
          fmt(v.usPerJob - raw.usPerJob, 1),
          fmt(v.nodeCpuUsPerJob, 1),
          `${fmt(v.nodeCpuUsPerJobMin, 0)}-${fmt(v.nodeCpuUsPerJobMax, 0)}`,
          `${fmt(v.nodeCpuUsPerJob / raw.nodeCpuUsPerJob)}x`,
          rawChain ? `${fmt(v.nodeCpuUsPerJob / rawChain.nodeCpuUsPerJob)}x` : '-',
          rawChainLock ? `${fmt(v.nodeCpuUsPerJob / rawChainLock.nodeCpuUsPerJob)}x` : '-',
          fmt(v.redisCpuUsPerJob, 1),
          fmt(v.commandsPerJob, 1),
          v.logBytesPerJob ? fmt(v.logBytesPerJob, 0) : '-',
        ]),
      ),
      '',
    );
  }
  const parts = w.summary
    .map((s) => {
      const cpu = (name) => s.variants.find((v) => v.variant === name)?.nodeCpuUsPerJob;
      const [raw, chain, lock, silent, fleet] = ['raw', 'raw-chain', 'raw-chain-lock', 'fleet-silent', 'fleet'].map(cpu);
      if ([raw, chain, lock, silent, fleet].some((x) => x === undefined)) return undefined;
      return (
        `at concurrency ${s.concurrency}, of the fleet's ${fmt(fleet, 0)} µs: bare BullMQ ${fmt(raw, 0)}, the chain's add ${fmt(chain - raw, 0)}, ` +
        `the stage lock ${fmt(lock - chain, 0)}, the rest of the wrapper (payload check, provider calls, metrics, RPO record, error classification) ${fmt(silent - lock, 0)}, the log lines ${fmt(fleet - silent, 0)}`
      );
    })
    .filter(Boolean);
  if (parts.length)
    lines.push(
      `Node CPU per job, by what each variant adds to the one before it (medians; the noise of a few µs to tens of µs shows in the ranges): ${parts.join('; ')}.`,
      '',
    );
  lines.push(
    "Wall times move with the machine's load (ranges: min-max over the rounds; the bench process, Redis and anything else share the cores); " +
      'the CPU per job varies much less and is the steadier comparison.',
    '',
    'Every run is checked: all jobs completed (none failed) and kept in Redis, no stage lock left behind, and for the fleet rows the fleet ' +
      'metrics hash counts every job. Every key lived under one unique prefix, deleted afterwards.',
  );
  return lines.join('\n');
}
