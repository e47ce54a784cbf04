/**
 * `snapfleet unlock`: removes leases that hold prune back for no one (engine/unlock.ts): those of
 * holders known to be dead, or with --remove-all every one, after a warning naming the live ones.
 */
import type { Command } from 'commander';
import { unlockRepository, type UnlockedLease } from '@snapfleet/shared';
import { localProcessIdentity } from '@snapfleet/providers';
import type { CliContext, RepoOptions } from '../context.js';
import { openRepo, repoUrl } from '../repository-access.js';
import { withRepoOptions } from './common.js';
import { repositoryAudit, withFleetAuditOptions, type FleetAuditOptions } from '../repository-audit.js';

interface UnlockOptions extends RepoOptions, FleetAuditOptions {
  removeAll?: boolean;
}

function describeLease(l: UnlockedLease): string {
  const what = l.kind ? `${l.kind} lease` : 'unreadable object';
  return `${l.key} (${what}${l.hostname ? ` on ${l.hostname}` : ''}${l.created ? `, since ${l.created}` : ''}): ${l.state}`;
}

export function registerUnlock(program: Command, ctx: CliContext): void {
  withFleetAuditOptions(withRepoOptions(program.command('unlock').description('remove leases of archives and prunes that are no longer running')))
    .option('--remove-all', 'remove every lease, also of processes that may still run (only when none runs anywhere)')
    .action(async (opts: UnlockOptions) => {
      const audit = await repositoryAudit(ctx, opts, 'unlock', 'unlock');
      const repo = await openRepo(opts, ctx);
      const identity = localProcessIdentity();
      const report = await audit.run(repo, async (note) => {
        note({ all: opts.removeAll ?? false });
        const r = await unlockRepository(repo, { clock: ctx.clock, all: opts.removeAll ?? false, ...(identity ? { identity } : {}) });
        note({ removed: r.removed.length, removedLive: r.removed.filter((l) => l.state === 'live').length, kept: r.kept.length });
        return r;
      });
      const live = report.removed.filter((l) => l.state === 'live');
      if (live.length > 0) {
        ctx.stderr.write(
          `snapfleet: warning: removed ${live.length} lease(s) that were live; if their archives still run, a prune may delete data they rely on:\n${live.map((l) => `  ${describeLease(l)}\n`).join('')}`,
        );
      }
      if (opts.json) {
        ctx.stdout.write(JSON.stringify(report) + '\n');
        return;
      }
      const lines = [`removed ${report.removed.length} lease(s) from ${repoUrl(opts, ctx)}`, ...report.removed.map((l) => `  ${describeLease(l)}`)];
      if (report.kept.length > 0)
        lines.push(`kept ${report.kept.length} (still running, or unreadable: --remove-all removes them)`, ...report.kept.map((l) => `  ${describeLease(l)}`));
      ctx.stdout.write(lines.join('\n') + '\n');
    });
}
