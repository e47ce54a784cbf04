/**
 * The EBS side of `snapfleet restore --to ebs:REGION[/AZ]`: its settings (encryption, from the
 * flags or a fleet config), the target, and where its API budgets live. Standalone, the limiters count this process only; with REDIS_URL set they are the
 * fleet's (same names and prefix), so a restore next to running workers shares their AWS quotas.
 */
import type { Redis } from 'ioredis';
import { InvalidInputError, type SnapshotEntry } from '@snapfleet/shared';
import { fleetKeyPrefix, kmsKeyRegion } from '@snapfleet/shared/config';
import { createMemoryRateLimiter, createRedisRateLimiter } from '@snapfleet/providers/fleet';
import type { EbsSnapshotTarget, LimiterMaker } from '@snapfleet/providers/aws';
import type { CliContext } from '../context.js';
import type { EbsDestination } from '../ebs-destination.js';
import { loadFleetConfig } from '../fleet/fleet-config-file.js';
import { redisConnection } from '../fleet/fleet-redis.js';

/** The fleet's default Redis key prefix (fleet.prefix in fleet.yaml). */
const DEFAULT_PREFIX = 'snapfleet';
/** AWS states its quotas per second; the limiters count in one-second windows. */
const LIMIT_WINDOW_MS = 1000;

export interface EbsRestoreDestination {
  target: EbsSnapshotTarget;
  close(): void;
}

/** What `restore` was told about an EBS destination beyond ebs:REGION[/AZ]. */
export interface EbsRestoreFlags {
  prefix?: string;
  /** A fleet config whose aws provider gives defaults: `restore` encryption, account, prefix. */
  config?: string;
  ebsEncrypted?: boolean;
  ebsKmsKey?: string;
}

/** The settings of one EBS restore, checked before anything is read or written. */
export interface EbsRestoreSettings {
  dest: EbsDestination;
  prefix: string;
  accountId?: string;
  encrypted: boolean;
  kmsKeyArn?: string;
}

/**
 * Resolves the flags against the config (flags win) and checks them: a KMS key must be an ARN in
 * the destination region, since KMS keys are regional and StartSnapshot takes ARNs only.
 */
export async function resolveEbsRestore(dest: EbsDestination, flags: EbsRestoreFlags, ctx: CliContext): Promise<EbsRestoreSettings> {
  let fromConfig: { prefix?: string; accountId?: string; encrypted?: boolean; kmsKeyArn?: string } = {};
  if (flags.config) {
    const config = await loadFleetConfig(flags.config, ctx.env);
    if (config.provider.kind !== 'aws')
      throw new InvalidInputError(`--config ${flags.config}: its provider is not "aws", so it says nothing about EBS restores`, 'config');
    const p = config.provider;
    fromConfig = {
      prefix: config.fleet.prefix,
      encrypted: p.restore.encrypted,
      ...(p.accountId ? { accountId: p.accountId } : {}),
      ...(p.restore.kmsKeyArns[dest.region] ? { kmsKeyArn: p.restore.kmsKeyArns[dest.region] } : {}),
    };
  }
  if (flags.ebsKmsKey !== undefined) {
    const region = kmsKeyRegion(flags.ebsKmsKey);
    if (region === undefined)
      throw new InvalidInputError(`--ebs-kms-key: not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or .../alias/NAME)`, 'ebs-kms-key');
    if (region !== dest.region)
      throw new InvalidInputError(`--ebs-kms-key: the key is in ${region}, the restore goes to ${dest.region} (KMS keys are regional)`, 'ebs-kms-key');
  }
  const prefix = flags.prefix ?? fromConfig.prefix ?? DEFAULT_PREFIX;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(prefix)) throw new InvalidInputError(`--prefix ${prefix}: letters, digits, "_", "." and "-" only`, 'prefix');
  const envAccount = ctx.env.AWS_ACCOUNT_ID && /^\d{12}$/.test(ctx.env.AWS_ACCOUNT_ID) ? ctx.env.AWS_ACCOUNT_ID : undefined;
  const accountId = envAccount ?? fromConfig.accountId;
  const kmsKeyArn = flags.ebsKmsKey ?? fromConfig.kmsKeyArn;
  return {
    dest,
    prefix,
    ...(accountId ? { accountId } : {}),
    encrypted: Boolean(flags.ebsEncrypted || fromConfig.encrypted || kmsKeyArn),
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
  };
}

export async function openEbsRestoreTarget(settings: EbsRestoreSettings, snapshot: SnapshotEntry, ctx: CliContext): Promise<EbsRestoreDestination> {
  const { dest, accountId } = settings;
  let { prefix } = settings;
  let redis: Redis | undefined;
  if (ctx.env.REDIS_URL) {
    const connector = redisConnection(ctx);
    prefix = fleetKeyPrefix(prefix, connector.spec);
    redis = connector.client(undefined, { maxRetriesPerRequest: 3 });
    redis.on('error', (err: Error) => ctx.stderr.write(`snapfleet: warning: redis (rate limits): ${err.message}\n`));
  }
  const makeLimiter: LimiterMaker = (name, points) =>
    redis
      ? createRedisRateLimiter(redis, { name, points, durationMs: LIMIT_WINDOW_MS, prefix })
      : createMemoryRateLimiter({ points, durationMs: LIMIT_WINDOW_MS });
  const { volumeId } = snapshot.snapshot;
  // Loaded here, not at start-up: see lazy-aws-provider.ts.
  const { createEbsRestoreTarget } = await import('@snapfleet/providers/aws');
  const handle = createEbsRestoreTarget({
    region: dest.region,
    ...(dest.availabilityZone ? { availabilityZone: dest.availabilityZone } : {}),
    makeLimiter,
    ...(accountId ? { accountId } : {}),
    description: `snapfleet restore of ${volumeId} snapshot ${snapshot.id.slice(0, 8)}`,
    restoredFrom: snapshot.id,
    tags: { 'snapfleet:volume-id': volumeId },
    encrypted: settings.encrypted,
    ...(settings.kmsKeyArn ? { kmsKeyArn: settings.kmsKeyArn } : {}),
    log: { warn: (_fields: object, msg?: string) => ctx.stderr.write(`snapfleet: warning: ${msg ?? ''}\n`) },
  });
  return {
    target: handle.target,
    close() {
      handle.close();
      redis?.disconnect();
    },
  };
}
