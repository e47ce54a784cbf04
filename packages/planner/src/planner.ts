/**
 * The planner: keeps the job schedulers in line with the config, and processes their ticks. A
 * tick discovers the policy's volumes through the provider and enqueues each volume's snapshot
 * job, the head of its chain snapshot -> archive -> retention (each job adds the next: worker/src/
 * job-chain.ts), with deterministic ids, so any number of planners and a repeated tick never
 * double-enqueue. Several planners may run: BullMQ hands each tick to one of
 * them, and a tick processed twice (a retry) adds nothing new.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { asRedisConnector, type RedisConnector } from '@snapfleet/providers/redis';
import type { RedisOptions } from 'ioredis';
import { createComplianceRecorder } from '@snapfleet/providers/fleet';
import { InvalidInputError, isSnapfleetError, type Clock, type VolumeProvider } from '@snapfleet/shared';
import type { FleetConfig, PolicyConfig } from '@snapfleet/shared/config';
import {
  QUEUE,
  describePayloadError,
  slotFromTime,
  stageQueue,
  tickJobSchema,
  verifyJobId,
  volumeJobId,
  workQueueNames,
  queueStreams,
  type FleetLogger,
  type VerifyJob,
  type VolumeJob,
} from '@snapfleet/shared/jobs';
import { reconcileSchedulers } from './schedulers.js';
import { reconcileAlertCheck } from './alert-scheduler.js';
import { reconcileDrillSchedulers } from './drill-schedulers.js';
import { reconcileOrphanSweep } from './orphan-scheduler.js';
import { workJobOptions } from './job-options.js';
import { startCompletedSweeper, type CompletedSweeper } from './completed-sweeper.js';

/** Jobs per addBulk call: one Redis round trip each, bounded so a huge policy never builds one giant MULTI. */
const JOBS_PER_BATCH = 1000;

export interface PlannerOptions {
  /** The fleet's Redis (a connector from the composition root, or plain options of one server). */
  connection: RedisConnector | RedisOptions;
  prefix: string;
  config: FleetConfig;
  provider: VolumeProvider;
  clock: Clock;
  log: FleetLogger;
  /** Process tick jobs (default true). False: enqueue on demand only (backup-now, run --once). */
  processTicks?: boolean;
  /** Reconcile the job schedulers on start (default true). False for one-off enqueues. */
  manageSchedulers?: boolean;
}

export interface EnqueuedVolume {
  volumeId: string;
  /** The region whose queues the volume's jobs run in (fleet.routing.byRegion), else absent. */
  region?: string;
  /** The flow's root (retention) job id; the archive and snapshot ids share its suffix. */
  retentionJobId: string;
  archiveJobId: string;
  snapshotJobId: string;
}

export interface Planner {
  start(): Promise<void>;
  /**
   * Applies a new config (and the provider built for it, so discovery sees its volumes):
   * schedulers of removed policies and schedules stop, new ones start, ticks use the new policies.
   */
  reconcile(config: FleetConfig, provider?: VolumeProvider): Promise<void>;
  /** Enqueues a policy's volumes for `slot` now (backup-now, run --once). Idempotent per slot. */
  enqueuePolicy(policy: string, slot: string, volumeIds?: readonly string[]): Promise<EnqueuedVolume[]>;
  enqueueVerify(repository: string, slot: string): Promise<string>;
  close(): Promise<void>;
}

export function createPlanner(options: PlannerOptions): Planner {
  const { prefix, clock } = options;
  let provider = options.provider;
  const log = options.log.child({ component: 'planner' });
  let config = options.config;
  const connector = asRedisConnector(options.connection);
  const producer = connector.bullmq('producer');
  // Fixed at start, as every queue's events cap must agree (shared/jobs/job-options.ts).
  const streams = queueStreams(options.config);
  const tickQueue = new Queue(QUEUE.tick, { connection: producer, prefix, streams });
  const verifyQueue = new Queue(QUEUE.verify, { connection: producer, prefix, streams });
  const alertQueue = new Queue(QUEUE.alert, { connection: producer, prefix, streams });
  const retentionQueue = new Queue(QUEUE.retention, { connection: producer, prefix, streams });
  // A tick adds each volume's snapshot job; workers add the rest of its chain (worker/src/job-chain.ts).
  // One snapshot queue, or one per region when the fleet routes by region, made on first use.
  const snapshotQueues = new Map<string, Queue>();
  const snapshotQueue = (region: string | undefined): Queue => {
    const name = stageQueue('snapshot', region);
    let q = snapshotQueues.get(name);
    if (!q) snapshotQueues.set(name, (q = new Queue(name, { connection: producer, prefix, streams })));
    return q;
  };
  // Which volumes each policy covers, for RPO compliance: a volume that left is reported, not
  // forgotten. Its own connection, with the offline queue: a record waits out a Redis blip.
  const redis = connector.client(undefined, { lazyConnect: true });
  redis.on('error', () => {}); // the queues' connections report outages; this one just retries
  const compliance = createComplianceRecorder(redis, prefix);
  let worker: Worker | undefined;
  let sweeper: CompletedSweeper | undefined;

  const policyNamed = (name: string): PolicyConfig => {
    const p = config.policies.find((x) => x.name === name);
    if (!p) throw new InvalidInputError(`policy ${name} is not in the configuration`, 'policy');
    return p;
  };

  async function enqueuePolicy(name: string, slot: string, volumeIds?: readonly string[]): Promise<EnqueuedVolume[]> {
    const policy = policyNamed(name);
    let volumes = await provider.discover(policy.selector);
    if (!volumeIds) {
      const ids = volumes.map((v) => v.id);
      // Awaited: a one-off planner (backup-now) closes right after, and would cut it short.
      await compliance
        .discovered(name, ids, clock.now())
        .catch((err: Error) => log.warn({ policy: name, err: err.message }, 'could not record the volumes the policy covers'));
    }
    if (volumeIds) {
      const missing = volumeIds.filter((v) => !volumes.some((d) => d.id === v));
      if (missing.length) throw new InvalidInputError(`policy ${name} does not cover volume(s) ${missing.join(', ')}`, 'volume');
      volumes = volumes.filter((v) => volumeIds.includes(v.id));
    }
    const opts = workJobOptions(config);
    const byRegion = config.fleet.routing.byRegion;
    const out: EnqueuedVolume[] = [];
    for (let i = 0; i < volumes.length; i += JOBS_PER_BATCH) {
      const batch = volumes.slice(i, i + JOBS_PER_BATCH);
      const payloads: VolumeJob[] = batch.map((v) => ({
        v: 1,
        policy: name,
        volumeId: v.id,
        slot,
        repository: policy.repository,
        ...(byRegion && v.region ? { region: v.region } : {}),
      }));
      for (const [region, group] of groupByRegion(payloads)) {
        await snapshotQueue(region).addBulk(
          group.map((p) => ({ name: QUEUE.snapshot, data: p, opts: { ...opts, jobId: volumeJobId('snapshot', name, p.volumeId, slot) } })),
        );
      }
      for (const p of payloads) {
        out.push({
          volumeId: p.volumeId,
          ...(p.region ? { region: p.region } : {}),
          retentionJobId: volumeJobId('retention', name, p.volumeId, slot),
          archiveJobId: volumeJobId('archive', name, p.volumeId, slot),
          snapshotJobId: volumeJobId('snapshot', name, p.volumeId, slot),
        });
      }
    }
    log.info({ policy: name, slot, volumes: out.length }, 'policy enqueued');
    return out;
  }

  async function enqueueVerify(repository: string, slot: string): Promise<string> {
    const r = config.repositories[repository];
    if (!r) throw new InvalidInputError(`repository ${repository} is not in the configuration`, 'repository');
    const jobId = verifyJobId(repository, slot);
    const data: VerifyJob = { v: 1, repository, slot, ...(r.verify ? { readDataSubset: r.verify.readDataSubset } : {}) };
    await verifyQueue.add('verify', data, { ...workJobOptions(config), jobId });
    return jobId;
  }

  async function processTick(job: Job): Promise<unknown> {
    const parsed = tickJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed tick payload: ${describePayloadError(parsed.error)}`);
    // The tick's slot is the time the scheduler planned it for (not when it ran), so a late or
    // repeated tick maps to the same job ids.
    const slot = slotFromTime(new Date(job.opts.prevMillis ?? job.timestamp));
    const tick = parsed.data;
    try {
      if (tick.kind === 'verify') return { verify: await enqueueVerify(tick.repository, slot) };
      const enqueued = await enqueuePolicy(tick.policy, slot);
      return { policy: tick.policy, slot, volumes: enqueued.length };
    } catch (err) {
      // A stale policy or a refused discovery will not pass by retrying; a throttled one may.
      if (isSnapfleetError(err) && !err.retryable) throw new UnrecoverableError(`${err.kind}: ${err.message}`);
      throw err;
    }
  }

  async function applyQueueLimits(): Promise<void> {
    // Routed by region, each region's queue of a stage gets the stage's limit.
    for (const { name, queue: q } of workQueueNames(config)) {
      const limits = config.fleet.queues[q];
      if (!limits?.globalConcurrency) continue;
      const queue = new Queue(name, { connection: producer, prefix, streams });
      try {
        await queue.setGlobalConcurrency(limits.globalConcurrency);
      } finally {
        await queue.close();
      }
    }
  }

  return {
    async start() {
      if (options.manageSchedulers !== false) {
        await reconcileSchedulers(tickQueue, config, log);
        await reconcileAlertCheck(alertQueue, config);
        await reconcileDrillSchedulers(verifyQueue, config);
        await reconcileOrphanSweep(retentionQueue, config);
      }
      await applyQueueLimits();
      if (options.processTicks === false) return;
      worker = new Worker(QUEUE.tick, processTick, { connection: connector.bullmq('worker'), prefix, concurrency: 1 });
      sweeper = startCompletedSweeper(producer, prefix, () => config, log);
      worker.on('failed', (job, err) => log.error({ jobId: job?.id, err: err.message }, 'tick failed'));
      worker.on('error', (err) => log.warn({ err: err.message }, 'tick worker error'));
      log.info({ prefix, policies: config.policies.map((p) => p.name), now: clock.now().toISOString() }, 'planner started');
    },
    async reconcile(next, nextProvider) {
      config = next;
      if (nextProvider) provider = nextProvider;
      await reconcileSchedulers(tickQueue, config, log);
      await reconcileAlertCheck(alertQueue, config);
      await reconcileDrillSchedulers(verifyQueue, config);
      await reconcileOrphanSweep(retentionQueue, config);
      await applyQueueLimits();
    },
    enqueuePolicy,
    enqueueVerify,
    async close() {
      sweeper?.stop();
      await worker?.close();
      await Promise.allSettled([
        ...[...snapshotQueues.values()].map((q) => q.close()),
        tickQueue.close(),
        verifyQueue.close(),
        alertQueue.close(),
        retentionQueue.close(),
        redis.status === 'wait' ? redis.disconnect() : redis.quit(),
      ]);
    },
  };
}

/** Payloads by the region whose queue they go to (undefined: the stage's own queue), in order. */
function groupByRegion(payloads: readonly VolumeJob[]): Map<string | undefined, VolumeJob[]> {
  const out = new Map<string | undefined, VolumeJob[]>();
  for (const p of payloads) {
    const group = out.get(p.region);
    if (group) group.push(p);
    else out.set(p.region, [p]);
  }
  return out;
}
