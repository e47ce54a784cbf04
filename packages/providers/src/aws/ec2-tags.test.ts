import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@snapfleet/shared';
import { parseAwsRef, setRef, snapshotRef } from './aws-snapshot-ref.js';
import { engineTags, selectorTagFilters, selectorTagMatches, snapshotTagFilters, toEc2Tag } from './ec2-tags.js';

describe('EC2 tags', () => {
  it('maps engine tags to EC2 tags and back exactly', () => {
    const tags = ['policy=daily', 'slot=20260301T020000Z', 'CostCenter=42', 'critical'];
    const ec2 = [...tags.map(toEc2Tag), { Key: 'snapfleet:token', Value: 't' }, { Key: 'snapfleet:volume', Value: 'vol-1' }];
    expect(ec2.slice(0, 4)).toEqual([
      { Key: 'snapfleet:policy', Value: 'daily' },
      { Key: 'snapfleet:slot', Value: '20260301T020000Z' },
      { Key: 'CostCenter', Value: '42' },
      { Key: 'critical', Value: '' },
    ]);
    expect(engineTags(ec2.reverse())).toEqual(['policy=daily', 'slot=20260301T020000Z', 'CostCenter=42', 'critical']);
  });

  it('refuses reserved and oversized keys, naming the tag', () => {
    expect(() => toEc2Tag('snapfleet:token=x')).toThrow(InvalidInputError);
    expect(() => toEc2Tag('aws:createdBy=x')).toThrow(/reserved/);
    expect(() => toEc2Tag(`${'k'.repeat(129)}=v`)).toThrow(/128/);
    expect(() => toEc2Tag('=v')).toThrow(/empty key/);
  });

  it('matches selector tags as pairs or bare keys, and filters server-side once per name', () => {
    const volume = [
      { Key: 'backup', Value: 'daily' },
      { Key: 'team', Value: '' },
    ];
    expect(selectorTagMatches('backup=daily', volume)).toBe(true);
    expect(selectorTagMatches('backup=weekly', volume)).toBe(false);
    expect(selectorTagMatches('backup', volume)).toBe(true);
    expect(selectorTagMatches('team', volume)).toBe(true);
    expect(selectorTagFilters(['backup=daily', 'team', 'env'])).toEqual([
      { Name: 'tag:backup', Values: ['daily'] },
      { Name: 'tag-key', Values: ['team'] },
    ]);
    expect(snapshotTagFilters(['policy=daily'])).toEqual([{ Name: 'tag:snapfleet:policy', Values: ['daily'] }]);
  });
});

describe('AWS snapshot refs', () => {
  it('round-trips single and set refs, and names the field of a bad one', () => {
    expect(parseAwsRef(snapshotRef('us-east-1', 'snap-0123456789abcdef0'))).toEqual({
      kind: 'snapshot',
      region: 'us-east-1',
      snapshotId: 'snap-0123456789abcdef0',
    });
    const ref = setRef('eu-west-1', 'vol-0123456789abcdef0', 'db/i-0123456789abcdef0/20260301T020000Z');
    expect(parseAwsRef(ref)).toEqual({
      kind: 'set',
      region: 'eu-west-1',
      volumeId: 'vol-0123456789abcdef0',
      setToken: 'db/i-0123456789abcdef0/20260301T020000Z',
    });
    for (const bad of ['local:{}', 'aws:us-east-1:vol-01234567', 'aws:nowhere:snap-01234567']) {
      expect(() => parseAwsRef(bad)).toThrow(expect.objectContaining({ field: 'ref' }));
    }
  });
});
