/**
 * `snapfleet planner --config FILE`: reconciles the job schedulers with the config and turns
 * ticks into per-volume flows. Any number may run. The config file is watched, and SIGHUP
 * reloads it too: a change is parsed and, when valid, applied (schedulers of removed policies
 * stop); an invalid change is logged and the running config kept.
 */
import { watchFile, unwatchFile } from 'node:fs';
import type { Command } from 'commander';
import { createPlanner } from '@snapfleet/planner';
import type { CliContext } from '../context.js';
import { loadFleetConfig } from '../fleet/fleet-config-file.js';
import { startEndpoints, withEndpointOption } from '../fleet/fleet-endpoints.js';
import { fleetLogger } from '../fleet/fleet-logger.js';
import { fleetPrefix, withFleetOptions, type FleetOptions } from '../fleet/fleet-options.js';
import { sharedLimitProviders } from '../fleet/fleet-provider.js';
import { redisConnection } from '../fleet/fleet-redis.js';
import { untilInterrupted } from '../fleet/until-interrupted.js';
import { reloadConfigOnSignal } from './config-reload.js';
import { createAuditRecorder } from '../audit-recorder.js';

/** Polling interval of the config watch: config edits are rare and a few seconds' lag is fine. */
const CONFIG_POLL_MS = 2_000;

export function registerPlanner(program: Command, ctx: CliContext): void {
  withEndpointOption(withFleetOptions(program.command('planner').description('schedule policies and enqueue per-volume jobs'))).action(
    async (opts: FleetOptions & { metricsListen?: string }) => {
      const config = await loadFleetConfig(opts.config, ctx.env);
      const connector = redisConnection(ctx, config);
      const prefix = fleetPrefix(opts, config, connector);
      const log = fleetLogger(ctx, { role: 'planner', prefix });
      const providers = sharedLimitProviders(connector, prefix, log);
      const planner = createPlanner({ connection: connector, prefix, config, provider: providers.provider(config), clock: ctx.clock, log });
      let current = config;
      const audit = createAuditRecorder(ctx, connector, prefix, 'planner');
      const reloader = reloadConfigOnSignal(
        ctx,
        opts.config,
        log,
        async (next) => {
          await planner.reconcile(next, providers.provider(next));
          const restart = !opts.prefix && next.fleet.prefix !== current.fleet.prefix ? ['fleet.prefix'] : [];
          if (JSON.stringify(next.fleet.redis ?? null) !== JSON.stringify(current.fleet.redis ?? null)) restart.push('fleet.redis');
          current = next;
          return restart;
        },
        audit,
      );
      await reloader.startWith(() => planner.start());
      // Readiness pings Redis over a connection of its own: the planner's are BullMQ's.
      const probe = connector.client(undefined, { maxRetriesPerRequest: 1 });
      probe.on('error', () => {}); // an outage shows as 503 on /healthz and in the planner's own logs
      const endpoints = await startEndpoints(ctx, config, 'planner', opts.metricsListen, probe);
      watchFile(opts.config, { interval: CONFIG_POLL_MS, persistent: false }, () => void reloader.reload('file change'));
      await untilInterrupted(ctx, async () => {
        endpoints?.draining();
        unwatchFile(opts.config);
        reloader.release();
        audit.close();
        await planner.close();
        providers.close();
        await endpoints?.close();
        probe.disconnect();
        await connector.close();
      });
    },
  );
}
