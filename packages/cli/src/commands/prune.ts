/**
 * `snapfleet prune`: garbage collection, safe while archives run (docs/format.md, "Garbage
 * collection"): condemns packs no snapshot needs, repacks mostly-dead ones, and deletes what was
 * condemned once no running archive can still come to need it.
 */
import type { Command } from 'commander';
import { pruneRepository, DEFAULT_REPACK_BELOW, type PruneReport, type Repository } from '@snapfleet/shared';
import { createThreadCodecPool, localProcessIdentity } from '@snapfleet/providers';
import type { CliContext, RepoOptions } from '../context.js';
import { openRepo } from '../repository-access.js';
import { parsePercent } from '../units.js';
import { mib, withRepoOptions } from './common.js';
import { repositoryAudit, withFleetAuditOptions, type AuditDetails, type FleetAuditOptions } from '../repository-audit.js';

export interface PruneFlags {
  repackBelow?: string;
  dryRun?: boolean;
}

export function pruneFlags(cmd: Command): Command {
  return cmd.option('--repack-below <pct>', `repack packs of which less than this share is still needed (default ${DEFAULT_REPACK_BELOW * 100}%)`);
}

export async function runPrune(repo: Repository, opts: PruneFlags & RepoOptions, ctx: CliContext): Promise<PruneReport> {
  const repackBelow = opts.repackBelow ? parsePercent(opts.repackBelow, 'repack-below') : DEFAULT_REPACK_BELOW;
  const pool = createThreadCodecPool(repo.keys);
  try {
    const identity = localProcessIdentity();
    return await pruneRepository(repo, pool, {
      clock: ctx.clock,
      repackBelow,
      dryRun: opts.dryRun ?? false,
      hostname: ctx.hostname,
      ...(identity ? { identity } : {}),
    });
  } finally {
    await pool.close();
  }
}

export function describePrune(r: PruneReport, dryRun: boolean): string {
  const lines = [
    `${r.snapshots} snapshots reference ${r.liveBlobs} blobs; ${r.packs} packs examined`,
    `${dryRun ? 'would condemn' : 'condemned'} ${r.condemnedPacks} packs (${mib(r.condemnedBytes)}), repacking ${r.repackedPacks} of them (${mib(r.repackedBytes)} still needed)`,
  ];
  if (!dryRun)
    lines.push(
      `deleted ${r.deletedPacks} packs, freed ${mib(r.freedBytes)}${r.reprievedPacks ? `; kept ${r.reprievedPacks} condemned packs that new snapshots need` : ''}`,
    );
  if (r.retainedPacks)
    lines.push(
      `left ${r.retainedPacks} unneeded pack(s) in place: under Object Lock retention until ${r.retainedUntil} at the latest; the first prune after that deletes them`,
    );
  if (r.retention) lines.push(`extended the Object Lock retention of ${r.retention.extended} live object(s) until ${r.retention.until}`);
  if (r.adoptedPacks) lines.push(`adopted ${r.adoptedPacks} pack(s) stored without an index object`);
  if (r.sweptIncomplete.count) lines.push(`removed ${r.sweptIncomplete.count} leftover temp files of interrupted writes (${mib(r.sweptIncomplete.bytes)})`);
  for (const w of r.waiting) lines.push(`waiting for ${w.archives} running archive(s) before deleting ${w.packs} packs (${w.marker})`);
  if (r.compaction && r.compaction.merged > 0)
    lines.push(`index: merged ${r.compaction.merged} of ${r.compaction.objectsBefore} objects into ${r.compaction.written}`);
  return lines.join('\n') + '\n';
}

/** What a prune's audit entry says: what it removed and freed, never which packs. */
export function pruneDetails(r: PruneReport): AuditDetails {
  return {
    snapshots: r.snapshots,
    condemnedPacks: r.condemnedPacks,
    repackedPacks: r.repackedPacks,
    deletedPacks: r.deletedPacks,
    freedBytes: r.freedBytes,
    ...(r.retainedPacks ? { retainedPacks: r.retainedPacks } : {}),
  };
}

export function registerPrune(program: Command, ctx: CliContext): void {
  withFleetAuditOptions(pruneFlags(withRepoOptions(program.command('prune').description('delete data no snapshot needs (safe while archives run)'))))
    .option('--dry-run', 'report what would be condemned; change nothing')
    .action(async (opts: PruneFlags & RepoOptions & FleetAuditOptions) => {
      const audit = await repositoryAudit(ctx, opts, 'prune', 'prune');
      const repo = await openRepo(opts, ctx);
      const report = await audit.run(
        repo,
        async (note) => {
          const r = await runPrune(repo, opts, ctx);
          note(pruneDetails(r));
          return r;
        },
        { record: !opts.dryRun },
      );
      ctx.stdout.write(opts.json ? JSON.stringify(report) + '\n' : describePrune(report, opts.dryRun ?? false));
    });
}
