/**
 * The EBS side of `snapfleet restore --to ebs:REGION[/AZ]`: the target, and where its API
 * budgets live. Standalone, the limiters count this process only; with REDIS_URL set they are the
 * fleet's (same names and prefix), so a restore next to running workers shares their AWS quotas.
 */
import { Redis } from 'ioredis';
import { InvalidInputError, type SnapshotEntry } from '@snapfleet/shared';
import { createMemoryRateLimiter, createRedisRateLimiter } from '@snapfleet/providers/fleet';
import type { EbsSnapshotTarget, LimiterMaker } from '@snapfleet/providers/aws';
import type { CliContext } from '../context.js';
import type { EbsDestination } from '../ebs-destination.js';
import { redisConnection } from './fleet-common.js';

/** The fleet's default Redis key prefix (fleet.prefix in fleet.yaml). */
const DEFAULT_PREFIX = 'snapfleet';
/** AWS states its quotas per second; the limiters count in one-second windows. */
const LIMIT_WINDOW_MS = 1000;

export interface EbsRestoreDestination {
  target: EbsSnapshotTarget;
  close(): void;
}

export async function openEbsRestoreTarget(dest: EbsDestination, snapshot: SnapshotEntry, ctx: CliContext, prefixOption?: string): Promise<EbsRestoreDestination> {
  const prefix = prefixOption ?? DEFAULT_PREFIX;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(prefix)) throw new InvalidInputError(`--prefix ${prefix}: letters, digits, "_", "." and "-" only`, 'prefix');
  let redis: Redis | undefined;
  if (ctx.env.REDIS_URL) {
    redis = new Redis({ ...redisConnection(ctx), maxRetriesPerRequest: 3 });
    redis.on('error', (err: Error) => ctx.stderr.write(`snapfleet: warning: redis (rate limits): ${err.message}\n`));
  }
  const makeLimiter: LimiterMaker = (name, points) =>
    redis ? createRedisRateLimiter(redis, { name, points, durationMs: LIMIT_WINDOW_MS, prefix }) : createMemoryRateLimiter({ points, durationMs: LIMIT_WINDOW_MS });
  const accountId = ctx.env.AWS_ACCOUNT_ID && /^\d{12}$/.test(ctx.env.AWS_ACCOUNT_ID) ? ctx.env.AWS_ACCOUNT_ID : undefined;
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
