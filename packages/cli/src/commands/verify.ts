/** `snapfleet verify`: reads packs back and checks every blob; exit code 3 when anything is wrong. */
import type { Command } from 'commander';
import { createThreadCodecPool, verifyRepository, verifySnapshot, type Problem } from '@snapfleet/shared';
import type { CliContext, RepoOptions } from '../context.js';
import { openRepo } from '../repository-access.js';
import { progressBar } from '../progress-bar.js';
import { parsePercent } from '../units.js';
import { withRepoOptions } from './common.js';

interface VerifyOptions extends RepoOptions {
  readDataSubset?: string;
  snapshot?: string;
  volumeId?: string;
}

/** Exit status for "the repository has problems", as documented in docs/cli.md. */
export const EXIT_PROBLEMS = 3;

function describe(p: Problem): string {
  const where = p.affected
    .map((a) => {
      const blocks = a.chunks.length === 0 ? '' : ` block${a.chunks.length === 1 ? '' : 's'} ${a.chunks.join(', ')}`;
      return `snapshot ${a.snapshotId.slice(0, 8)}${a.volumeId === '?' ? '' : ` (${a.volumeId})`}${blocks}`;
    })
    .join('; ');
  return `${p.kind}: ${p.message}${where ? `\n    affects ${where}` : ''}`;
}

export function registerVerify(program: Command, ctx: CliContext, setExitCode: (code: number) => void): void {
  withRepoOptions(program.command('verify').description('check that every snapshot (or one) can be restored'))
    .option('--read-data-subset <pct>', 'read back only this percentage of packs, chosen at random (default 100%)')
    .option('--snapshot <id>', 'check only this snapshot (id, unique prefix, or "latest"), reading only the packs it needs')
    .option('--volume-id <id>', 'with --snapshot: pick among this volume\'s snapshots')
    .action(async (opts: VerifyOptions) => {
      const fraction = opts.readDataSubset !== undefined ? parsePercent(opts.readDataSubset, 'read-data-subset') : 1;
      const repo = await openRepo(opts, ctx);
      const pool = createThreadCodecPool(repo.keys);
      const bar = progressBar('verify', opts, ctx);
      try {
        const verifyOptions = { readDataFraction: fraction, ...(bar.listener ? { onProgress: bar.listener } : {}) };
        const report = opts.snapshot
          ? await verifySnapshot(repo, pool, await repo.findSnapshot(opts.snapshot, opts.volumeId), verifyOptions)
          : await verifyRepository(repo, pool, verifyOptions);
        bar.stop();
        if (opts.json) ctx.stdout.write(JSON.stringify(report) + '\n');
        else {
          const packs = opts.snapshot ? `read ${report.packsRead} of the ${report.packsTotal} packs it needs` : `read ${report.packsRead} of ${report.packsTotal} packs`;
          ctx.stdout.write(`checked ${report.snapshots} snapshot${report.snapshots === 1 ? '' : 's'}, ${packs}, ${report.blobsChecked} blobs\n`);
          if (report.packsArchived) ctx.stdout.write(`  ${report.packsArchived} pack(s) in an archive storage class without a retrieved copy were not read back\n`);
          for (const p of report.problems) ctx.stdout.write(`  ${describe(p)}\n`);
          ctx.stdout.write(report.problems.length === 0 ? 'no errors found\n' : `${report.problems.length} problem(s) found\n`);
        }
        if (report.problems.length > 0) setExitCode(EXIT_PROBLEMS);
      } finally {
        bar.stop();
        await pool.close();
      }
    });
}
