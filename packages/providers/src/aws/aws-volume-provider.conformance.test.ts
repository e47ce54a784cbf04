import { describeVolumeProviderConformance } from '@snapfleet/shared/testing';
import { createFakeAws } from './testing/fake-aws.js';

describeVolumeProviderConformance('AwsVolumeProvider (fake EC2 and EBS)', async (volumes) => {
  const aws = createFakeAws(['us-east-1', 'eu-west-1']);
  // Small pages with empty pages between them: discovery and listings must follow every NextToken.
  aws.ec2.pageSize = 2;
  aws.ec2.emptyPages = 1;
  const ids = volumes.map(
    (v, i) =>
      aws.ec2.addVolume(i % 2 ? 'eu-west-1' : 'us-east-1', {
        data: v.data,
        tags: { Name: v.name, ...Object.fromEntries(v.tags.map((t) => t.split('=') as [string, string])) },
      }).id,
  );
  return {
    provider: aws.provider(),
    ids,
    missingVolumeId: 'vol-0000000000000dead',
    cleanup: async () => {},
  };
});
