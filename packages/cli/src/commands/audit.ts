/**
 * `snapfleet audit --config FILE [--since TIME] [--action A] [--limit N] [--json]`: the fleet's
 * audit log; `snapfleet audit --repo REPO ...`: a repository's own audit trail (the repository
 * commands' entries, docs/format.md "Audit entries"), read with the repository's password.
 * Either way the newest entries that match, oldest of the selection first: who did what to
 * what, when, and how it ended.
 */
import type { Command } from 'commander';
import { InvalidInputError, listAuditEntries } from '@snapfleet/shared';
import { AUDIT_ACTIONS, isAuditAction } from '@snapfleet/shared/jobs';
import type { CliContext, RepoOptions } from '../context.js';
import { openRepo } from '../repository-access.js';
import { parseIntFlag } from '../units.js';

interface AuditOptions extends RepoOptions {
  config?: string;
  prefix?: string;
  since?: string;
  action?: string;
  limit?: string;
}

interface Listed {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  details?: Record<string, string | number | boolean>;
}

export function registerAudit(program: Command, ctx: CliContext): void {
  program
    .command('audit')
    .description("the audit log: operator actions, who, what, when, outcome (the fleet's with --config, a repository's with --repo)")
    .option('-c, --config <file>', "the fleet configuration: read the fleet's audit log")
    .option('--prefix <prefix>', 'Redis key prefix of the fleet (overrides fleet.prefix)')
    .option('-r, --repo <repo>', "read this repository's audit trail instead: a folder path or s3://bucket/prefix")
    .option('--password-file <file>', 'with --repo: read the repository password from a file (default: $SNAPFLEET_PASSWORD)')
    .option('--since <time>', 'entries at or after this ISO 8601 time')
    .option('--action <action>', `only this action (${AUDIT_ACTIONS.join(', ')})`)
    .option('--limit <n>', 'at most this many, the newest (default 100)')
    .option('--json', 'machine-readable output')
    .action(async (opts: AuditOptions) => {
      if ((opts.config === undefined) === (opts.repo === undefined))
        throw new InvalidInputError("give --config FILE (the fleet's audit log) or --repo REPO (a repository's), one of them", 'config');
      if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since)))
        throw new InvalidInputError(`--since: not an ISO 8601 time: ${JSON.stringify(opts.since)}`, 'since');
      // A repository may hold actions of a newer release: any action word is a valid filter there.
      const known = opts.repo !== undefined ? /^[a-z][a-z0-9-]*$/.test(opts.action ?? 'x') : opts.action === undefined || isAuditAction(opts.action);
      if (!known) throw new InvalidInputError(`--action: must be one of ${AUDIT_ACTIONS.join(', ')}`, 'action');
      const limit = opts.limit === undefined ? 100 : parseIntFlag(opts.limit, 'limit', 1, 100_000);
      const entries =
        opts.repo !== undefined ? await repositoryEntries(opts, limit, ctx) : await fleetEntries(opts as AuditOptions & { config: string }, limit, ctx);
      if (opts.json) {
        ctx.stdout.write(JSON.stringify(entries) + '\n');
        return;
      }
      for (const e of entries) {
        const details = e.details
          ? ` ${Object.entries(e.details)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(' ')}`
          : '';
        ctx.stdout.write(`${e.at}  ${e.outcome.padEnd(7)} ${e.action.padEnd(13)} ${e.target}  by ${e.actor}${details}\n`);
      }
    });
}

/** The repository's entries, oldest of the newest `limit` first (as the fleet's stream reads); `id` is the object's key. */
async function repositoryEntries(opts: AuditOptions, limit: number, ctx: CliContext): Promise<Listed[]> {
  const repo = await openRepo(opts, ctx);
  const onDamaged = (key: string, err: Error) => ctx.stderr.write(`snapfleet: warning: audit entry ${key} was left out: ${err.message}\n`);
  const entries = await listAuditEntries(repo, {
    limit,
    onDamaged,
    ...(opts.since ? { since: opts.since } : {}),
    ...(opts.action ? { action: opts.action } : {}),
  });
  return entries.reverse().map(({ key, ...e }) => ({ id: key, ...e }));
}

/** The fleet's stream; its client is loaded only here (a repository's trail needs none). */
async function fleetEntries(opts: AuditOptions & { config: string }, limit: number, ctx: CliContext): Promise<Listed[]> {
  const [{ readAudit }, { fleetPrefix }, { loadFleetConfig }, { redisConnection }] = await Promise.all([
    import('@snapfleet/providers/fleet'),
    import('../fleet/fleet-options.js'),
    import('../fleet/fleet-config-file.js'),
    import('../fleet/fleet-redis.js'),
  ]);
  const config = await loadFleetConfig(opts.config, ctx.env);
  const connector = redisConnection(ctx, config);
  const prefix = fleetPrefix(opts, config, connector);
  const redis = connector.client(undefined, { maxRetriesPerRequest: 2 });
  try {
    return await readAudit(redis, prefix, {
      limit,
      ...(opts.since ? { since: opts.since } : {}),
      ...(opts.action && isAuditAction(opts.action) ? { action: opts.action } : {}),
    });
  } finally {
    redis.disconnect();
  }
}
