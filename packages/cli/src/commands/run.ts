/**
 * `snapfleet run --config FILE [--once]`: the embedded default: planner, worker and (when the
 * config has a `board` section) the board in one process. With --once, every policy is enqueued
 * once for the current time, the process works until all its flows have finished, prints a
 * summary and exits 1 if any failed (for cron users and tests); no schedulers are created.
 * Without --once, SIGHUP reloads the config file for the planner (schedulers follow it) and the
 * worker (new jobs use it); an invalid file is logged and the running config kept.
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createPlanner, type EnqueuedVolume } from '@snapfleet/planner';
import type { RedisConnector } from '@snapfleet/providers/redis';
import { fleetQueueNames, queueStreams, slotFromTime, stageQueue, type FleetLogger, type VolumeStage } from '@snapfleet/shared/jobs';
import type { FleetConfig } from '@snapfleet/shared/config';
import type { AuditEntry } from '@snapfleet/shared/jobs';
import type { CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { loadFleetConfig } from '../fleet/fleet-config-file.js';
import { startEndpoints, withEndpointOption } from '../fleet/fleet-endpoints.js';
import { fleetLogger } from '../fleet/fleet-logger.js';
import { fleetPrefix, withFleetOptions, type FleetOptions } from '../fleet/fleet-options.js';
import { sharedLimitProviders } from '../fleet/fleet-provider.js';
import { redisConnection } from '../fleet/fleet-redis.js';
import { startFleetWorker, type RunningWorker } from '../fleet/fleet-worker-process.js';
import { untilInterrupted } from '../fleet/until-interrupted.js';
import { mib } from './common.js';
import { processSettingsNeedingRestart, reloadConfigOnSignal } from './config-reload.js';
import { complianceView } from '../compliance-view.js';
import { complianceMetricsText } from '../compliance-metrics.js';
import { resolveBoardAuth, readBoardTls } from '../board-secrets.js';
import { createAuditRecorder } from '../audit-recorder.js';
import { appendAudit } from '@snapfleet/providers/fleet';

/** How often --once looks at its volumes' chains: a chain takes seconds at least; Redis barely notices. */
const POLL_MS = 250;

interface FlowOutcome {
  policy: string;
  volumeId: string;
  state: 'completed' | 'failed';
  snapshotId?: string;
  reused?: boolean;
  /** Archive selection passed the slot over: why. */
  skipped?: string;
  readBytes?: number;
  storedBytes?: number;
  reason?: string;
}

async function startBoard(
  config: FleetConfig,
  configPath: string,
  ctx: CliContext,
  connector: RedisConnector,
  prefix: string,
  log: FleetLogger,
): Promise<(() => Promise<void>) | undefined> {
  if (!config.board) return undefined;
  const specifier = '@snapfleet/board';
  let mod: { startBoard?: (options: unknown) => Promise<{ url: string; close(): Promise<void> }> };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch {
    ctx.stderr.write(
      'snapfleet: the config has a board section, but @snapfleet/board is not installed with this CLI: the board is not started (run `snapfleet board` where it is installed)\n',
    );
    return undefined;
  }
  const baseDir = dirname(resolve(configPath));
  const auth = await resolveBoardAuth(config.board.auth, ctx.env, baseDir);
  const tls = await readBoardTls(config.board.tls, baseDir);
  const { readFleetMetrics, fleetMetricsText } = await import('@snapfleet/worker');
  const board = await mod.startBoard!({
    connection: (overrides: object) => connector.client(undefined, overrides),
    prefix,
    queueNames: fleetQueueNames(config),
    listen: config.board.listen,
    log,
    auth: { ...(auth.token ? { token: auth.token } : {}), ...(auth.users ? { users: auth.users } : {}), anonymous: auth.anonymous },
    ...(tls ? { tls } : {}),
    extraMetrics: async ({ connection }: { connection: Pick<Redis, 'hgetall'> }) =>
      fleetMetricsText(await readFleetMetrics(connection, prefix)) + complianceMetricsText(await complianceView(connection, prefix, config, ctx.clock.now())),
    compliance: async ({ connection }: { connection: Pick<Redis, 'hgetall'> }) => complianceView(connection, prefix, config, ctx.clock.now()),
    audit: async ({ connection }: { connection: Pick<Redis, 'xadd'> }, entry: AuditEntry) => void (await appendAudit(connection, prefix, entry)),
  });
  ctx.stderr.write(`snapfleet: board at ${board.url}/board/\n`);
  return () => board.close();
}

/**
 * Waits until each volume's chain has ended: its retention job finished, or a job before it
 * failed for good (then nothing after it was added). A job not added yet reads as "unknown".
 */
async function waitForFlows(queueOf: (stage: VolumeStage, region?: string) => Queue, jobs: (EnqueuedVolume & { policy: string })[]): Promise<FlowOutcome[]> {
  const pending = new Map(jobs.map((j) => [j.retentionJobId, j]));
  const out: FlowOutcome[] = [];
  const ended = async (j: EnqueuedVolume): Promise<'completed' | 'failed' | undefined> => {
    const retention = await queueOf('retention', j.region).getJobState(j.retentionJobId);
    if (retention === 'completed' || retention === 'failed') return retention;
    if (retention !== 'unknown') return undefined;
    if ((await queueOf('archive', j.region).getJobState(j.archiveJobId)) === 'failed') return 'failed';
    if ((await queueOf('snapshot', j.region).getJobState(j.snapshotJobId)) === 'failed') return 'failed';
    return undefined;
  };
  while (pending.size > 0) {
    for (const [id, j] of [...pending]) {
      const state = await ended(j);
      if (!state) continue;
      pending.delete(id);
      const archive = await queueOf('archive', j.region).getJob(j.archiveJobId);
      const snapshot = await queueOf('snapshot', j.region).getJob(j.snapshotJobId);
      const retention = await queueOf('retention', j.region).getJob(id);
      const a = archive?.returnvalue as
        { snapshotId?: string; reused?: boolean; skipped?: boolean; reason?: string; readBytes?: number; storedBytes?: number } | undefined;
      const reason = snapshot?.failedReason || archive?.failedReason || retention?.failedReason;
      out.push({
        policy: j.policy,
        volumeId: j.volumeId,
        state,
        ...(a?.snapshotId ? { snapshotId: a.snapshotId, reused: !!a.reused, readBytes: a.readBytes ?? 0, storedBytes: a.storedBytes ?? 0 } : {}),
        ...(a?.skipped ? { skipped: a.reason ?? 'not selected' } : {}),
        ...(state === 'failed' && reason ? { reason } : {}),
      });
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return out.sort((x, y) => x.policy.localeCompare(y.policy) || x.volumeId.localeCompare(y.volumeId));
}

function summary(outcomes: FlowOutcome[], slot: string): string {
  const lines = outcomes.map((o) => {
    if (o.state !== 'completed') return `  FAILED  ${o.policy}/${o.volumeId}: ${o.reason ?? 'unknown reason'}`;
    if (o.skipped) return `  ok      ${o.policy}/${o.volumeId}: not archived (${o.skipped})`;
    return `  ok      ${o.policy}/${o.volumeId}: snapshot ${o.snapshotId?.slice(0, 8) ?? '-'}${o.reused ? ' (already archived)' : ` read ${mib(o.readBytes ?? 0)}, stored ${mib(o.storedBytes ?? 0)}`}`;
  });
  const failed = outcomes.filter((o) => o.state === 'failed').length;
  const skipped = outcomes.filter((o) => o.skipped).length;
  const notArchived = skipped ? ` (${skipped} of them not archived: archive selection)` : '';
  return `slot ${slot}\n${lines.join('\n')}\n${outcomes.length - failed} of ${outcomes.length} volume(s) backed up${notArchived}${failed ? `, ${failed} failed` : ''}\n`;
}

async function runOnce(ctx: CliContext, connection: RedisConnector, config: FleetConfig, prefix: string, log: FleetLogger, json: boolean): Promise<number> {
  const providers = sharedLimitProviders(connection, prefix, log);
  const planner = createPlanner({
    connection,
    prefix,
    config,
    provider: providers.provider(config),
    clock: ctx.clock,
    log,
    processTicks: false,
    manageSchedulers: false,
  });
  const queues = new Map<string, Queue>();
  const queueOf = (stage: VolumeStage, region?: string): Queue => {
    const name = stageQueue(stage, region);
    let q = queues.get(name);
    if (!q) queues.set(name, (q = new Queue(name, { connection: connection.bullmq('producer'), prefix, streams: queueStreams(config) })));
    return q;
  };
  const running = startFleetWorker(ctx, connection, config, prefix, log);
  try {
    await planner.start();
    const slot = slotFromTime(ctx.clock.now());
    const jobs: (EnqueuedVolume & { policy: string })[] = [];
    for (const p of config.policies) for (const e of await planner.enqueuePolicy(p.name, slot)) jobs.push({ ...e, policy: p.name });
    const outcomes = await waitForFlows(queueOf, jobs);
    ctx.stdout.write(json ? JSON.stringify({ slot, volumes: outcomes }) + '\n' : summary(outcomes, slot));
    return outcomes.some((o) => o.state === 'failed') ? EXIT.failure : EXIT.ok;
  } finally {
    await running.close();
    await planner.close();
    providers.close();
    await Promise.allSettled([...queues.values()].map((q) => q.close()));
    await connection.close();
  }
}

export function registerRun(program: Command, ctx: CliContext, setExitCode: (code: number) => void): void {
  withEndpointOption(withFleetOptions(program.command('run').description('planner + worker (+ board) in one process')))
    .option('--once', 'back up every policy once now, wait, print a summary, exit (1 if any failed)')
    .option('--json', 'with --once: the summary as JSON')
    .action(async (opts: FleetOptions & { once?: boolean; json?: boolean; metricsListen?: string }) => {
      const config = await loadFleetConfig(opts.config, ctx.env);
      const connector = redisConnection(ctx, config);
      const prefix = fleetPrefix(opts, config, connector);
      const log = fleetLogger(ctx, { role: 'run', prefix });
      if (opts.once) {
        setExitCode(await runOnce(ctx, connector, config, prefix, log, !!opts.json));
        return;
      }
      const providers = sharedLimitProviders(connector, prefix, log);
      const planner = createPlanner({ connection: connector, prefix, config, provider: providers.provider(config), clock: ctx.clock, log });
      let current = config;
      let running: RunningWorker | undefined;
      const audit = createAuditRecorder(ctx, connector, prefix, 'run');
      const reloader = reloadConfigOnSignal(
        ctx,
        opts.config,
        log,
        async (next) => {
          const restart = [...processSettingsNeedingRestart(current, next, opts.prefix !== undefined), ...running!.reload(next)];
          await planner.reconcile(next, providers.provider(next));
          current = next;
          return restart;
        },
        audit,
      );
      const { worker, closeBoard } = await reloader.startWith(async () => {
        await planner.start();
        running = startFleetWorker(ctx, connector, config, prefix, log);
        return { worker: running, closeBoard: await startBoard(config, opts.config, ctx, connector, prefix, log) };
      });
      const endpoints = await startEndpoints(ctx, config, 'run', opts.metricsListen, worker.redis, [worker.metrics.registry]);
      await untilInterrupted(ctx, async () => {
        endpoints?.draining();
        reloader.release();
        audit.close();
        await closeBoard?.();
        await worker.close();
        await planner.close();
        providers.close();
        await endpoints?.close();
        await connector.close();
      });
    });
}
