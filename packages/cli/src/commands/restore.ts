/**
 * `snapfleet restore`: writes a snapshot back to a file (sparse, renamed into place), a device, or
 * a new EBS snapshot (`--to ebs:REGION[/AZ]`, and a volume from it in AZ).
 */
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  describeRanges,
  InvalidInputError,
  packsAwaitingRetrieval,
  restoreSnapshot,
  retrieveSnapshotPacks,
  RETRIEVAL_TIERS,
  type Repository,
  type RestoreStats,
  type RetrievalTier,
  type SnapshotEntry,
} from '@snapfleet/shared';
import { startCodecThreads, directIoFromEnv, LocalVolumeTarget } from '@snapfleet/providers';
import { damagedWarning, type CliContext, type RepoOptions } from '../context.js';
import { parseEbsDestination } from '../ebs-destination.js';
import { openRepo } from '../repository-access.js';
import { progressBar } from '../progress-bar.js';
import { parseIntFlag } from '../units.js';
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
  retrieve?: boolean;
  retrievalTier?: string;
  retrievalDays?: string;
}

/** The flags of a retrieval from an archive storage class, checked before anything is opened. */
function retrievalFlags(opts: RestoreOptions): { tier: RetrievalTier; days: number } {
  const tier = opts.retrievalTier ?? 'Standard';
  if (!(RETRIEVAL_TIERS as readonly string[]).includes(tier))
    throw new InvalidInputError(`--retrieval-tier ${tier} is not one of ${RETRIEVAL_TIERS.join(', ')}`, 'retrieval-tier');
  const days = parseIntFlag(opts.retrievalDays ?? '1', 'retrieval-days', 1, 365);
  return { tier: tier as RetrievalTier, days };
}

/**
 * A repository whose packs are in GLACIER or DEEP_ARCHIVE: with --retrieve, asks for copies of
 * the snapshot's packs and waits until all are readable; without, refuses while any is not.
 */
async function retrieveFirst(repo: Repository, snapshot: SnapshotEntry, opts: RestoreOptions, ctx: CliContext): Promise<void> {
  if (!repo.archivedPacks) return;
  const { tier, days } = retrievalFlags(opts);
  if (!opts.retrieve) {
    const { packs, notReadable } = await packsAwaitingRetrieval(repo, snapshot);
    if (notReadable > 0) {
      throw new InvalidInputError(
        `${notReadable} of the ${packs} packs snapshot ${snapshot.id.slice(0, 8)} needs are in ${repo.config.packStorageClass} without a retrieved copy: restore with --retrieve (it asks for copies and waits, hours)`,
        'retrieve',
      );
    }
    return;
  }
  const report = await retrieveSnapshotPacks(repo, snapshot, {
    days,
    tier,
    clock: ctx.clock,
    sleep: (ms) => sleep(ms),
    ...(opts.quiet
      ? {}
      : {
          onProgress: (p: { packs: number; readable: number; waitedMs: number }) =>
            ctx.stderr.write(`retrieval: ${p.readable} of ${p.packs} packs readable after ${Math.round(p.waitedMs / 60_000)} min\n`),
        }),
  });
  if (!opts.quiet) ctx.stderr.write(`retrieval: asked for ${report.requested} pack(s) (${tier}, readable for ${days} day(s)); all ${report.packs} readable\n`);
}

export function registerRestore(program: Command, ctx: CliContext): void {
  withRepoOptions(program.command('restore').description('restore a snapshot to a file, a block device or a new EBS snapshot'))
    .requiredOption('--snapshot <id>', 'snapshot id, unique prefix, or "latest"')
    .option('--volume-id <id>', "pick among this volume's snapshots")
    .requiredOption('--to <path>', 'destination file or block device, or ebs:REGION[/AZ] for a new EBS snapshot (and a volume in AZ)')
    .option('--prefix <prefix>', 'with --to ebs: and REDIS_URL, the fleet\'s Redis key prefix whose AWS rate limits to share (default "snapfleet")')
    .option('--overwrite', 'replace an existing destination file, or write to a mounted block device')
    .option('--ebs-encrypted', "with --to ebs:, encrypt the new snapshot and volume (with the account's default KMS key unless --ebs-kms-key)")
    .option('--ebs-kms-key <arn>', 'with --to ebs:, the KMS key (ARN, in the destination region) to encrypt them with; implies --ebs-encrypted')
    .option('--retrieve', "packs in GLACIER or DEEP_ARCHIVE: ask S3 for readable copies of the snapshot's packs and wait for them (hours) before restoring")
    .option('--retrieval-tier <tier>', `with --retrieve: ${RETRIEVAL_TIERS.join(', ')} (default Standard; Expedited only for GLACIER)`)
    .option('--retrieval-days <n>', 'with --retrieve: how long the copies stay readable, in days (default 1)')
    .option('-c, --config <file>', 'with --to ebs:, a fleet config whose aws provider gives the defaults (provider.restore, accountId, fleet.prefix)')
    .action(async (opts: RestoreOptions) => {
      retrievalFlags(opts);
      const ebs = parseEbsDestination(opts.to);
      const ebsOnly = (['ebsEncrypted', 'ebsKmsKey', 'config'] as const).find((k) => opts[k] !== undefined);
      if (!ebs && ebsOnly) {
        const flag = { ebsEncrypted: 'ebs-encrypted', ebsKmsKey: 'ebs-kms-key', config: 'config' }[ebsOnly];
        throw new InvalidInputError(`--${flag} applies to --to ebs:REGION[/AZ] only, not to a file or device`, flag);
      }
      // Checked before anything is opened: a bad key or config, or a destination that must not be
      // replaced, writes nothing.
      const ebsSettings = ebs ? await (await import('./restore-ebs-target.js')).resolveEbsRestore(ebs, opts, ctx) : undefined;
      const fileTarget = ebs ? undefined : new LocalVolumeTarget(opts.to, { overwrite: opts.overwrite ?? false, ...directIoOption(ctx.env) });
      await fileTarget?.checkDestination();
      // The codec threads load their modules while the repository opens and the snapshot's pack
      // headers are read: on 2 cores that took a quarter of a second off a 2 GiB restore.
      const threads = startCodecThreads();
      threads.warm();
      let repo: Repository;
      let snapshot: SnapshotEntry;
      try {
        repo = await openRepo(opts, ctx);
        snapshot = await repo.findSnapshot(opts.snapshot, opts.volumeId, damagedWarning(ctx));
        await retrieveFirst(repo, snapshot, opts, ctx);
      } catch (err) {
        await threads.close();
        throw err;
      }
      const pool = threads.withKeys(repo.keys);
      const damaged = snapshot.snapshot.damaged;
      if (damaged?.length) {
        const blocks = damaged.reduce((n, r) => n + r[1], 0);
        ctx.stderr.write(
          `snapfleet: warning: snapshot ${snapshot.id.slice(0, 8)} was repaired: ${blocks} block(s) of ${snapshot.snapshot.chunkSize} bytes lost to damage are restored as zeros (blocks ${describeRanges(damaged.slice(0, 20))}${damaged.length > 20 ? ', ...' : ''})\n`,
        );
      }
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
          ...(damaged?.length ? { damaged } : {}),
          snapshot: snapshot.id,
          volumeId: snapshot.snapshot.volumeId,
          to: opts.to,
          sizeBytes: snapshot.snapshot.sizeBytes,
          seconds,
          read,
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

/** SNAPFLEET_DIRECT_IO, when set, decides for the restore target too. */
function directIoOption(env: Readonly<Record<string, string | undefined>>): { directIo?: boolean } {
  const directIo = directIoFromEnv(env);
  return directIo === undefined ? {} : { directIo };
}
