/**
 * Builds the AWS provider from the fleet configuration: an EC2 and an EBS client per region
 * (built on first use, `maxAttempts: 1` because callAws retries under the limiter, credentials
 * from the SDK's default chain), and one limiter per API family at the configured rates (with
 * per-region overrides). The
 * caller (a composition root) decides where limiters live: Redis for a fleet, memory for one
 * process.
 */
import { EBSClient } from '@aws-sdk/client-ebs';
import type { Clock, RateLimiter, VolumeSelectorSpec } from '@snapfleet/shared';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import type { AwsLimitsConfig, AwsProviderConfig, AwsRegionLimitsConfig } from '@snapfleet/shared/config';
import type { EbsApi } from './ebs-api.js';
import { ec2SnapshotLookup } from './ebs-snapshot-lookup.js';
import { EbsSnapshotSource } from './ebs-snapshot-source.js';
import { ec2ClientFactory, type Ec2Api } from './ec2-api.js';
import { AwsVolumeProvider } from './aws-volume-provider.js';
import { routeByRegion } from './region-limiters.js';

export interface AwsRateLimiters {
  ec2Describe: RateLimiter;
  ec2Mutate: RateLimiter;
  ebsBlocks: RateLimiter;
  /** Block requests of one snapshot, taken as well as ebsBlocks (keys name the snapshot). */
  ebsPerSnapshot: RateLimiter;
  ebsLists: RateLimiter;
  ebsControl: RateLimiter;
}

/** Makes a limiter of `pointsPerSecond` named `name` (the name keeps limiters' Redis keys apart). */
export type LimiterMaker = (name: string, pointsPerSecond: number) => RateLimiter;

/** The account in limiter keys when the configuration names none. */
export const DEFAULT_ACCOUNT = 'default';

export function awsRateLimiters(limits: AwsLimitsConfig, make: LimiterMaker, regionLimits: AwsRegionLimitsConfig = {}): AwsRateLimiters {
  // Region limiters share the family's name: their keys name the region, so budgets stay apart.
  const family = (name: string, field: keyof AwsLimitsConfig) => {
    const byRegion = new Map<string, RateLimiter>();
    for (const [region, override] of Object.entries(regionLimits)) {
      const points = override[field];
      if (points !== undefined) byRegion.set(region, make(name, points));
    }
    return routeByRegion(make(name, limits[field]), byRegion);
  };
  return {
    ec2Describe: family('aws-ec2-describe', 'ec2RequestsPerSecond'),
    ec2Mutate: family('aws-ec2-mutate', 'ec2MutatingRequestsPerSecond'),
    ebsBlocks: family('aws-ebs-blocks', 'ebsBlockRequestsPerSecond'),
    ebsPerSnapshot: family('aws-ebs-snapshot', 'ebsBlockRequestsPerSnapshotPerSecond'),
    ebsLists: family('aws-ebs-lists', 'ebsListRequestsPerSecond'),
    ebsControl: family('aws-ebs-control', 'ebsStartCompletePerSecond'),
  };
}

export interface AwsProviderDeps {
  limiters: AwsRateLimiters;
  /** The fleet's policies, for instance sets. */
  policies?: ReadonlyArray<{ name: string; selector: VolumeSelectorSpec }>;
  clock?: Clock;
  /** Told about drill scratch copies that could not be deleted. */
  log?: Pick<FleetLogger, 'warn'>;
}

export function awsEc2Api(config: AwsProviderConfig, limiters: AwsRateLimiters): Ec2Api {
  return {
    clientFor: ec2ClientFactory(config.endpoints?.ec2 ? { endpoint: config.endpoints.ec2 } : {}),
    account: config.accountId ?? DEFAULT_ACCOUNT,
    limiters: { describe: limiters.ec2Describe, mutate: limiters.ec2Mutate },
    timeoutMs: config.timeouts.callMs,
  };
}

/** The EBS direct API context of `region`, with a client built once per region. */
export function awsEbsApiFactory(config: AwsProviderConfig, limiters: AwsRateLimiters): (region: string) => EbsApi {
  const clients = new Map<string, EBSClient>();
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = new EBSClient({ region, maxAttempts: 1, ...(config.endpoints?.ebs ? { endpoint: config.endpoints.ebs } : {}) });
      clients.set(region, client);
    }
    return {
      client,
      account: config.accountId ?? DEFAULT_ACCOUNT,
      region,
      limiters: { blocks: limiters.ebsBlocks, lists: limiters.ebsLists, control: limiters.ebsControl, perSnapshot: limiters.ebsPerSnapshot },
      timeoutMs: config.timeouts.callMs,
    };
  };
}

export function createAwsVolumeProvider(config: AwsProviderConfig, deps: AwsProviderDeps): AwsVolumeProvider {
  const ec2 = awsEc2Api(config, deps.limiters);
  const ebsApi = awsEbsApiFactory(config, deps.limiters);
  return new AwsVolumeProvider({
    ec2,
    regions: config.regions,
    ...(deps.policies ? { policies: deps.policies } : {}),
    copies: config.copies.map((c) => ({ region: c.region, kmsKeyId: c.kmsKeyId })),
    ...(deps.clock ? { clock: deps.clock } : {}),
    openSnapshot: (region, snapshotId) => EbsSnapshotSource.open({ api: ebsApi(region), snapshotId, describeSnapshot: ec2SnapshotLookup(ec2, region) }),
    ebsApi,
    // Drill scratch copies are encrypted as restores into EBS are (the provider's `restore`).
    scratch: { encrypted: config.restore.encrypted, kmsKeyArns: config.restore.kmsKeyArns, ...(deps.log ? { log: deps.log } : {}) },
  });
}
