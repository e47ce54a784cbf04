/** `snapfleet init`: creates a repository (encrypted unless --no-encryption). */
import type { Command } from 'commander';
import {
  initRepository,
  DEFAULT_CHUNK_SIZE,
  FORMAT_VERSION,
  InvalidInputError,
  MAX_OBJECT_LOCK_DAYS,
  OLDEST_FORMAT_VERSION,
  PACK_STORAGE_CLASSES,
  type ObjectLockConfig,
  type PackStorageClass,
} from '@snapfleet/shared';
import type { CliContext, RepoOptions } from '../context.js';
import { readPassword } from '../password.js';
import { openSourceRepo, repoUrl, storeFor } from '../repository-access.js';
import { parseIntFlag, parseSize } from '../units.js';
import { withRepoOptions } from './common.js';
import { keyOrigin } from './key.js';

interface InitOptions extends RepoOptions {
  encryption: boolean;
  chunkSize?: string;
  formatVersion?: string;
  packStorageClass?: string;
  objectLock?: string;
  objectLockDays?: string;
  copyIdKeyFrom?: string;
  fromPasswordFile?: string;
}

/** `--object-lock MODE --object-lock-days N`, both or neither, for s3:// repositories. */
function objectLock(opts: InitOptions, url: string): ObjectLockConfig | undefined {
  if (opts.objectLock === undefined && opts.objectLockDays === undefined) return undefined;
  if (opts.objectLock === undefined) throw new InvalidInputError('--object-lock-days needs --object-lock governance|compliance', 'object-lock');
  if (opts.objectLockDays === undefined)
    throw new InvalidInputError('--object-lock needs --object-lock-days: the minimum retention of every pack and snapshot', 'object-lock-days');
  if (!url.startsWith('s3://')) throw new InvalidInputError(`--object-lock applies to s3:// repositories only, not to ${url}`, 'object-lock');
  const mode = opts.objectLock.toUpperCase();
  if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE')
    throw new InvalidInputError(`--object-lock ${opts.objectLock} is not governance or compliance`, 'object-lock');
  return { mode, days: parseIntFlag(opts.objectLockDays, 'object-lock-days', 1, MAX_OBJECT_LOCK_DAYS) };
}

/** The storage class `--pack-storage-class` names, checked against what the repository URL is. */
function packStorageClass(value: string | undefined, url: string): PackStorageClass | undefined {
  if (value === undefined) return undefined;
  if (!url.startsWith('s3://')) throw new InvalidInputError(`--pack-storage-class applies to s3:// repositories only, not to ${url}`, 'pack-storage-class');
  if ((PACK_STORAGE_CLASSES as readonly string[]).includes(value)) return value as PackStorageClass;
  throw new InvalidInputError(`--pack-storage-class ${value} is not one of ${PACK_STORAGE_CLASSES.join(', ')}`, 'pack-storage-class');
}

export function registerInit(program: Command, ctx: CliContext): void {
  withRepoOptions(program.command('init').description('create a repository'))
    .option('--no-encryption', 'store data unencrypted (ids stay keyed)')
    .option('--chunk-size <size>', `deduplication unit, a power of two from 4KiB to 4MiB (default ${DEFAULT_CHUNK_SIZE / 1024}KiB)`)
    .option(
      '--pack-storage-class <class>',
      `S3 storage class of the packs (${PACK_STORAGE_CLASSES.join(', ')}); index, snapshots and the rest stay STANDARD, and with GLACIER or DEEP_ARCHIVE the manifests too (restores then need --retrieve) (default: the bucket's default)`,
    )
    .option(
      '--object-lock <mode>',
      'S3 Object Lock, governance or compliance: packs, snapshots, key files and the config are written with retention, and prune extends it for what is live (the bucket must have Object Lock enabled; docs/aws.md)',
    )
    .option('--object-lock-days <n>', `the retention, in days (1-${MAX_OBJECT_LOCK_DAYS}): how long every snapshot is immutable after it is taken`)
    .option(
      '--copy-id-key-from <repo>',
      'share the id key (and chunk size) of this repository, so that `snapfleet copy` can copy its snapshots here as they are; its password from --from-password-file or $SNAPFLEET_FROM_PASSWORD',
    )
    .option('--from-password-file <file>', "with --copy-id-key-from: read that repository's password from a file")
    .option(
      '--format-version <n>',
      `repository format version, ${OLDEST_FORMAT_VERSION}-${FORMAT_VERSION}; 1 stays usable by releases before format 2 (default ${FORMAT_VERSION})`,
    )
    .action(async (opts: InitOptions) => {
      const password = await readPassword(opts.passwordFile, ctx.env);
      if (opts.encryption && !password)
        throw new InvalidInputError('init needs a password: set SNAPFLEET_PASSWORD or --password-file, or pass --no-encryption', 'password');
      const chunkSize = opts.chunkSize ? parseSize(opts.chunkSize, 'chunk-size') : undefined;
      const formatVersion = opts.formatVersion ? parseIntFlag(opts.formatVersion, 'format-version', OLDEST_FORMAT_VERSION, FORMAT_VERSION) : undefined;
      const packClass = packStorageClass(opts.packStorageClass, repoUrl(opts, ctx));
      const lock = objectLock(opts, repoUrl(opts, ctx));
      if (opts.fromPasswordFile && !opts.copyIdKeyFrom) throw new InvalidInputError('--from-password-file goes with --copy-id-key-from', 'from-password-file');
      const donor = opts.copyIdKeyFrom ? await openSourceRepo(opts.copyIdKeyFrom, opts.fromPasswordFile, ctx) : undefined;
      const repo = await initRepository(await storeFor(opts, ctx), {
        encrypted: opts.encryption,
        ...(password ? { password } : {}),
        ...(chunkSize ? { chunkSize } : {}),
        ...(formatVersion ? { formatVersion } : {}),
        keyOrigin: keyOrigin(ctx),
        ...(packClass ? { packStorageClass: packClass } : {}),
        ...(lock ? { objectLock: lock } : {}),
        clock: ctx.clock,
        ...(donor ? { copyIdKeyFrom: donor } : {}),
      });
      const summary = {
        repository: repoUrl(opts, ctx),
        id: repo.config.id,
        encrypted: opts.encryption,
        chunkSize: repo.chunkSize,
        formatVersion: repo.config.version,
        ...(packClass ? { packStorageClass: packClass } : {}),
        ...(lock ? { objectLock: lock } : {}),
      };
      ctx.stdout.write(
        opts.json
          ? JSON.stringify(summary) + '\n'
          : `created ${summary.encrypted ? 'encrypted' : 'unencrypted'} repository ${summary.id} at ${summary.repository}${lock ? ` under Object Lock (${lock.mode.toLowerCase()}, ${lock.days} days)` : ''}\n`,
      );
    });
}
