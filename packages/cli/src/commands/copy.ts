/**
 * `snapfleet copy --from R1 --to R2`: replicates snapshots into a second repository (another
 * folder, bucket or region, with its own password), only what it lacks (engine/copy.ts). The
 * target must share the source's id key: `snapfleet init --repo R2 --copy-id-key-from R1`.
 */
import type { Command } from 'commander';
import { copySnapshots, InvalidInputError, type CopiedSnapshot, type SnapshotEntry } from '@snapfleet/shared';
import { createThreadCodecPool, localProcessIdentity } from '@snapfleet/providers';
import type { CliContext } from '../context.js';
import { openRepo, openSourceRepo } from '../repository-access.js';
import { mib } from './common.js';

interface CopyFlags {
  from?: string;
  to?: string;
  fromPasswordFile?: string;
  passwordFile?: string;
  snapshot?: string[];
  volumeId?: string;
  json?: boolean;
  quiet?: boolean;
}

function describe(o: CopiedSnapshot): string {
  return o.copied ? `copied ${o.id} (${o.volumeId}): ${o.blobs} blobs, ${mib(o.bytes)}\n` : `${o.id} (${o.volumeId}) is there already\n`;
}

export function registerCopy(program: Command, ctx: CliContext): void {
  program
    .command('copy')
    .description('copy snapshots into a second repository (its own password and keys; the same id key): only what it lacks, resumable')
    .option('--from <repo>', 'the repository to copy from: a folder path or s3://bucket/prefix')
    .option('--to <repo>', 'the repository to copy into (default: $SNAPFLEET_REPOSITORY); create it with `snapfleet init --copy-id-key-from`')
    .option('--from-password-file <file>', 'read the source password from a file (default: $SNAPFLEET_FROM_PASSWORD)')
    .option('--password-file <file>', 'read the target password from a file (default: $SNAPFLEET_PASSWORD)')
    .option('--snapshot <id>', 'copy only this snapshot (id, unique prefix or latest); repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--volume-id <id>', "copy only this volume's snapshots (with --snapshot latest: that volume's newest)")
    .option('--json', 'machine-readable output on stdout')
    .option('-q, --quiet', 'no progress output')
    .action(async (opts: CopyFlags) => {
      if (!opts.from) throw new InvalidInputError('copy needs --from: the repository to copy from', 'from');
      const to = opts.to ?? ctx.env.SNAPFLEET_REPOSITORY;
      if (!to) throw new InvalidInputError('copy needs --to (or SNAPFLEET_REPOSITORY): the repository to copy into', 'to');
      if (to === opts.from) throw new InvalidInputError('--from and --to name the same repository', 'to');
      const source = await openSourceRepo(opts.from, opts.fromPasswordFile, ctx);
      const target = await openRepo({ repo: to, ...(opts.passwordFile ? { passwordFile: opts.passwordFile } : {}) }, ctx);
      let entries: SnapshotEntry[];
      if (opts.snapshot?.length) {
        entries = [];
        for (const ref of opts.snapshot) entries.push(await source.findSnapshot(ref, opts.volumeId));
      } else {
        entries = opts.volumeId ? await source.listVolumeSnapshots(opts.volumeId) : await source.listSnapshots();
      }
      const fromPool = createThreadCodecPool(source.keys);
      const toPool = createThreadCodecPool(target.keys);
      const identity = localProcessIdentity();
      try {
        const report = await copySnapshots(source, fromPool, target, toPool, entries, {
          clock: ctx.clock,
          hostname: ctx.hostname,
          ...(identity ? { identity } : {}),
          ...(opts.json ? {} : { onSnapshot: (o: CopiedSnapshot) => ctx.stdout.write(describe(o)) }),
        });
        ctx.stdout.write(
          opts.json
            ? JSON.stringify(report) + '\n'
            : `copied ${report.copied} of ${report.snapshots} snapshot(s) (${report.skipped} there already): ${report.blobs} blobs, ${mib(report.bytes)} into ${report.packs} pack(s) (${mib(report.storedBytes)} stored)\n`,
        );
      } finally {
        await Promise.all([fromPool.close(), toPool.close()]);
      }
    });
}
