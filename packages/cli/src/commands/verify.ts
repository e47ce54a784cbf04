/** `snapfleet verify`: reads packs back and checks every blob; exit code 3 when anything is wrong. */
import type { Command } from 'commander';
import { describeRanges, verifyRepository, verifySnapshot, type Problem, type VerifyReport } from '@snapfleet/shared';
import { createThreadCodecPool } from '@snapfleet/providers';
import { EXIT } from '../exit-codes.js';
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

function describe(p: Problem): string {
  const where = p.affected
    .map((a) => {
      const blocks = a.ranges?.length
        ? ` block${a.damagedChunks === 1 ? '' : 's'} ${describeRanges(a.ranges)}${a.damagedChunks! > a.ranges.reduce((n, r) => n + r[1], 0) ? ', ...' : ''} (${a.damagedChunks} in all)`
        : a.chunks.length
          ? ` blocks ${a.chunks.join(', ')}`
          : '';
      return `snapshot ${a.snapshotId.slice(0, 8)}${a.volumeId === '?' ? '' : ` (${a.volumeId})`}${blocks}`;
    })
    .join('; ');
  return `${p.kind}: ${p.message}${where ? `\n    affects ${where}` : ''}`;
}

function summaryLines(report: VerifyReport): string {
  const s = report.summary;
  if (!s) return '';
  const lines = [`${s.restorable} of ${report.snapshots} snapshot(s) restore whole`];
  for (const d of s.damaged) {
    const lost = d.damagedChunks === undefined ? 'its manifest or object is damaged' : `${d.damagedChunks} block(s) of ${d.chunkSize} bytes lost`;
    lines.push(`  snapshot ${d.snapshotId.slice(0, 8)}${d.volumeId === '?' ? '' : ` (${d.volumeId})`}: ${lost}`);
  }
  if (s.recordedPacks > 0)
    lines.push(`recorded ${s.recordedPacks} damaged pack(s): archives store their content afresh; \`snapfleet repair packs\` salvages them`);
  return lines.join('\n') + '\n';
}

/** Exit status by the worst problem: 3 data lost, 5 only repairable objects damaged, 0 notices only (docs/cli.md). */
export function verifyExitCode(problems: readonly Problem[]): number {
  if (problems.some((p) => p.severity === 'data')) return EXIT.problemsFound;
  if (problems.some((p) => p.severity === 'metadata')) return EXIT.repairable;
  return EXIT.ok;
}

export function registerVerify(program: Command, ctx: CliContext, setExitCode: (code: number) => void): void {
  withRepoOptions(program.command('verify').description('check that every snapshot (or one) can be restored'))
    .option('--read-data-subset <pct>', 'read back only this percentage of packs, chosen at random (default 100%)')
    .option('--snapshot <id>', 'check only this snapshot (id, unique prefix, or "latest"), reading only the packs it needs')
    .option('--volume-id <id>', "with --snapshot: pick among this volume's snapshots")
    .action(async (opts: VerifyOptions) => {
      const fraction = opts.readDataSubset !== undefined ? parsePercent(opts.readDataSubset, 'read-data-subset') : 1;
      const repo = await openRepo(opts, ctx);
      const pool = createThreadCodecPool(repo.keys);
      const bar = progressBar('verify', opts, ctx);
      try {
        const verifyOptions = { readDataFraction: fraction, recordAt: ctx.clock.now(), ...(bar.listener ? { onProgress: bar.listener } : {}) };
        const report = opts.snapshot
          ? await verifySnapshot(repo, pool, await repo.findSnapshot(opts.snapshot, opts.volumeId), verifyOptions)
          : await verifyRepository(repo, pool, verifyOptions);
        bar.stop();
        if (opts.json) ctx.stdout.write(JSON.stringify(report) + '\n');
        else {
          const packs = opts.snapshot
            ? `read ${report.packsRead} of the ${report.packsTotal} packs it needs`
            : `read ${report.packsRead} of ${report.packsTotal} packs`;
          ctx.stdout.write(`checked ${report.snapshots} snapshot${report.snapshots === 1 ? '' : 's'}, ${packs}, ${report.blobsChecked} blobs\n`);
          if (report.packsArchived)
            ctx.stdout.write(`  ${report.packsArchived} pack(s) in an archive storage class without a retrieved copy were not read back\n`);
          for (const p of report.problems) ctx.stdout.write(`  ${describe(p)}\n`);
          const serious = report.problems.filter((p) => p.severity !== 'notice').length;
          ctx.stdout.write(serious === 0 ? 'no errors found\n' : `${serious} problem(s) found\n`);
          if (serious > 0) ctx.stdout.write(summaryLines(report));
        }
        const code = verifyExitCode(report.problems);
        if (code !== EXIT.ok) setExitCode(code);
      } finally {
        bar.stop();
        await pool.close();
      }
    });
}
