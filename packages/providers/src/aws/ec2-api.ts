/**
 * What every EC2 call of the provider needs: a client per region, the account (for limiter keys),
 * the limiters, the timeout and the retry policy. EC2 throttles per account and region with
 * separate token buckets for describe calls and for mutating calls (create, copy, delete), so the
 * two families take from separate limiters; both use the key `ec2:<account>:<region>` and are
 * told apart by the limiter's own name (its Redis key prefix).
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { RateLimiter } from '@snapfleet/shared';
import { callAws, DEFAULT_AWS_RETRY, type AwsCallContext, type AwsRetryOptions } from './aws-call.js';

export interface Ec2Limiters {
  /** DescribeVolumes, DescribeSnapshots, DescribeInstances. */
  describe: RateLimiter;
  /** CreateSnapshot(s), CopySnapshot, DeleteSnapshot. @defaultValue describe */
  mutate?: RateLimiter;
}

export interface Ec2Api {
  /** The client of `region`, built with `maxAttempts: 1` (callAws retries under the limiter). */
  clientFor(region: string): EC2Client;
  /** The AWS account id, or "default": names the limiter bucket every worker of the account shares. */
  account: string;
  limiters: Ec2Limiters;
  /** @defaultValue EC2_DEFAULT_TIMEOUT_MS */
  timeoutMs?: number;
  /** @defaultValue DEFAULT_AWS_RETRY */
  retry?: AwsRetryOptions;
  /** Waits between retries; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
}

/** EC2 control-plane calls answer in well under a second; 30 s means the connection is stuck. */
export const EC2_DEFAULT_TIMEOUT_MS = 30_000;

export type Ec2CallFamily = 'describe' | 'mutate';

export function ec2LimitKey(account: string, region: string): string {
  return `ec2:${account}:${region}`;
}

export function ec2CallContext(api: Ec2Api, family: Ec2CallFamily, region: string): AwsCallContext {
  return {
    limiter: family === 'mutate' ? (api.limiters.mutate ?? api.limiters.describe) : api.limiters.describe,
    limitKey: ec2LimitKey(api.account, region),
    timeoutMs: api.timeoutMs ?? EC2_DEFAULT_TIMEOUT_MS,
    retry: api.retry ?? DEFAULT_AWS_RETRY,
    ...(api.sleep ? { sleep: api.sleep } : {}),
  };
}

/**
 * Sends one EC2 command in `region` through callAws. `what` names the call and the resource for
 * messages ("DescribeSnapshots token=snapshot-daily-vol-1-…"); the region is added here.
 */
export function ec2Send<T>(
  api: Ec2Api,
  region: string,
  family: Ec2CallFamily,
  what: string,
  send: (client: EC2Client, abortSignal: AbortSignal) => Promise<T>,
  options: { idempotent?: boolean } = {},
): Promise<T> {
  const client = api.clientFor(region);
  const ctx = { ...ec2CallContext(api, family, region), ...(options.idempotent === false ? { idempotent: false } : {}) };
  return callAws(`EC2 ${what} in ${region}`, ctx, (abortSignal) => send(client, abortSignal));
}

export interface Ec2ClientOptions {
  /** Endpoint override (VPC endpoint, test server) used for every region. */
  endpoint?: string;
}

/**
 * One EC2Client per region, built on first use. Credentials come from the SDK's default provider
 * chain (environment, profile, instance or task role); nothing here reads or logs them.
 */
export function ec2ClientFactory(options: Ec2ClientOptions = {}): (region: string) => EC2Client {
  const clients = new Map<string, EC2Client>();
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = new EC2Client({ region, maxAttempts: 1, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
      clients.set(region, client);
    }
    return client;
  };
}
