/**
 * A whole fake AWS for the provider's tests: a FakeEc2World linked to a FakeEbsWorld, and an
 * AwsVolumeProvider over both (EC2 through aws-sdk-client-mock, archives read by the real
 * EbsSnapshotSource from the EBS direct API fake). Tests reach into `ec2` and `ebs` to seed
 * volumes, inject faults and inspect calls.
 */
import { AwsVolumeProvider, type AwsVolumeProviderOptions } from '../aws-volume-provider.js';
import { EbsSnapshotSource } from '../ebs-snapshot-source.js';
import type { Ec2Api } from '../ec2-api.js';
import { FakeEbsWorld, type RecordingLimiter } from './fake-ebs.js';
import { FakeEc2World } from './fake-ec2.js';
import { fakeEbsApi } from './fake-ebs-api.js';
import { fakeEc2Api } from './fake-ec2-api.js';

export interface FakeAws {
  ec2: FakeEc2World;
  ebs: FakeEbsWorld;
  ec2Api: Ec2Api;
  /** The limiter of EC2 describe calls; `mutateLimiter` of create / copy / delete calls. */
  limiter: RecordingLimiter;
  mutateLimiter: RecordingLimiter;
  /** Backoff delays callAws asked for (the fake sleeps return at once). */
  sleeps: number[];
  provider(options?: Partial<AwsVolumeProviderOptions>): AwsVolumeProvider;
}

export function createFakeAws(regions: readonly string[] = ['us-east-1']): FakeAws {
  const ebs = new FakeEbsWorld();
  const ec2 = new FakeEc2World(ebs);
  const { api: ec2Api, limiter, mutateLimiter, sleeps } = fakeEc2Api(ec2);
  const { api: ebsApi } = fakeEbsApi(ebs);
  return {
    ec2,
    ebs,
    ec2Api,
    limiter,
    mutateLimiter,
    sleeps,
    provider: (options = {}) =>
      new AwsVolumeProvider({
        ec2: ec2Api,
        regions,
        openSnapshot: (_region, snapshotId, volumeId) => {
          // Test volumes are a few MiB, not whole GiB: expose only the volume's bytes.
          const bytes = ec2.volumes.get(volumeId)?.data.length;
          return EbsSnapshotSource.open({ api: ebsApi, snapshotId, describeSnapshot: ebs.describe, ...(bytes ? { sizeBytes: bytes } : {}) });
        },
        ...options,
      }),
  };
}
