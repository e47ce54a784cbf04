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
import { fleetLogger, fleetPrefix, loadFleetConfig, sharedLimitProviders, redisConnection, untilInterrupted, withFleetOptions, type FleetOptions } from './fleet-common.js';
import { reloadConfigOnSignal } from './config-reload.js';

/** Polling interval of the config watch: config edits are rare and a few seconds' lag is fine. */
const CONFIG_POLL_MS = 2_000;

export function registerPlanner(program: Command, ctx: CliContext): void {
  withFleetOptions(program.command('planner').description('schedule policies and enqueue per-volume jobs')).action(async (opts: FleetOptions) => {
    const config = await loadFleetConfig(opts.config, ctx.env);
    const prefix = fleetPrefix(opts, config);
    const log = fleetLogger(ctx, { role: 'planner', prefix });
    const providers = sharedLimitProviders(ctx, prefix, log);
    const planner = createPlanner({ connection: redisConnection(ctx), prefix, config, provider: providers.provider(config), clock: ctx.clock, log });
    let current = config;
    const reloader = reloadConfigOnSignal(ctx, opts.config, log, async (next) => {
      await planner.reconcile(next, providers.provider(next));
      const restart = !opts.prefix && next.fleet.prefix !== current.fleet.prefix ? ['fleet.prefix'] : [];
      current = next;
      return restart;
    });
    await reloader.startWith(() => planner.start());
    watchFile(opts.config, { interval: CONFIG_POLL_MS, persistent: false }, () => void reloader.reload('file change'));
    await untilInterrupted(ctx, async () => {
      unwatchFile(opts.config);
      reloader.release();
      await planner.close();
      providers.close();
    });
  });
}
