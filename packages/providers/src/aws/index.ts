/**
 * The AWS adapters: EC2 (volumes, snapshots, disaster-recovery copies) and the EBS direct APIs
 * (reading and writing snapshot blocks). Every call goes through callAws (limiter, timeout, retry).
 */
export { callAws, backoffMs, DEFAULT_AWS_RETRY, type AwsCallContext, type AwsRetryOptions } from './aws-call.js';
export { classifyAwsError, awsErrorName, isAwsNotFound, isQuotaThrottle, type AwsErrorSummary } from './aws-errors.js';
export { AwsVolumeProvider, type AwsVolumeProviderOptions, type AwsCopyTarget } from './aws-volume-provider.js';
export {
  awsEbsApiFactory,
  awsEc2Api,
  awsRateLimiters,
  createAwsVolumeProvider,
  DEFAULT_ACCOUNT,
  type AwsProviderDeps,
  type AwsRateLimiters,
  type LimiterMaker,
} from './aws-provider-factory.js';
export {
  ec2CallContext,
  ec2ClientFactory,
  ec2LimitKey,
  ec2Send,
  EC2_DEFAULT_TIMEOUT_MS,
  type Ec2Api,
  type Ec2CallFamily,
  type Ec2Limiters,
} from './ec2-api.js';
export { parseAwsRef, setRef, snapshotRef, type AwsSnapshotRef } from './aws-snapshot-ref.js';
export { EbsSnapshotSource, type EbsSnapshotSourceOptions } from './ebs-snapshot-source.js';
export { EbsSnapshotTarget, type EbsSnapshotTargetOptions, type EbsRestoreResult } from './ebs-snapshot-target.js';
export { ebsCallContext, ebsLimitKey, EBS_DEFAULT_TIMEOUT_MS, type EbsApi, type EbsCallFamily, type EbsLimiters } from './ebs-api.js';
export { EBS_BLOCK_SIZE } from './ebs-block-read.js';
export { ec2SnapshotLookup, NO_VOLUME_ID, type DescribeEbsSnapshot, type EbsSnapshotInfo } from './ebs-snapshot-lookup.js';
export { ec2RestoreVolume, type EbsRestoreEc2, type Ec2RestoreOptions } from './ebs-restore-volume.js';
export { createEbsRestoreTarget, type EbsRestoreTargetHandle, type EbsRestoreTargetRequest } from './ebs-restore-target-factory.js';
export { ebsScratchTargets, type EbsScratchOptions } from './ebs-scratch-targets.js';
export { DRILL_SOURCE, DRILL_ID_TAG, DRILL_STARTED_TAG, listScratchResources, type ScratchResource } from './ec2-scratch-resources.js';
