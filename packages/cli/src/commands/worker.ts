/**
 * `snapfleet worker --config FILE [--concurrency N]`: a worker process for scaled-out
 * deployments: takes snapshot, archive, retention and verify jobs until SIGTERM/SIGINT, then
 * closes gracefully (fleet.worker.shutdownTimeout). SIGHUP reloads the config file: jobs that
 * start afterwards use its policies, repositories and limits; an invalid file is logged and
 * the running config kept.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { parseIntFlag } from '../units.js';
import { loadFleetConfig } from '../fleet/fleet-config-file.js';
import { startEndpoints, withEndpointOption } from '../fleet/fleet-endpoints.js';
import { fleetLogger } from '../fleet/fleet-logger.js';
import { fleetPrefix, withFleetOptions, type FleetOptions } from '../fleet/fleet-options.js';
import { redisConnection } from '../fleet/fleet-redis.js';
import { startFleetWorker, type RunningWorker } from '../fleet/fleet-worker-process.js';
import { untilInterrupted } from '../fleet/until-interrupted.js';
import { processSettingsNeedingRestart, reloadConfigOnSignal } from './config-reload.js';
import { createAuditRecorder } from '../audit-recorder.js';

/** Archives at once in one process; beyond this the codec pool is the bottleneck anyway. */
const MAX_CONCURRENCY = 64;

export function registerWorker(program: Command, ctx: CliContext): void {
  withEndpointOption(withFleetOptions(program.command('worker').description('process fleet jobs (snapshot, archive, retention, verify)')))
    .option('--concurrency <n>', 'archive jobs at once in this process (default: fleet.queues.archive.concurrency or 1)')
    .action(async (opts: FleetOptions & { concurrency?: string; metricsListen?: string }) => {
      const config = await loadFleetConfig(opts.config, ctx.env);
      const connector = redisConnection(ctx, config);
      const prefix = fleetPrefix(opts, config, connector);
      const concurrency = opts.concurrency ? parseIntFlag(opts.concurrency, 'concurrency', 1, MAX_CONCURRENCY) : undefined;
      const log = fleetLogger(ctx, { role: 'worker', prefix });
      let current = config;
      let running: RunningWorker | undefined;
      const audit = createAuditRecorder(ctx, connector, prefix, 'worker');
      const reloader = reloadConfigOnSignal(ctx, opts.config, log, async (next) => {
        const restart = [...processSettingsNeedingRestart(current, next, opts.prefix !== undefined), ...running!.reload(next)];
        current = next;
        return restart;
      }, audit);
      const worker = await reloader.startWith(async () => (running = startFleetWorker(ctx, connector, config, prefix, log, concurrency)));
      const endpoints = await startEndpoints(ctx, config, 'worker', opts.metricsListen, worker.redis, [worker.metrics.registry]);
      await untilInterrupted(ctx, async () => {
        endpoints?.draining();
        reloader.release();
        audit.close();
        await worker.close();
        await endpoints?.close();
        await connector.close();
      });
    });
}
