import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { parseFleetConfig } from './parse-fleet-config.js';
import { copyRetentionOf, copyTargetsOf } from './provider-config-schema.js';
import { selectorMatches } from './volume-selector.js';

const base = `
repositories:
  main: { url: s3://bucket/x }
`;

function parse(text: string) {
  return parseFleetConfig(base + text, 'fleet.yaml');
}

function errorOf(text: string): InvalidInputError {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return err as InvalidInputError;
  }
  throw new Error('expected an error');
}

describe('provider config', () => {
  it('defaults to the local provider', () => {
    expect(parse('').provider).toEqual({ kind: 'local' });
  });

  it('parses an aws provider with every default filled in', () => {
    const c = parse(`
provider:
  kind: aws
  regions: [us-east-1, eu-west-1]
  copies: [{ region: us-west-2, kmsKeyId: alias/dr, retention: { keepDaily: 7 } }]
`);
    expect(c.provider).toMatchObject({
      kind: 'aws',
      regions: ['us-east-1', 'eu-west-1'],
      limits: {
        ebsBlockRequestsPerSecond: 1000,
        ebsBlockRequestsPerSnapshotPerSecond: 1000,
        ebsListRequestsPerSecond: 50,
        ebsStartCompletePerSecond: 10,
        ec2RequestsPerSecond: 20,
        ec2MutatingRequestsPerSecond: 5,
      },
      timeouts: { callMs: 30_000 },
      copies: [{ region: 'us-west-2', kmsKeyId: 'alias/dr', retention: { keepDaily: 7 } }],
    });
    expect(c.provider.kind === 'aws' && c.provider.accountId).toBeUndefined();
  });

  it('names the copy targets, and gives the rules of those that have their own', () => {
    const c = parse(`
provider:
  kind: aws
  regions: [us-east-1]
  copies: [{ region: us-west-2, kmsKeyId: alias/dr, retention: { keepDaily: 7 } }, { region: eu-central-1, kmsKeyId: alias/dr }]
`);
    if (c.provider.kind !== 'aws') throw new Error('expected the aws provider');
    expect(copyTargetsOf(c.provider.copies)).toEqual([{ name: 'us-west-2' }, { name: 'eu-central-1' }]);
    expect([...copyRetentionOf(c.provider)]).toEqual([['us-west-2', { keepDaily: 7 }]]);
    expect(copyRetentionOf(parse('').provider).size).toBe(0);
  });

  it('reads timeouts as intervals and endpoints as URLs', () => {
    const c = parse(`
provider: { kind: aws, regions: [us-east-1], accountId: "123456789012", timeouts: { callMs: 2m }, endpoints: { ec2: "http://127.0.0.1:4566" } }
`);
    expect(c.provider).toMatchObject({ accountId: '123456789012', timeouts: { callMs: 120_000 }, endpoints: { ec2: 'http://127.0.0.1:4566' } });
  });

  it('takes per-region overrides of the limits for source and copy regions', () => {
    const c = parse(`
provider:
  kind: aws
  regions: [us-east-1]
  copies: [{ region: us-west-2, kmsKeyId: alias/dr }]
  regionLimits: { us-east-1: { ebsBlockRequestsPerSecond: 3000 }, us-west-2: { ec2MutatingRequestsPerSecond: 2 } }
`);
    expect(c.provider).toMatchObject({
      limits: { ebsBlockRequestsPerSecond: 1000 },
      regionLimits: { 'us-east-1': { ebsBlockRequestsPerSecond: 3000 }, 'us-west-2': { ec2MutatingRequestsPerSecond: 2 } },
    });
  });

  it.each([
    ['provider: { kind: gcp }', 'provider.kind'],
    ['provider: { kind: aws, regions: [] }', 'provider.regions: list at least one region'],
    ['provider: { kind: aws, regions: [US_EAST] }', 'provider.regions[0]: must be an AWS region name'],
    ['provider: { kind: aws, regions: [us-east-1, us-east-1] }', 'provider.regions[1]: duplicate region us-east-1'],
    ['provider: { kind: aws, regions: [us-east-1], accountId: "12" }', 'provider.accountId: must be a 12-digit AWS account id'],
    ['provider: { kind: aws, regions: [us-east-1], limits: { ec2RequestsPerSecond: 0 } }', 'provider.limits.ec2RequestsPerSecond: must be at least 1'],
    [
      'provider: { kind: aws, regions: [us-east-1], regionLimits: { eu-west-1: { ec2RequestsPerSecond: 5 } } }',
      'provider.regionLimits.eu-west-1: eu-west-1 is neither in regions nor a copy region',
    ],
    [
      'provider: { kind: aws, regions: [us-east-1], regionLimits: { us-east-1: { ebsListRequestsPerSecond: 0.5 } } }',
      'provider.regionLimits.us-east-1.ebsListRequestsPerSecond: must be a whole number',
    ],
    ['provider: { kind: aws, regions: [us-east-1], timeouts: { callMs: 10ms } }', 'provider.timeouts.callMs: must be an interval of at least 1s'],
    ['provider: { kind: aws, regions: [us-east-1], copies: [{ region: us-west-2 }] }', 'provider.copies[0].kmsKeyId'],
    [
      'provider: { kind: aws, regions: [us-east-1], copies: [{ region: us-east-1, kmsKeyId: k }] }',
      'provider.copies[0].region: us-east-1 is the only source region',
    ],
    [
      'provider: { kind: aws, regions: [us-east-1], copies: [{ region: us-west-2, kmsKeyId: k, retention: { keepDaily: 0 } }] }',
      'provider.copies[0].retention',
    ],
    ['provider: { kind: aws, regions: [us-east-1], endpoints: { ec2: "not a url" } }', 'provider.endpoints.ec2'],
    ['provider: { kind: local, regions: [us-east-1] }', 'provider'],
    ['fleet: { routing: { byRegion: true } }', 'fleet.routing.byRegion: routing by region needs provider kind "aws"'],
    [
      'provider: { kind: aws, regions: [us-east-1] }\nfleet: { routing: { byRegion: true }, worker: { regions: [eu-west-1] } }',
      'fleet.worker.regions[0]: eu-west-1 is not in provider.regions (us-east-1)',
    ],
  ])('%s names the field', (text, expected) => {
    expect(errorOf(text).message).toContain(`fleet.yaml: ${expected}`);
  });

  it('accepts instance sets only with the aws provider, and checks instance ids', () => {
    const policy = (instances: string) => `
policies:
  - { name: db, selector: { instances: ${instances} }, schedules: [{ every: 1h }], repository: main }
`;
    const aws = 'provider: { kind: aws, regions: [us-east-1] }\n';
    expect(parse(aws + policy('[i-0123456789abcdef0]')).policies[0]!.selector.instances).toEqual(['i-0123456789abcdef0']);
    expect(errorOf(policy('[i-0123456789abcdef0]')).message).toContain('policies[0].selector.instances: instance sets need provider kind "aws"');
    expect(errorOf(aws + policy('[web-1]')).message).toContain('policies[0].selector.instances[0]: must be an EC2 instance id');
  });

  it('selects volumes attached to a listed instance', () => {
    const selector = { instances: ['i-01234567'] };
    expect(selectorMatches(selector, { id: 'vol-1', name: 'a', tags: [], instanceIds: ['i-01234567'] })).toBe(true);
    expect(selectorMatches(selector, { id: 'vol-2', name: 'b', tags: [], instanceIds: ['i-99999999'] })).toBe(false);
    expect(selectorMatches(selector, { id: 'vol-3', name: 'c', tags: [] })).toBe(false);
  });
});
