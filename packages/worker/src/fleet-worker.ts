/**
 * The worker process's queue side: one BullMQ Worker per queue (snapshot, archive, retention,
 * verify), each processor wrapped in the per-(volume, stage) lock and the error classification,
 * metrics and logs on every outcome, a reload that new jobs see (policies, limits, concurrency),
 * and a graceful close: stop taking jobs, give active ones a deadline, then hand the rest back
 * (their locks lapse and another worker takes them over as stalled jobs) and close connections.
 */
import { Queue, Worker, type WorkerOptions } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { asRedisConnector, type RedisConnector } from '@snapfleet/providers/redis';
import type { VolumeProvider } from '@snapfleet/shared';
import type { FleetConfig } from '@snapfleet/shared/config';
import { QUEUE, WORK_QUEUES, queueStreams, routedRegions, stageQueue, workQueueNames, type WorkQueue } from '@snapfleet/shared/jobs';
import { createArchiveHistory, createComplianceRecorder, createRedisRateLimiter } from '@snapfleet/providers/fleet';
import { recordCompliance } from './compliance-events.js';
import { errorKindOf, toQueueError } from './job-errors.js';
import { createLockService } from './stage-lock.js';
import { createSlotService } from './policy-slots.js';
import { createPolicyRateLimits, type RateLimiterFactory } from './policy-rate-limits.js';
import { gated } from './job-gate.js';
import type { Processor } from './processors/processor-deps.js';
import { createSnapshotProcessor } from './processors/snapshot-processor.js';
import { createArchiveProcessor } from './processors/archive-processor.js';
import { createRetentionProcessor, type RetentionDeps } from './processors/retention-processor.js';
import { createVerifyProcessor } from './processors/verify-processor.js';
import { createAlertProcessor } from './processors/alert-processor.js';
import { createDrillProcessor } from './processors/drill-processor.js';
import { createOrphanSweepProcessor } from './processors/orphan-sweep.js';
import { createJobChain } from './job-chain.js';
import { createOrphanRetentionProcessor } from './processors/orphan-retention.js';
import { createAlertOutbox } from './alerts/alert-outbox.js';
import { jobFailedAlert } from './alerts/job-failed-alert.js';

/**
 * Jobs per worker process and queue. Snapshots are API calls (cheap, mostly waiting); an archive
 * uses the whole codec pool, so one at a time per process keeps threads busy without thrashing.
 */
const DEFAULT_CONCURRENCY: Record<WorkQueue, number> = { snapshot: 4, archive: 1, retention: 2, verify: 1 };
/** Alert jobs at once per process: HTTP posts and a few Redis reads, mostly waiting. */
const ALERT_CONCURRENCY = 4;

/** The processors' ports (locks and rate limits are made here, over `redis`) and the worker's own settings. */
export interface FleetWorkerOptions extends Omit<RetentionDeps, 'locks' | 'archiveJobState' | 'alerts'> {
  /** The fleet's Redis (a connector, or plain options of one server); queues and workers get its worker role (maxRetriesPerRequest: null). */
  connection: RedisConnector | RedisOptions;
  /** Client for locks and fleet metrics. */
  redis: Redis;
  prefix: string;
  /** Archive jobs at once in this process (overrides the config). */
  archiveConcurrency?: number;
  queues?: readonly WorkQueue[];
  /**
   * With `fleet.routing.byRegion`: the regions whose volume jobs this process takes, besides the
   * stages' own queues. @defaultValue `fleet.worker.regions`, else every region of the provider
   */
  regions?: readonly string[];
  /** Policy rate budgets. @defaultValue rate-limiter-flexible over `redis`, under `prefix` */
  rateLimiter?: RateLimiterFactory;
  /** Where alert targets' `urlEnv` are looked up. @defaultValue {} */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface FleetWorker {
  readonly workers: readonly Worker[];
  /**
   * Applies a reloaded configuration (and the provider built for it) to every job that starts
   * from now on: policies, per-queue concurrency, policy concurrency and rate limits, lock TTL.
   * Running jobs finish with what they started with. Returns the changed settings that only a
   * restart applies (BullMQ reads them when a Worker is created).
   */
  reload(config: FleetConfig, provider: VolumeProvider): string[];
  /** Stops taking jobs; active jobs get `deadlineMs`, then are handed back. */
  close(deadlineMs?: number): Promise<void>;
}

/** Settings a BullMQ Worker takes once, at creation; a change of one needs a restart. */
export function workerSettingsNeedingRestart(prev: FleetConfig, next: FleetConfig): string[] {
  const out: string[] = [];
  for (const k of ['lockDuration', 'stalledInterval', 'maxStalledCount', 'codecThreads'] as const) {
    if (prev.fleet.worker[k] !== next.fleet.worker[k]) out.push(`fleet.worker.${k}`);
  }
  for (const q of WORK_QUEUES) {
    if (JSON.stringify(prev.fleet.queues[q]?.rateLimit) !== JSON.stringify(next.fleet.queues[q]?.rateLimit)) out.push(`fleet.queues.${q}.rateLimit`);
  }
  return out;
}

/** Jobs of one queue by name: the verify queue also runs restore drills (`drill`), the retention queue the orphans rule. */
function routeByName(fallback: Processor, byName: Record<string, Processor>): Processor {
  return (job, token) => (Object.hasOwn(byName, job.name) ? byName[job.name]! : fallback)(job, token);
}

/**
 * A job routed by region names its volume's region (payloads.ts): the provider is told, so it
 * asks that region first and a worker pinned to a region makes its calls there.
 */
function notingRegion(processor: Processor, provider: () => VolumeProvider): Processor {
  return (job, token) => {
    const { region, volumeId } = (job.data ?? {}) as { region?: unknown; volumeId?: unknown };
    if (typeof region === 'string' && typeof volumeId === 'string') provider().noteRegion?.(volumeId, region);
    return processor(job, token);
  };
}

function classified(processor: Processor): Processor {
  return async (job, token) => {
    try {
      return await processor(job, token);
    } catch (err) {
      throw toQueueError(err);
    }
  };
}

export function createFleetWorker(options: FleetWorkerOptions): FleetWorker {
  const { prefix, clock, metrics } = options;
  const connection = asRedisConnector(options.connection).bullmq('worker');
  const log = options.log.child({ component: 'worker' });
  // What a reload replaces; jobs read it when they start.
  let current = { config: options.config, provider: options.provider };
  const locks = createLockService(options.redis, (key, err) => log.warn({ key, err: err.message }, 'lock renewal failed'));
  const slots = createSlotService(options.redis, (key, err) => log.warn({ key, err: err.message }, 'slot renewal failed'));
  const rates = createPolicyRateLimits(options.rateLimiter ?? ((spec) => createRedisRateLimiter(options.redis, { name: 'policy-archives', prefix, ...spec })));
  // Queues this process adds to or reads, by name, made on first use: the chain's next stages
  // (a region's when routed), the retention queue orphan jobs go to, archive queues retention reads.
  const queues = new Map<string, Queue>();
  // Fixed at start, as every queue's events cap must agree (shared/jobs/job-options.ts).
  const streams = queueStreams(options.config);
  const queueOf = (name: string): Queue => {
    let q = queues.get(name);
    if (!q) {
      queues.set(name, (q = new Queue(name, { connection, prefix, streams })));
      q.on('error', (err) => log.warn({ queue: name, err: err.message }, 'queue connection error'));
    }
    return q;
  };
  // Retention asks whether other slots' archives are done. A routed volume's earlier archives may
  // predate the routing, in the stage's own queue.
  const archiveJobState = async (jobId: string, region?: string): Promise<string> => {
    const state = region ? await queueOf(stageQueue('archive', region)).getJobState(jobId) : 'unknown';
    return state === 'unknown' ? queueOf(QUEUE.archive).getJobState(jobId) : state;
  };
  // Alerts go through their own queue: deliveries retry with backoff, apart from the work.
  const alertQueue = new Queue(QUEUE.alert, { connection, prefix, streams });
  alertQueue.on('error', (err) => log.warn({ err: err.message }, 'alert queue connection error'));
  const outbox = createAlertOutbox({ queue: alertQueue, redis: options.redis, prefix, config: () => current.config });
  const recorder = createComplianceRecorder(options.redis, prefix);
  const history = createArchiveHistory(options.redis, prefix);
  const compliance = recordCompliance(recorder, clock, (err) => log.warn({ err: err.message }, 'could not record RPO compliance'), {
    store: history,
    keepMs: () => current.config.fleet.jobs.keepHistory,
  });
  // The search for orphans gives each orphan a job of its own on the retention queue.
  const retentionQueue = queueOf(QUEUE.retention);
  // Each volume job adds the volume's next one (job-chain.ts).
  const chain = createJobChain(queueOf, () => current.config);
  const deps: RetentionDeps = {
    get config() {
      return current.config;
    },
    get provider() {
      return current.provider;
    },
    repositories: options.repositories,
    clock,
    log,
    metrics,
    locks,
    redis: options.redis,
    prefix,
    archiveJobState,
    alerts: outbox,
    chain,
    ...(options.hostname ? { hostname: options.hostname } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  };
  // What the processors that write compliance records (orphan expiry, drills) are built over.
  const recordingDeps = {
    get config() {
      return current.config;
    },
    get provider() {
      return current.provider;
    },
    repositories: options.repositories,
    clock,
    log,
    redis: options.redis,
    prefix,
    recorder,
    alerts: outbox,
  };
  const processors: Record<WorkQueue, Processor> = {
    snapshot: createSnapshotProcessor(deps),
    archive: createArchiveProcessor(deps),
    retention: routeByName(createRetentionProcessor(deps), {
      'orphan-sweep': createOrphanSweepProcessor({
        get config() {
          return current.config;
        },
        clock,
        log,
        redis: options.redis,
        prefix,
        retentionQueue,
      }),
      'orphan-retention': createOrphanRetentionProcessor(recordingDeps),
    }),
    verify: routeByName(createVerifyProcessor(deps), {
      drill: createDrillProcessor(recordingDeps),
    }),
  };
  const gate = {
    locks,
    slots,
    rates,
    policy: (name: string) => current.config.policies.find((p) => p.name === name),
    ttlMs: () => current.config.fleet.locks.ttl,
    prefix,
    clock,
    log,
  };
  const concurrencyOf = (queue: WorkQueue, config: FleetConfig) =>
    (queue === 'archive' ? options.archiveConcurrency : undefined) ?? config.fleet.queues[queue]?.concurrency ?? DEFAULT_CONCURRENCY[queue];
  const w = options.config.fleet.worker;
  const stages = options.queues ?? WORK_QUEUES;
  const regions = options.regions ?? w.regions ?? routedRegions(options.config);
  const consumed = workQueueNames(options.config, routedRegions(options.config).length ? regions : []).filter((q) => stages.includes(q.queue));
  const stageOf = new Map(consumed.map((q) => [q.name, q.queue]));
  const workers = consumed.map(({ name, queue }) => {
    const limits = options.config.fleet.queues[queue];
    const opts: WorkerOptions = {
      connection,
      prefix,
      concurrency: concurrencyOf(queue, options.config),
      lockDuration: w.lockDuration,
      stalledInterval: w.stalledInterval,
      maxStalledCount: w.maxStalledCount,
      ...(limits?.rateLimit ? { limiter: { max: limits.rateLimit.max, duration: limits.rateLimit.per } } : {}),
    };
    const processor = classified(
      gated(
        queue,
        notingRegion(processors[queue], () => current.provider),
        gate,
      ),
    );
    const worker = new Worker(name, (job, token) => processor(job, token), opts);
    worker.on('active', (job) =>
      log.info({ queue, jobId: job.id, policy: job.data?.policy, volume: job.data?.volumeId, attempt: job.attemptsMade + 1 }, 'job started'),
    );
    worker.on('completed', (job) => {
      metrics.jobFinished(queue, 'completed', job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined);
      log.info({ queue, jobId: job.id, policy: job.data?.policy, volume: job.data?.volumeId }, 'job completed');
      compliance.completed(queue, job);
    });
    worker.on('failed', (job, err) => {
      const kind = errorKindOf(err);
      metrics.jobError(queue, kind);
      const final = !job || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (final) metrics.jobFinished(queue, 'failed', undefined);
      log.error(
        { queue, jobId: job?.id, policy: job?.data?.policy, volume: job?.data?.volumeId, kind, final, err: err.message },
        final ? 'job failed' : 'job attempt failed; will retry',
      );
      // A parent failed because its child did (BullMQ's deferred failure): the child's failure
      // is the one recorded and alerted.
      if (final && job && !job.deferredFailure) {
        compliance.failed(queue, job, err);
        const alert = jobFailedAlert(queue, job, err, clock.now());
        if (alert) outbox.send(alert.alert, alert.quietSubject).catch((e: Error) => log.warn({ err: e.message }, 'could not enqueue a job-failed alert'));
      }
    });
    worker.on('error', (err) => log.warn({ queue, err: err.message }, 'worker error'));
    worker.on('stalled', (jobId) => log.warn({ queue, jobId }, 'job stalled (its worker died or blocked); taken over'));
    return worker;
  });
  const alertProcessor = classified(
    createAlertProcessor({
      get config() {
        return current.config;
      },
      redis: options.redis,
      prefix,
      clock,
      log,
      locks,
      outbox,
      env: options.env ?? {},
    }),
  );
  const alertWorker = new Worker(QUEUE.alert, (job, token) => alertProcessor(job, token), { connection, prefix, concurrency: ALERT_CONCURRENCY });
  alertWorker.on('failed', (job, err) => log.warn({ queue: QUEUE.alert, jobId: job?.id, target: job?.data?.target, err: err.message }, 'alert job failed'));
  alertWorker.on('error', (err) => log.warn({ queue: QUEUE.alert, err: err.message }, 'worker error'));
  const concurrencies = () => Object.fromEntries(workers.map((x) => [x.name, x.concurrency]));
  log.info({ prefix, queues: workers.map((x) => x.name), archiveConcurrency: workers.find((x) => x.name === 'archive')?.concurrency }, 'worker started');

  return {
    workers,
    reload(config, provider) {
      const restart = workerSettingsNeedingRestart(current.config, config);
      current = { config, provider };
      for (const x of workers) x.concurrency = concurrencyOf(stageOf.get(x.name)!, config);
      log.info(
        { policies: config.policies.map((p) => p.name), concurrency: concurrencies(), ...(restart.length ? { restartNeeded: restart } : {}) },
        'worker reconfigured',
      );
      return restart;
    },
    async close(deadlineMs = current.config.fleet.worker.shutdownTimeout) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), deadlineMs)));
      const outcome = await Promise.race([Promise.all([...workers, alertWorker].map((x) => x.close())).then(() => 'closed' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        log.warn({ deadlineMs }, 'active jobs did not finish in time; handing them back');
        await Promise.allSettled([...workers, alertWorker].map((x) => x.close(true)));
      }
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      await alertQueue.close().catch(() => {});
      await metrics.flush();
      await recorder.flush().catch((err: Error) => log.warn({ err: err.message }, 'could not record RPO compliance'));
      log.info({}, 'worker closed');
    },
  };
}
