/**
 * `snapfleet restore`: writes a snapshot back to a file (sparse, renamed into place), a device, or
 * a new EBS snapshot (`--to ebs:REGION[/AZ]`, and a volume from it in AZ).
 */
import type { Command } from 'commander';
import { InvalidInputError, restoreSnapshot, startCodecThreads, type Repository, type RestoreStats, type SnapshotEntry } from '@snapfleet/shared';
import { LocalVolumeTarget } from '@snapfleet/providers';
import { damagedWarning, type CliContext, type RepoOptions } from '../context.js';
import { parseEbsDestination } from '../ebs-destination.js';
import { openRepo } from '../repository-access.js';
import { progressBar } from '../progress-bar.js';
import { withRepoOptions } from './common.js';

interface RestoreOptions extends RepoOptions {
  snapshot: string;
  volumeId?: string;
  to: string;
  prefix?: string;
  config?: string;
  ebsEncrypted?: boolean;
  ebsKmsKey?: string;
  overwrite?: boolean;
}

export function registerRestore(program: Command, ctx: CliContext): void {
  withRepoOptions(program.command('restore').description('restore a snapshot to a file, a block device or a new EBS snapshot'))
    .requiredOption('--snapshot <id>', 'snapshot id, unique prefix, or "latest"')
    .option('--volume-id <id>', 'pick among this volume\'s snapshots')
    .requiredOption('--to <path>', 'destination file or block device, or ebs:REGION[/AZ] for a new EBS snapshot (and a volume in AZ)')
    .option('--prefix <prefix>', 'with --to ebs: and REDIS_URL, the fleet\'s Redis key prefix whose AWS rate limits to share (default "snapfleet")')
    .option('--overwrite', 'replace an existing destination file, or write to a mounted block device')
    .option('--ebs-encrypted', 'with --to ebs:, encrypt the new snapshot and volume (with the account\'s default KMS key unless --ebs-kms-key)')
    .option('--ebs-kms-key <arn>', 'with --to ebs:, the KMS key (ARN, in the destination region) to encrypt them with; implies --ebs-encrypted')
    .option('-c, --config <file>', 'with --to ebs:, a fleet config whose aws provider gives the defaults (provider.restore, accountId, fleet.prefix)')
    .action(async (opts: RestoreOptions) => {
      const ebs = parseEbsDestination(opts.to);
      const ebsOnly = (['ebsEncrypted', 'ebsKmsKey', 'config'] as const).find((k) => opts[k] !== undefined);
      if (!ebs && ebsOnly) {
        const flag = { ebsEncrypted: 'ebs-encrypted', ebsKmsKey: 'ebs-kms-key', config: 'config' }[ebsOnly];
        throw new InvalidInputError(`--${flag} applies to --to ebs:REGION[/AZ] only, not to a file or device`, flag);
      }
      // Checked before anything is opened: a bad key or config, or a destination that must not be
      // replaced, writes nothing.
      const ebsSettings = ebs ? await (await import('./restore-ebs-target.js')).resolveEbsRestore(ebs, opts, ctx) : undefined;
      const fileTarget = ebs ? undefined : new LocalVolumeTarget(opts.to, { overwrite: opts.overwrite ?? false });
      await fileTarget?.checkDestination();
      // The codec threads start while the repository opens and the snapshot is looked up.
      const threads = startCodecThreads();
      let repo: Repository;
      let snapshot: SnapshotEntry;
      try {
        repo = await openRepo(opts, ctx);
        snapshot = await repo.findSnapshot(opts.snapshot, opts.volumeId, damagedWarning(ctx));
      } catch (err) {
        await threads.close();
        throw err;
      }
      const pool = threads.withKeys(repo.keys);
      const bar = progressBar('restore', opts, ctx);
      const started = performance.now();
      // Loaded only for ebs: destinations: the EBS restore needs Redis and the AWS SDK.
      const ebsTarget = ebsSettings ? await (await import('./restore-ebs-target.js')).openEbsRestoreTarget(ebsSettings, snapshot, ctx) : undefined;
      try {
        const target = ebsTarget?.target ?? fileTarget!;
        const interrupt = ctx.onInterrupt(() => target.abort());
        let read: RestoreStats;
        try {
          read = await restoreSnapshot(repo, pool, { snapshot, target, ...(bar.listener ? { onProgress: bar.listener } : {}) });
        } finally {
          interrupt.release();
        }
        bar.stop();
        const seconds = (performance.now() - started) / 1000;
        const made = ebsTarget?.target.result;
        const summary = {
          snapshot: snapshot.id, volumeId: snapshot.snapshot.volumeId, to: opts.to, sizeBytes: snapshot.snapshot.sizeBytes, seconds, read,
          ...(made ? { ebsSnapshotId: made.snapshotId, ...(made.volumeId ? { ebsVolumeId: made.volumeId } : {}), ebsEncrypted: ebsSettings!.encrypted } : {}),
        };
        const where = made
          ? `EBS snapshot ${made.snapshotId} in ${ebs!.region}${made.volumeId ? ` and volume ${made.volumeId} in ${ebs!.availabilityZone}` : ''}`
          : opts.to;
        ctx.stdout.write(
          opts.json
            ? JSON.stringify(summary) + '\n'
            : `restored snapshot ${snapshot.id.slice(0, 8)} of ${summary.volumeId} to ${where} (${(summary.sizeBytes / 1e6 / seconds).toFixed(0)} MB/s)\n`,
        );
      } finally {
        bar.stop();
        ebsTarget?.close();
        await pool.close();
      }
    });
}
