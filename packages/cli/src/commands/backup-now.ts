/**
 * `snapfleet backup-now --config FILE --policy P [--volume V]...`: enqueues the policy's flows
 * for the current time as the slot, as a tick would; prints the job ids. Running it twice in the
 * same second enqueues nothing new (same slot, same ids).
 */
import type { Command } from 'commander';
import { isSnapfleetError } from '@snapfleet/shared';
import { createPlanner } from '@snapfleet/planner';
import { slotFromTime } from '@snapfleet/shared/jobs';
import type { CliContext } from '../context.js';
import { loadFleetConfig } from '../fleet/fleet-config-file.js';
import { fleetLogger } from '../fleet/fleet-logger.js';
import { fleetPrefix, withFleetOptions, type FleetOptions } from '../fleet/fleet-options.js';
import { sharedLimitProviders } from '../fleet/fleet-provider.js';
import { redisConnection } from '../fleet/fleet-redis.js';
import { createAuditRecorder } from '../audit-recorder.js';

export function registerBackupNow(program: Command, ctx: CliContext): void {
  withFleetOptions(program.command('backup-now').description("enqueue a policy's volumes now"))
    .requiredOption('--policy <name>', 'the policy')
    .option('--volume <id>', 'only this volume (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--json', 'machine-readable output')
    .action(async (opts: FleetOptions & { policy: string; volume: string[]; json?: boolean }) => {
      const config = await loadFleetConfig(opts.config, ctx.env);
      const connector = redisConnection(ctx, config);
      const prefix = fleetPrefix(opts, config, connector);
      const log = fleetLogger(ctx, { role: 'backup-now', prefix });
      const providers = sharedLimitProviders(connector, prefix, log);
      const planner = createPlanner({
        connection: connector,
        prefix,
        config,
        provider: providers.provider(config),
        clock: ctx.clock,
        log,
        processTicks: false,
        manageSchedulers: false,
      });
      const audit = createAuditRecorder(ctx, connector, prefix, 'backup-now');
      try {
        await planner.start();
        const slot = slotFromTime(ctx.clock.now());
        let enqueued;
        try {
          enqueued = await planner.enqueuePolicy(opts.policy, slot, opts.volume.length ? opts.volume : undefined);
        } catch (err) {
          await audit.record({
            action: 'backup-now',
            target: opts.policy,
            outcome: isSnapfleetError(err) && !err.retryable ? 'refused' : 'failed',
            details: { slot },
          });
          throw err;
        }
        await audit.record({ action: 'backup-now', target: opts.policy, outcome: 'ok', details: { slot, volumes: enqueued.length } });
        if (opts.json) ctx.stdout.write(JSON.stringify({ policy: opts.policy, slot, jobs: enqueued }) + '\n');
        else
          ctx.stdout.write(
            enqueued.map((e) => `${e.volumeId}: ${e.snapshotJobId} -> ${e.archiveJobId} -> ${e.retentionJobId}`).join('\n') +
              `\nenqueued ${enqueued.length} volume(s) of policy ${opts.policy} for slot ${slot}\n`,
          );
      } finally {
        audit.close();
        await planner.close();
        providers.close();
        await connector.close();
      }
    });
}
