/**
 * `snapfleet worker --config FILE [--concurrency N] [--region R ...]`: a worker process for
 * scaled-out deployments: takes snapshot, archive, retention and verify jobs (with
 * fleet.routing.byRegion, volume jobs of its regions only) until SIGTERM/SIGINT, then
 * closes gracefully (fleet.worker.shutdownTimeout). SIGHUP reloads the config file: jobs that
 * start afterwards use its policies, repositories and limits; an invalid file is logged and
 * the running config kept.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { FleetConfig } from '@snapfleet/shared/config';
import { parseIntFlag } from '../units.js';
import { InvalidInputError } from '@snapfleet/shared';
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
    .option(
      '--region <region...>',
      'with fleet.routing.byRegion: take the volume jobs of these regions only (default: fleet.worker.regions, else every region)',
    )
    .action(async (opts: FleetOptions & { concurrency?: string; metricsListen?: string; region?: string[] }) => {
      const config = await loadFleetConfig(opts.config, ctx.env);
      const concurrency = opts.concurrency ? parseIntFlag(opts.concurrency, 'concurrency', 1, MAX_CONCURRENCY) : undefined;
      const regions = opts.region
        ? checkRegions(
            opts.region.flatMap((r) => r.split(',')),
            config,
          )
        : undefined;
      const connector = redisConnection(ctx, config);
      const prefix = fleetPrefix(opts, config, connector);
      const log = fleetLogger(ctx, { role: 'worker', prefix });
      let current = config;
      let running: RunningWorker | undefined;
      const audit = createAuditRecorder(ctx, connector, prefix, 'worker');
      const reloader = reloadConfigOnSignal(
        ctx,
        opts.config,
        log,
        async (next) => {
          const restart = [...processSettingsNeedingRestart(current, next, opts.prefix !== undefined), ...running!.reload(next)];
          current = next;
          return restart;
        },
        audit,
      );
      const worker = await reloader.startWith(async () => (running = startFleetWorker(ctx, connector, config, prefix, log, concurrency, regions)));
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

/** `--region` names regions the config routes jobs to; anything else would take no jobs at all. */
function checkRegions(regions: string[], config: FleetConfig): string[] {
  if (!config.fleet.routing.byRegion)
    throw new InvalidInputError('--region: the config does not route jobs by region (set fleet.routing.byRegion: true)', 'region');
  const known = config.provider.kind === 'aws' ? config.provider.regions : [];
  const unknown = regions.filter((r) => !known.includes(r));
  if (unknown.length) throw new InvalidInputError(`--region: ${unknown.join(', ')} not in provider.regions (${known.join(', ')})`, 'region');
  return regions;
}
