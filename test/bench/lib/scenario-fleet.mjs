// Scenario "fleet": the queue side of the fleet against Redis (REDIS_URL, default
// redis://127.0.0.1:6379), no repository and no volume data. Two measurements in one run:
//
// 1. Planner enqueue. A synthetic in-memory VolumeProvider with SNAPFLEET_BENCH_FLEET_VOLUMES
//    (default 10,000) volumes is handed to the real planner (createPlanner from
//    @snapfleet/planner, processTicks and manageSchedulers off, as `backup-now` does), and one
//    policy covering every volume is enqueued with `planner.enqueuePolicy(policy, slot)`: the
//    function the planner's tick processor calls for a policy tick once it has the slot
//    (discover -> each volume's snapshot job, the head of its chain -> Queue.addBulk, 1000 per call).
//    Measured: wall time of that call, jobs actually in Redis afterwards (job counts
//    per queue and state, and a SCAN of the slot's job hashes), INFO used_memory before/after and
//    the summed MEMORY USAGE of the prefix's keys, per job. Then the same tick again (same slot):
//    it must add no job (deterministic ids). For comparison, in the same run: the same jobs
//    through a bare BullMQ Queue.addBulk (1000 per call) on another prefix.
//
// 2. Worker overhead per no-op job. snapfleet's worker (createFleetWorker) has no way to plug
//    in a processor: its processors are built inside from ports. The closest real path is the
//    snapshot queue with the in-memory provider, whose createSnapshot/snapshotState return at
//    once: payload parsing (zod), the per-(volume, stage) Redis lock (SET NX PX, renew timer,
//    compare-and-delete release), error classification, prom-client + Redis HINCRBY metrics and
//    two pino log lines per job. SNAPFLEET_BENCH_FLEET_JOBS (default 20,000) such jobs (the same
//    payloads, ids and job options the planner uses) are added to a paused queue; then a worker
//    is started, the queue resumed and the time to the last `completed` event taken. Variants,
//    on identical fresh queues, same concurrency and lock/stall settings:
//      raw           bare BullMQ Worker, `async () => {}`
//      fleet         createFleetWorker, queues: [snapshot], logs as the CLI writes them (to a file)
//      fleet-silent  the same with a silent logger: what the logging costs
//    SNAPFLEET_BENCH_FLEET_ROUNDS rounds (order rotated); tables show medians. Concurrency per
//    worker: SNAPFLEET_BENCH_FLEET_CONCURRENCY (comma list; default 4 = the fleet's snapshot
//    default).
//
// Every key lives under one random prefix, deleted (SCAN + UNLINK) afterwards; never FLUSHDB.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import console from 'node:console';
import { fmt } from './format.mjs';
import {
  MemoryVolumeProvider,
  deleteKeys,
  fileLogger,
  keysMemory,
  loadFleetPackages,
  producerConnection,
  redisCommands,
  redisCpuSeconds,
  redisOptionsFromUrl,
  scanKeys,
  usedMemory,
} from './fleet-support.mjs';

import { JOBS_PER_BATCH, POLICY, SLOT_TIME, STATES, WARM_FLOWS, WARM_SLOT_TIME, WORK_QUEUES, benchConfig, perSec, sec } from './fleet-bench-shared.mjs';
import { measureWorkers } from './fleet-worker-overhead.mjs';
import { fleetMarkdown } from './fleet-report.mjs';
import { snapfleetScenario } from './scenario-result.mjs';

async function jobCounts(pkgs, connection, prefix) {
  const out = {};
  for (const name of WORK_QUEUES) {
    const q = new pkgs.bullmq.Queue(name, { connection, prefix });
    try {
      const c = await q.getJobCounts(...STATES);
      out[name] = { ...c, total: STATES.reduce((a, s) => a + (c[s] ?? 0), 0) };
    } finally {
      await q.close();
    }
  }
  out.total = WORK_QUEUES.reduce((a, q) => a + out[q].total, 0);
  return out;
}

/** What a prefix's key is for: the memory breakdown per job. */
function keyGroup(prefix) {
  return (key) => {
    const rest = key.slice(prefix.length + 1); // <queue>:...
    const tail = rest.slice(rest.indexOf(':') + 1);
    if (tail === 'events') return 'events streams';
    if (tail.endsWith(':dependencies')) return 'parent dependency sets';
    if (/^(snapshot|archive|retention)-[^:]*$/.test(tail)) return 'job hashes';
    return 'queue structures (wait, waiting-children, meta, ...)';
  };
}

const memorySnapshot = async (redis, prefix) => ({ used: await usedMemory(redis), keys: await keysMemory(redis, `${prefix}:*`, keyGroup(prefix)) });

function groupDeltas(before, after, perJobs) {
  const names = new Set([...Object.keys(before.keys.groups), ...Object.keys(after.keys.groups)]);
  return Object.fromEntries(
    [...names].map((g) => {
      const b = before.keys.groups[g] ?? { keys: 0, bytes: 0 };
      const a = after.keys.groups[g] ?? { keys: 0, bytes: 0 };
      return [g, { keys: a.keys - b.keys, bytes: a.bytes - b.bytes, bytesPerJob: (a.bytes - b.bytes) / perJobs }];
    }),
  );
}

async function measureEnqueue(pkgs, ctx, { redis, connection, base, log }) {
  const { cfg } = ctx;
  const { createPlanner, workJobOptions } = pkgs.planner;
  const { slotFromTime, volumeJobId } = pkgs.jobs;
  const config = benchConfig(pkgs, 4);
  const provider = new MemoryVolumeProvider(cfg.fleet.volumes, { selectorMatches: pkgs.config.selectorMatches, PermanentError: pkgs.shared.PermanentError });
  const slot = slotFromTime(new Date(SLOT_TIME));
  const warmSlot = slotFromTime(new Date(WARM_SLOT_TIME));
  const prefix = `${base}.p`;
  const clock = { now: () => new Date() };

  let t = performance.now();
  const discovered = await provider.discover(config.policies[0].selector);
  const discoverMs = performance.now() - t;
  if (discovered.length !== cfg.fleet.volumes) throw new Error(`discovery found ${discovered.length} volumes, expected ${cfg.fleet.volumes}`);

  const planner = createPlanner({ connection, prefix, config, provider, clock, log, processTicks: false, manageSchedulers: false });
  try {
    await planner.start();
    // Warm-up: connection, Lua scripts, JIT; one batch of volumes on another slot.
    const warmIds = provider.volumes.slice(0, WARM_FLOWS).map((v) => v.id);
    await planner.enqueuePolicy(POLICY, warmSlot, warmIds);
    const countsBefore = await jobCounts(pkgs, connection, prefix);
    const memBefore = await memorySnapshot(redis, prefix);
    const redisCpu0 = await redisCpuSeconds(redis);
    const commands0 = await redisCommands(redis);
    const cpu0 = process.cpuUsage();
    t = performance.now();
    const enqueued = await planner.enqueuePolicy(POLICY, slot);
    const enqueueMs = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    const commands = (await redisCommands(redis)) - commands0;
    const redisCpuS = (await redisCpuSeconds(redis)) - redisCpu0;
    const memAfter = await memorySnapshot(redis, prefix);
    const countsAfter = await jobCounts(pkgs, connection, prefix);
    const slotJobHashes = (await scanKeys(redis, `${prefix}:*-${slot}`)).length;
    const jobsAdded = countsAfter.total - countsBefore.total;

    // The same tick again: every id exists, nothing may be added.
    const repeatCommands0 = await redisCommands(redis);
    t = performance.now();
    const again = await planner.enqueuePolicy(POLICY, slot);
    const repeatMs = performance.now() - t;
    const repeatCommands = (await redisCommands(redis)) - repeatCommands0;
    const memRepeat = await memorySnapshot(redis, prefix);
    const countsRepeat = await jobCounts(pkgs, connection, prefix);

    // Baseline: the same snapshot jobs through a bare Queue.addBulk on another prefix.
    const rawPrefix = `${base}.f`;
    const bare = new pkgs.bullmq.Queue('snapshot', { connection: producerConnection(connection), prefix: rawPrefix });
    let rawMs;
    let rawCounts;
    try {
      const opts = workJobOptions(config);
      const job = (volumeId, s) => ({
        name: 'snapshot',
        data: { v: 1, policy: POLICY, volumeId, slot: s, repository: 'bench' },
        opts: { ...opts, jobId: volumeJobId('snapshot', POLICY, volumeId, s) },
      });
      await bare.addBulk(warmIds.map((id) => job(id, warmSlot)));
      t = performance.now();
      for (let i = 0; i < discovered.length; i += JOBS_PER_BATCH) {
        await bare.addBulk(discovered.slice(i, i + JOBS_PER_BATCH).map((v) => job(v.id, slot)));
      }
      rawMs = performance.now() - t;
      rawCounts = await jobCounts(pkgs, connection, rawPrefix);
    } finally {
      await bare.close();
    }

    // A tick adds each volume's snapshot job; workers add the rest of its chain.
    const expectedJobs = cfg.fleet.volumes;
    const failures = [];
    if (enqueued.length !== cfg.fleet.volumes) failures.push(`enqueuePolicy returned ${enqueued.length} volumes, expected ${cfg.fleet.volumes}`);
    if (jobsAdded !== expectedJobs) failures.push(`${jobsAdded} jobs added to Redis, expected ${expectedJobs}`);
    if (slotJobHashes !== expectedJobs) failures.push(`${slotJobHashes} job hashes of slot ${slot} in Redis, expected ${expectedJobs}`);
    const waitingAdded = countsAfter.snapshot.waiting - countsBefore.snapshot.waiting;
    if (waitingAdded !== cfg.fleet.volumes) failures.push(`snapshot: ${waitingAdded} waiting jobs added, expected ${cfg.fleet.volumes}`);
    if (countsRepeat.total !== countsAfter.total) failures.push(`the repeated tick changed the job count: ${countsAfter.total} -> ${countsRepeat.total}`);
    if (rawCounts.total !== expectedJobs + warmIds.length)
      failures.push(`bare Queue.addBulk baseline: ${rawCounts.total} jobs, expected ${expectedJobs + warmIds.length}`);

    return {
      failures,
      data: {
        volumes: cfg.fleet.volumes,
        slot,
        prefix,
        discoverMs,
        enqueueMs,
        flows: enqueued.length,
        jobsAdded,
        slotJobHashes,
        countsAdded: Object.fromEntries(
          WORK_QUEUES.map((q) => [q, Object.fromEntries(STATES.map((s) => [s, countsAfter[q][s] - countsBefore[q][s]]).filter(([, n]) => n))]),
        ),
        flowsPerS: perSec(enqueued.length, enqueueMs),
        jobsPerS: perSec(jobsAdded, enqueueMs),
        nodeCpuS: (cpu.user + cpu.system) / 1e6,
        redisCpuS,
        usedMemoryBefore: memBefore.used,
        usedMemoryAfter: memAfter.used,
        usedMemoryPerJob: (memAfter.used - memBefore.used) / jobsAdded,
        keysAdded: memAfter.keys.keys - memBefore.keys.keys,
        keyMemoryPerJob: (memAfter.keys.bytes - memBefore.keys.bytes) / jobsAdded,
        keyMemoryGroups: groupDeltas(memBefore, memAfter, jobsAdded),
        redisCommands: commands,
        repeat: {
          ms: repeatMs,
          returned: again.length,
          jobsAdded: countsRepeat.total - countsAfter.total,
          usedMemoryDelta: memRepeat.used - memAfter.used,
          keyMemoryDelta: memRepeat.keys.bytes - memAfter.keys.bytes,
          keyMemoryGroups: groupDeltas(memAfter, memRepeat, 1),
          redisCommands: repeatCommands,
        },
        warmFlows: warmIds.length,
        bareAddBulk: { ms: rawMs, jobs: rawCounts.total - warmIds.length, jobsPerS: perSec(rawCounts.total - warmIds.length, rawMs) },
      },
    };
  } finally {
    await planner.close();
    await deleteKeys(redis, `${prefix}:*`);
    await deleteKeys(redis, `${base}.f:*`);
  }
}

/** One worker variant on a fresh queue of `n` snapshot jobs: time from resume to the last completion. */
async function runScenario(ctx) {
  const { cfg } = ctx;
  const f = cfg.fleet;
  console.log(`fleet: ${f.volumes} volumes to enqueue; ${f.jobs} no-op jobs per worker run, concurrency ${f.concurrency.join(',')}, ${f.rounds} rounds`);
  const pkgs = await loadFleetPackages();
  const connection = redisOptionsFromUrl(cfg.fleet.redisUrl);
  // Enqueue prefixes `${base}.p` and `${base}.f` are as long as the default "snapfleet": a child
  // job's hash holds its parent's prefixed key three times, so memory per job grows with it.
  const base = `sf${randomBytes(4).readUInt32BE().toString(36).slice(0, 5).padStart(5, '0')}`;
  const logDir = join(cfg.runDir, 'fleet');
  await rm(logDir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  const redis = new pkgs.Redis({ ...connection, maxRetriesPerRequest: 1 });
  const plannerLog = await fileLogger(pkgs.pino, join(logDir, 'planner.log'), { role: 'planner', prefix: `${base}.p` });
  try {
    await redis.ping();
    if ((await scanKeys(redis, `${base}.*`)).length) throw new Error(`keys under the random prefix ${base} exist already; run again`);
    const version = /^redis_version:(.*)$/m.exec(await redis.info('server'))?.[1]?.trim();
    console.log(`fleet: Redis ${version} at ${cfg.fleet.redisUrl.replace(/\/\/[^@/]*@/, '//***@')}, key prefix ${base}`);
    const enqueue = await measureEnqueue(pkgs, ctx, { redis, connection, base, log: plannerLog.log });
    const e = enqueue.data;
    console.log(
      `  [fleet] enqueue: ${e.flows} volumes = ${e.jobsAdded} jobs in ${fmt(sec(e.enqueueMs))} s: ${fmt(e.flowsPerS, 0)} volumes/s, ${fmt(e.jobsPerS, 0)} jobs/s; ` +
        `${fmt(e.usedMemoryPerJob, 0)} B used_memory/job (${fmt(e.keyMemoryPerJob, 0)} B in keys); repeat added ${e.repeat.jobsAdded} jobs in ${fmt(sec(e.repeat.ms))} s; ` +
        `bare Queue.addBulk ${fmt(e.bareAddBulk.jobsPerS, 0)} jobs/s`,
    );
    const workers = await measureWorkers(pkgs, ctx, { redis, connection, base, logDir });
    return { data: { redisVersion: version, prefix: base, enqueue: e, workers }, failures: [...enqueue.failures, ...workers.failures] };
  } finally {
    plannerLog.close();
    const left = await deleteKeys(redis, `${base}.*`).catch(() => -1);
    if (left) console.log(`  [fleet] cleanup: deleted ${left} leftover keys under ${base}`);
    redis.disconnect();
  }
}

export const fleetScenario = snapfleetScenario({
  id: 'fleet',
  title: 'Fleet: planner enqueue and worker overhead (queue side, Redis)',
  measure: runScenario,
  markdown: fleetMarkdown,
});
