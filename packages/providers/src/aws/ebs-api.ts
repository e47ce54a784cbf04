/**
 * What every EBS direct API call needs besides its input: the client, the account and region
 * (for limiter keys and messages) and the limiters. The EBS direct APIs have their own quotas,
 * counted per account and region (GetSnapshotBlock, PutSnapshotBlock, the List* calls, and
 * CompleteSnapshot each separately), and some per snapshot (RequestThrottledException with reason
 * RESOURCE_LEVEL_THROTTLE): each family gets its own limiter key so that one family's burst never
 * spends another's budget.
 */
import type { EBSClient } from '@aws-sdk/client-ebs';
import type { RateLimiter } from '@snapfleet/shared';
import { DEFAULT_AWS_RETRY, type AwsCallContext, type AwsRetryOptions } from './aws-call.js';

export interface EbsLimiters {
  /** GetSnapshotBlock and PutSnapshotBlock, keys `ebs:` and `ebs-put:<account>:<region>`. */
  blocks: RateLimiter;
  /** ListSnapshotBlocks and ListChangedBlocks, key `ebs-list:<account>:<region>`. @defaultValue blocks */
  lists?: RateLimiter;
  /** StartSnapshot and CompleteSnapshot, key `ebs-control:<account>:<region>`. @defaultValue lists */
  control?: RateLimiter;
  /**
   * Taken in addition for block calls, keyed per snapshot
   * (`ebs-snapshot:<account>:<region>:<snapshot>`), where the API limits one snapshot's requests.
   * @defaultValue none: the account budget alone
   */
  perSnapshot?: RateLimiter;
}

export interface EbsApi {
  /** Built with `maxAttempts: 1`: callAws does the retrying, under the limiter. */
  client: EBSClient;
  /** The AWS account id, for limiter keys shared by every worker of the account. */
  account: string;
  region: string;
  limiters: EbsLimiters;
  /** @defaultValue EBS_DEFAULT_TIMEOUT_MS */
  timeoutMs?: number;
  /** @defaultValue DEFAULT_AWS_RETRY */
  retry?: AwsRetryOptions;
  signal?: AbortSignal;
  /** Waits between retries; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * One GetSnapshotBlock or PutSnapshotBlock moves 512 KiB; 30 s allows a congested link of
 * ~20 KiB/s before the attempt is abandoned and retried on a fresh connection.
 */
export const EBS_DEFAULT_TIMEOUT_MS = 30_000;

export type EbsCallFamily = 'get' | 'put' | 'list' | 'control';

const KEY_PREFIX: Record<EbsCallFamily, string> = { get: 'ebs', put: 'ebs-put', list: 'ebs-list', control: 'ebs-control' };

export function ebsLimitKey(family: EbsCallFamily, account: string, region: string): string {
  return `${KEY_PREFIX[family]}:${account}:${region}`;
}

/** The callAws context of one call of `family`, on `snapshotId` for the per-snapshot limit. */
export function ebsCallContext(api: EbsApi, family: EbsCallFamily, snapshotId?: string): AwsCallContext {
  const { limiters } = api;
  const lists = limiters.lists ?? limiters.blocks;
  const account = family === 'get' || family === 'put' ? limiters.blocks : family === 'list' ? lists : (limiters.control ?? lists);
  const perSnapshot = (family === 'get' || family === 'put') && snapshotId !== undefined ? limiters.perSnapshot : undefined;
  return {
    limiter: perSnapshot ? bothLimits(account, perSnapshot, `ebs-snapshot:${api.account}:${api.region}:${snapshotId}`) : account,
    limitKey: ebsLimitKey(family, api.account, api.region),
    timeoutMs: api.timeoutMs ?? EBS_DEFAULT_TIMEOUT_MS,
    retry: api.retry ?? DEFAULT_AWS_RETRY,
    ...(api.signal ? { signal: api.signal } : {}),
    ...(api.sleep ? { sleep: api.sleep } : {}),
  };
}

/**
 * A limiter that takes the caller's key from `first` and `secondKey` from `second`, so one callAws
 * attempt counts against both the account and the snapshot budget.
 */
function bothLimits(first: RateLimiter, second: RateLimiter, secondKey: string): RateLimiter {
  return {
    points: Math.min(first.points, second.points),
    durationMs: Math.max(first.durationMs, second.durationMs),
    async take(key, cost, signal) {
      await first.take(key, cost, signal);
      await second.take(secondKey, cost, signal);
    },
    // Not atomic across the two: a point taken from `first` is spent even when `second` says
    // wait. Only job re-delays use tryTake; a slightly early re-delay costs nothing.
    async tryTake(key, cost) {
      const wait = await first.tryTake(key, cost);
      return wait > 0 ? wait : second.tryTake(secondKey, cost);
    },
  };
}
