/**
 * `snapfleet maintenance`: adoption of orphan packs, then index compaction (docs/format.md,
 * "Index compaction"). Archives write one index object per pack; merging them keeps the cost of
 * opening the repository at a few large reads. Safe while archives run; waits for no one, and
 * stops if a prune holds the repository (they share one lease). Every prune does the same.
 */
import type { Command } from 'commander';
import { compactIndex, type CompactionReport, type MaintenanceReport } from '@snapfleet/shared';
import { localProcessIdentity } from '@snapfleet/providers';
import type { CliContext, RepoOptions } from '../context.js';
import { openRepo } from '../repository-access.js';
import { withRepoOptions } from './common.js';

export function describeCompaction(r: CompactionReport): string {
  if (r.merged === 0) return `index: ${r.objectsBefore} objects, nothing to merge\n`;
  return `index: merged ${r.merged} of ${r.objectsBefore} objects into ${r.written} (${r.packs} packs, ${r.blobs} blobs); ${r.objectsAfter} objects now\n`;
}

function describeAdoption(r: MaintenanceReport): string {
  return r.adoptedPacks > 0 ? `adopted ${r.adoptedPacks} pack(s) stored without an index object\n` : '';
}

export function registerMaintenance(program: Command, ctx: CliContext): void {
  withRepoOptions(program.command('maintenance').description('compact the index so that opening the repository stays cheap (safe while archives run)')).action(
    async (opts: RepoOptions) => {
      const repo = await openRepo(opts, ctx);
      const identity = localProcessIdentity();
      const report = await compactIndex(repo, { clock: ctx.clock, hostname: ctx.hostname, ...(identity ? { identity } : {}) });
      ctx.stdout.write(opts.json ? JSON.stringify(report) + '\n' : describeAdoption(report) + describeCompaction(report));
    },
  );
}
