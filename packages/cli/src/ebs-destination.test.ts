import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@snapfleet/shared';
import { parseEbsDestination } from './ebs-destination.js';

describe('parseEbsDestination', () => {
  it('leaves paths alone', () => {
    expect(parseEbsDestination('/dev/xvdf')).toBeUndefined();
    expect(parseEbsDestination('restored.img')).toBeUndefined();
    expect(parseEbsDestination('./ebs:odd-file-name')).toBeUndefined();
  });

  it('reads a region, and an availability zone name or id', () => {
    expect(parseEbsDestination('ebs:eu-west-1')).toEqual({ region: 'eu-west-1' });
    expect(parseEbsDestination('ebs:us-gov-west-1')).toEqual({ region: 'us-gov-west-1' });
    expect(parseEbsDestination('ebs:us-east-1/us-east-1a')).toEqual({ region: 'us-east-1', availabilityZone: 'us-east-1a' });
    expect(parseEbsDestination('ebs:us-west-2/us-west-2-lax-1a')).toEqual({ region: 'us-west-2', availabilityZone: 'us-west-2-lax-1a' });
    expect(parseEbsDestination('ebs:us-east-1/use1-az4')).toEqual({ region: 'us-east-1', availabilityZone: 'use1-az4' });
  });

  it.each([
    ['ebs:', 'the region is missing'],
    ['ebs:/us-east-1a', 'the region is missing'],
    ['ebs:US-EAST-1', '"US-EAST-1" is not an AWS region name'],
    ['ebs:us-east', '"us-east" is not an AWS region name'],
    ['ebs:us-east-1/', 'the availability zone after "/" is empty'],
    ['ebs:us-east-1/eu-west-1a', '"eu-west-1a" is not an availability zone of us-east-1'],
    ['ebs:us-east-1/us-east-1', '"us-east-1" is not an availability zone of us-east-1'],
    ['ebs:us-east-1/us-east-1a/x', 'too many "/"'],
  ])('rejects %s naming --to: %s', (to, why) => {
    let err: unknown;
    try {
      parseEbsDestination(to);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).field).toBe('to');
    expect((err as Error).message).toContain(`--to ${to}: ${why}`);
  });
});
