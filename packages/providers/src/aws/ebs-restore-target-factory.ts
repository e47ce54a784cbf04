/**
 * Builds an EbsSnapshotTarget for a one-off restore (`snapfleet restore --to ebs:REGION[/AZ]`):
 * the EBS and EC2 clients of the region with the same defaults as the fleet's AWS provider
 * (credentials from the SDK's default chain, `maxAttempts: 1` under callAws, the published
 * request quotas as limits), and the EC2 calls that create the volume or delete an abandoned
 * snapshot. The caller picks where the limiters live (memory, or the fleet's Redis).
 */
import { providerSchema, type AwsProviderConfig } from '@snapfleet/shared/config';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import { awsEbsApiFactory, awsEc2Api, awsRateLimiters, type LimiterMaker } from './aws-provider-factory.js';
import { ec2RestoreVolume } from './ebs-restore-volume.js';
import { EbsSnapshotTarget } from './ebs-snapshot-target.js';

export interface EbsRestoreTargetRequest {
  region: string;
  /** What is restored (the repository snapshot id), kept in the `snapfleet:restored-from` tag. */
  restoredFrom: string;
  /** Create a volume in this zone (name such as us-east-1a, or id such as use1-az1). */
  availabilityZone?: string;
  /** Makes the limiters, as the fleet does, so a restore next to a running fleet shares its budgets. */
  makeLimiter: LimiterMaker;
  /** Names the account in limiter keys. @defaultValue "default" */
  accountId?: string;
  description?: string;
  tags?: Readonly<Record<string, string>>;
  /** Encrypt the new snapshot (and the volume made from it); a KMS key ARN implies it. */
  encrypted?: boolean;
  /** The KMS key (ARN, in `region`) to encrypt with. @defaultValue the account's default EBS key */
  kmsKeyArn?: string;
  log?: Pick<FleetLogger, 'warn'>;
}

export interface EbsRestoreTargetHandle {
  target: EbsSnapshotTarget;
  /** Closes the clients' connections (after the restore, or after it failed). */
  close(): void;
}

export function createEbsRestoreTarget(req: EbsRestoreTargetRequest): EbsRestoreTargetHandle {
  // The provider schema's defaults (limits at AWS's published quotas, 30 s call timeout) keep a
  // one-off restore in step with the fleet's own settings.
  const config = providerSchema.parse({ kind: 'aws', regions: [req.region], ...(req.accountId ? { accountId: req.accountId } : {}) }) as AwsProviderConfig;
  const limiters = awsRateLimiters(config.limits, req.makeLimiter);
  const ec2 = awsEc2Api(config, limiters);
  const api = awsEbsApiFactory(config, limiters)(req.region);
  const target = new EbsSnapshotTarget({
    api,
    ec2: ec2RestoreVolume(ec2, req.region),
    ...(req.availabilityZone ? { availabilityZone: req.availabilityZone } : {}),
    ...(req.description !== undefined ? { description: req.description } : {}),
    // StartSnapshot refuses a key without Encrypted: a key always means an encrypted snapshot.
    ...(req.encrypted || req.kmsKeyArn ? { encrypted: true } : {}),
    ...(req.kmsKeyArn ? { kmsKeyArn: req.kmsKeyArn } : {}),
    // `snapfleet:source` marks a restore's snapshot: the IAM policy lets the fleet delete only
    // snapshots with that tag (or its own), so an abandoned restore can be cleaned up, and
    // nobody else's snapshot.
    tags: { ...req.tags, 'snapfleet:restored-from': req.restoredFrom, 'snapfleet:source': 'restore' },
    ...(req.log ? { log: req.log } : {}),
  });
  return {
    target,
    close() {
      api.client.destroy();
      ec2.clientFor(req.region).destroy();
    },
  };
}
