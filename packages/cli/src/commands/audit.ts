/**
 * `snapfleet audit --config FILE [--since TIME] [--action A] [--limit N] [--json]`: the fleet's
 * audit log, oldest of the selection first: who did what to what, when, and how it ended.
 */
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { InvalidInputError } from '@snapfleet/shared';
import { AUDIT_ACTIONS, isAuditAction } from '@snapfleet/shared/jobs';
import { readAudit } from '@snapfleet/providers/fleet';
import type { CliContext } from '../context.js';
import { parseIntFlag } from '../units.js';
import { fleetPrefix, loadFleetConfig, redisConnection, withFleetOptions, type FleetOptions } from './fleet-common.js';

export function registerAudit(program: Command, ctx: CliContext): void {
  withFleetOptions(program.command('audit').description('the fleet\'s audit log: operator actions, who, what, when, outcome'))
    .option('--since <time>', 'entries at or after this ISO 8601 time')
    .option('--action <action>', `only this action (${AUDIT_ACTIONS.join(', ')})`)
    .option('--limit <n>', 'at most this many, the newest (default 100)')
    .option('--json', 'machine-readable output')
    .action(async (opts: FleetOptions & { since?: string; action?: string; limit?: string; json?: boolean }) => {
      const config = await loadFleetConfig(opts.config, ctx.env);
      const prefix = fleetPrefix(opts, config);
      if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since))) throw new InvalidInputError(`--since: not an ISO 8601 time: ${JSON.stringify(opts.since)}`, 'since');
      if (opts.action !== undefined && !isAuditAction(opts.action)) throw new InvalidInputError(`--action: must be one of ${AUDIT_ACTIONS.join(', ')}`, 'action');
      const limit = opts.limit === undefined ? 100 : parseIntFlag(opts.limit, 'limit', 1, 100_000);
      const redis = new Redis({ ...redisConnection(ctx), maxRetriesPerRequest: 2 });
      try {
        const entries = await readAudit(redis, prefix, { limit, ...(opts.since ? { since: opts.since } : {}), ...(opts.action && isAuditAction(opts.action) ? { action: opts.action } : {}) });
        if (opts.json) {
          ctx.stdout.write(JSON.stringify(entries) + '\n');
          return;
        }
        for (const e of entries) {
          const details = e.details ? ` ${Object.entries(e.details).map(([k, v]) => `${k}=${String(v)}`).join(' ')}` : '';
          ctx.stdout.write(`${e.at}  ${e.outcome.padEnd(7)} ${e.action.padEnd(13)} ${e.target}  by ${e.actor}${details}\n`);
        }
      } finally {
        redis.disconnect();
      }
    });
}
