// Fleet scenario, part 2: snapfleet's worker against a bare BullMQ worker on no-op jobs
// (what the wrapper around every processor costs: lock, metrics, logs), and against a bare worker
// that adds the next job of the chain as the fleet's snapshot job does. See scenario-fleet.mjs.
import { setTimeout, clearTimeout } from 'node:timers';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import console from 'node:console';
import { fmt, median } from './format.mjs';
import {
  MemoryVolumeProvider,
  deleteKeys,
  fileLogger,
  producerConnection,
  redisCommands,
  redisCpuSeconds,
  scanKeys,
  workerConnection,
} from './fleet-support.mjs';

import { ADD_BATCH, DRAIN_TIMEOUT_MS, POLICY, SLOT_TIME, VARIANTS, benchConfig, perSec } from './fleet-bench-shared.mjs';

async function runWorkerVariant(pkgs, ctx, { redis, connection, base, variant, round, concurrency, logDir }) {
  const { Queue, Worker } = pkgs.bullmq;
  const { workJobOptions } = pkgs.planner;
  const { volumeJobId, slotFromTime, silentLogger, fleetMetricsKey, stageLockKey } = pkgs.jobs;
  const n = ctx.cfg.fleet.jobs;
  const config = benchConfig(pkgs, concurrency);
  const prefix = `${base}.c${concurrency}-r${round}-${variant}`;
  const slot = slotFromTime(new Date(SLOT_TIME));
  const opts = workJobOptions(config);
  const queue = new Queue('snapshot', { connection: producerConnection(connection), prefix });
  let closeWorker = async () => {};
  let closeLog = () => {};
  const logPath = join(logDir, `worker-c${concurrency}-r${round}.log`);
  try {
    await queue.pause();
    const jobs = Array.from({ length: n }, (_, i) => {
      const volumeId = `vol-${String(i).padStart(6, '0')}`;
      return {
        name: 'snapshot',
        data: { v: 1, policy: POLICY, volumeId, slot, repository: 'bench' },
        opts: { ...opts, jobId: volumeJobId('snapshot', POLICY, volumeId, slot) },
      };
    });
    let t = performance.now();
    for (let i = 0; i < n; i += ADD_BATCH) await queue.addBulk(jobs.slice(i, i + ADD_BATCH));
    const addMs = performance.now() - t;

    const w = config.fleet.worker;
    let bullWorker;
    let fleetRedis;
    let fleetMetricsSink;
    if (variant.startsWith('raw')) {
      // Bare BullMQ workers. raw: a no-op. raw-chain: the one piece of queue work every fleet
      // snapshot job does, adding the volume's archive job (same payload shape, id and options as
      // job-chain.ts). raw-chain-lock: that add inside the fleet's own per-(volume, stage) lock
      // (stage-lock.ts, its TTL from the config), taken and released as job-gate.ts does, on a
      // client of its own.
      const next = variant === 'raw' ? undefined : new Queue('archive', { connection: producerConnection(connection), prefix });
      const addNext = ({ policy, volumeId, slot: s, repository }) =>
        next.add(
          'archive',
          { v: 1, policy, volumeId, slot: s, repository, snapshotRef: `snap-${volumeId}` },
          { ...opts, jobId: volumeJobId('archive', policy, volumeId, s) },
        );
      const lockRedis = variant === 'raw-chain-lock' ? new pkgs.Redis(workerConnection(connection)) : undefined;
      const locks = lockRedis && pkgs.worker.createLockService(lockRedis);
      const processors = {
        raw: async () => {},
        'raw-chain': async (job) => {
          await addNext(job.data);
        },
        'raw-chain-lock': async (job) => {
          const lock = await locks.tryAcquire(stageLockKey(prefix, 'snapshot', job.data.volumeId), config.fleet.locks.ttl);
          if (!lock) throw new Error(`the lock of ${job.data.volumeId} is held elsewhere`);
          try {
            await addNext(job.data);
          } finally {
            await lock.release();
          }
        },
      };
      const processor = processors[variant];
      bullWorker = new Worker('snapshot', processor, {
        connection: workerConnection(connection),
        prefix,
        concurrency,
        lockDuration: w.lockDuration,
        stalledInterval: w.stalledInterval,
        maxStalledCount: w.maxStalledCount,
      });
      closeWorker = async () => {
        await bullWorker.close();
        await next?.close();
        await lockRedis?.quit();
      };
    } else {
      let log = silentLogger;
      if (variant === 'fleet') {
        const l = await fileLogger(pkgs.pino, logPath, { role: 'worker', prefix });
        log = l.log;
        closeLog = l.close;
      }
      fleetRedis = new pkgs.Redis(workerConnection(connection));
      const provider = new MemoryVolumeProvider(1, { selectorMatches: pkgs.config.selectorMatches, PermanentError: pkgs.shared.PermanentError });
      const repositories = {
        open: async (name) => {
          throw new pkgs.shared.PermanentError(`the fleet bench opens no repository (${name})`);
        },
        close: async () => {},
      };
      const metrics = pkgs.worker.createFleetMetrics(fleetRedis, prefix);
      fleetMetricsSink = metrics;
      const fleet = pkgs.worker.createFleetWorker({
        connection: workerConnection(connection),
        redis: fleetRedis,
        prefix,
        config,
        provider,
        repositories,
        clock: { now: () => new Date() },
        log,
        metrics,
        queues: ['snapshot'],
      });
      bullWorker = fleet.workers[0];
      closeWorker = async () => {
        await fleet.close();
        await fleetRedis.quit();
      };
    }
    if (bullWorker.concurrency !== concurrency) throw new Error(`${variant}: worker concurrency ${bullWorker.concurrency}, expected ${concurrency}`);

    await bullWorker.waitUntilReady();
    let completed = 0;
    let failed = 0;
    let firstError;
    const done = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${variant}: only ${completed} completed and ${failed} failed of ${n} after ${DRAIN_TIMEOUT_MS / 1000} s`)),
        DRAIN_TIMEOUT_MS,
      );
      const check = () => {
        if (completed + failed === n) {
          clearTimeout(timer);
          resolve();
        }
      };
      bullWorker.on('completed', () => {
        completed++;
        check();
      });
      bullWorker.on('failed', (_job, err) => {
        failed++;
        firstError ??= err?.message;
        check();
      });
    });
    done.catch(() => {}); // awaited below; this only keeps an early exit from leaving it unhandled
    const redisCpu0 = await redisCpuSeconds(redis);
    const commands0 = await redisCommands(redis);
    const cpu0 = process.cpuUsage();
    t = performance.now();
    await queue.resume();
    await done;
    const wallMs = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    const commands = (await redisCommands(redis)) - commands0;
    const redisCpuS = (await redisCpuSeconds(redis)) - redisCpu0;

    let fleetMetrics;
    if (fleetRedis) {
      await fleetMetricsSink.flush(); // the counters are sent once a second: send the rest now
      fleetMetrics = await fleetRedis.hgetall(fleetMetricsKey(prefix));
    }
    await closeWorker();
    closeWorker = async () => {};
    closeLog();
    closeLog = () => {};
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    const locksLeft = (await scanKeys(redis, `${prefix}:fleet:lock:*`)).length;
    const logBytes = variant === 'fleet' ? (await stat(logPath)).size : 0;

    const problems = [];
    if (failed) problems.push(`${failed} jobs failed (first: ${firstError})`);
    if (counts.completed !== n) problems.push(`${counts.completed} completed jobs in Redis, expected ${n}`);
    if (locksLeft) problems.push(`${locksLeft} stage locks left behind`);
    if (fleetMetrics && Number(fleetMetrics['jobs_completed.snapshot']) !== n)
      problems.push(`fleet metrics count ${fleetMetrics['jobs_completed.snapshot']} completed, expected ${n}`);
    return {
      variant,
      round,
      concurrency,
      n,
      addMs,
      wallMs,
      usPerJob: (wallMs * 1000) / n,
      jobsPerS: perSec(n, wallMs),
      nodeCpuUsPerJob: (cpu.user + cpu.system) / n,
      redisCpuUsPerJob: (redisCpuS * 1e6) / n,
      commandsPerJob: commands / n,
      logBytesPerJob: logBytes / n,
      problems,
    };
  } finally {
    await closeWorker().catch(() => {});
    closeLog();
    await queue.close();
    await deleteKeys(redis, `${prefix}:*`);
  }
}

export async function measureWorkers(pkgs, ctx, env) {
  const { rounds, concurrency: concurrencies } = ctx.cfg.fleet;
  const runs = [];
  for (const concurrency of concurrencies) {
    for (let round = 0; round < rounds; round++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
      for (const variant of order) {
        const r = await runWorkerVariant(pkgs, ctx, { ...env, variant, round, concurrency });
        console.log(
          `  [fleet] concurrency ${concurrency} round ${round + 1}/${rounds} ${variant}: ${fmt(r.usPerJob, 1)} µs/job wall (${fmt(r.jobsPerS, 0)} jobs/s), ` +
            `node CPU ${fmt(r.nodeCpuUsPerJob, 1)} µs/job, redis CPU ${fmt(r.redisCpuUsPerJob, 1)} µs/job, ${fmt(r.commandsPerJob, 1)} commands/job; addBulk ${fmt(perSec(r.n, r.addMs), 0)} jobs/s` +
            (r.problems.length ? `; PROBLEMS: ${r.problems.join('; ')}` : ''),
        );
        runs.push(r);
      }
    }
  }
  const summary = concurrencies.map((concurrency) => {
    const all = (variant, key) => runs.filter((r) => r.concurrency === concurrency && r.variant === variant).map((r) => r[key]);
    const of = (variant, key) => median(all(variant, key));
    const row = (variant) => ({
      variant,
      usPerJob: of(variant, 'usPerJob'),
      usPerJobMin: Math.min(...all(variant, 'usPerJob')),
      usPerJobMax: Math.max(...all(variant, 'usPerJob')),
      nodeCpuUsPerJobMin: Math.min(...all(variant, 'nodeCpuUsPerJob')),
      nodeCpuUsPerJobMax: Math.max(...all(variant, 'nodeCpuUsPerJob')),
      jobsPerS: of(variant, 'jobsPerS'),
      nodeCpuUsPerJob: of(variant, 'nodeCpuUsPerJob'),
      redisCpuUsPerJob: of(variant, 'redisCpuUsPerJob'),
      commandsPerJob: of(variant, 'commandsPerJob'),
      logBytesPerJob: of(variant, 'logBytesPerJob'),
    });
    return { concurrency, variants: VARIANTS.map(row) };
  });
  const addBulkJobsPerS = median(runs.map((r) => perSec(r.n, r.addMs)));
  return {
    runs,
    summary,
    addBulkJobsPerS,
    failures: runs.flatMap((r) => r.problems.map((p) => `worker ${r.variant} (concurrency ${r.concurrency}, round ${r.round + 1}): ${p}`)),
  };
}
