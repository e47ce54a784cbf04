import { describe, expect, it } from 'vitest';
import { providerSchema, type AwsProviderConfig } from '@snapfleet/shared/config';
import { awsEbsApiFactory, awsRateLimiters } from './aws-provider-factory.js';
import { ebsCallContext } from './ebs-api.js';
import { RecordingLimiter } from './testing/fake-ebs.js';

/** Records which limiter (by name and rate) each key was taken from. */
function recordingMaker() {
  const made: { name: string; points: number; limiter: RecordingLimiter }[] = [];
  const make = (name: string, points: number) => {
    const limiter = new RecordingLimiter();
    made.push({ name, points, limiter });
    return limiter;
  };
  const takenBy = (key: string) => made.filter((m) => m.limiter.taken.includes(key)).map((m) => `${m.name}@${m.points}`);
  return { make, takenBy };
}

describe('per-region AWS limits', () => {
  const limits = {
    ebsBlockRequestsPerSecond: 1000,
    ebsBlockRequestsPerSnapshotPerSecond: 1000,
    ebsListRequestsPerSecond: 50,
    ebsStartCompletePerSecond: 10,
    ec2RequestsPerSecond: 20,
    ec2MutatingRequestsPerSecond: 5,
  };

  it('takes from the region’s own limiter where one is configured, and the account-wide rate elsewhere', async () => {
    const { make, takenBy } = recordingMaker();
    const limiters = awsRateLimiters(limits, make, { 'eu-west-1': { ebsBlockRequestsPerSecond: 300 } });
    await limiters.ebsBlocks.take('ebs:123456789012:eu-west-1');
    await limiters.ebsBlocks.take('ebs:123456789012:us-east-1');
    await limiters.ebsLists.take('ebs-list:123456789012:eu-west-1');
    expect(takenBy('ebs:123456789012:eu-west-1')).toEqual(['aws-ebs-blocks@300']);
    expect(takenBy('ebs:123456789012:us-east-1')).toEqual(['aws-ebs-blocks@1000']);
    // Only the overridden family changes in that region.
    expect(takenBy('ebs-list:123456789012:eu-west-1')).toEqual(['aws-ebs-lists@50']);
  });

  it('builds one limiter per family when no region is overridden', () => {
    const { make } = recordingMaker();
    const names: string[] = [];
    awsRateLimiters(limits, (n, p) => (names.push(n), make(n, p)));
    expect(names.sort()).toEqual(['aws-ebs-blocks', 'aws-ebs-control', 'aws-ebs-lists', 'aws-ebs-snapshot', 'aws-ec2-describe', 'aws-ec2-mutate']);
  });

  it('counts a block read against the account and against its snapshot', async () => {
    const { make, takenBy } = recordingMaker();
    const config = providerSchema.parse({ kind: 'aws', regions: ['us-east-1'], accountId: '123456789012' }) as AwsProviderConfig;
    const api = awsEbsApiFactory(config, awsRateLimiters(config.limits, make))('us-east-1');
    const ctx = ebsCallContext(api, 'get', 'snap-0abc');
    await ctx.limiter.take(ctx.limitKey);
    expect(takenBy('ebs:123456789012:us-east-1')).toEqual(['aws-ebs-blocks@1000']);
    expect(takenBy('ebs-snapshot:123456789012:us-east-1:snap-0abc')).toEqual(['aws-ebs-snapshot@1000']);
  });
});
