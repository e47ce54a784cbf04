/**
 * `snapfleet migrate`: upgrades a repository in place to the current format version (format 2:
 * snapshot objects under per-volume keys). Safe to kill and run again; see engine/migrate.ts.
 */
import type { Command } from 'commander';
import { migrateRepository, type MigrateReport } from '@snapfleet/shared';
import { localProcessIdentity } from '@snapfleet/providers';
import type { CliContext, RepoOptions } from '../context.js';
import { openRepo, repoUrl } from '../repository-access.js';
import { withRepoOptions } from './common.js';
import { repositoryAudit, withFleetAuditOptions, type FleetAuditOptions } from '../repository-audit.js';

function describe(r: MigrateReport, where: string): string {
  const lines =
    r.fromVersion < r.version
      ? [`upgraded ${where} from format version ${r.fromVersion} to ${r.version}: moved ${r.moved} snapshot object(s) under per-volume keys`]
      : [`${where} is already at format version ${r.version}${r.moved > 0 ? `; moved ${r.moved} snapshot object(s) left under flat keys` : ''}`];
  if (r.runningArchives > 0) {
    lines.push(
      `${r.runningArchives} archive(s) are running: one that opened the repository before the upgrade may still store its snapshot under a flat key; ` +
        'run snapfleet migrate again once they have finished',
    );
  }
  return lines.join('\n') + '\n';
}

export function registerMigrate(program: Command, ctx: CliContext): void {
  withFleetAuditOptions(
    withRepoOptions(program.command('migrate').description('upgrade a repository to the current format version (safe to interrupt and run again)')),
  ).action(async (opts: RepoOptions & FleetAuditOptions) => {
    const audit = await repositoryAudit(ctx, opts, 'migrate', 'migrate');
    const repo = await openRepo(opts, ctx);
    const identity = localProcessIdentity();
    const report = await audit.run(repo, async (note) => {
      const r = await migrateRepository(repo, { clock: ctx.clock, hostname: ctx.hostname, ...(identity ? { identity } : {}) });
      note({ fromVersion: r.fromVersion, version: r.version, moved: r.moved });
      return r;
    });
    ctx.stdout.write(opts.json ? JSON.stringify(report) + '\n' : describe(report, repoUrl(opts, ctx)));
  });
}
