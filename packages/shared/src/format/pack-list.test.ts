import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../errors.js';
import { decodePackList, encodePackList } from './pack-list.js';

const pack = (c: string, packLength: number) => ({ packId: c.repeat(64), packLength });

describe('pack lists', () => {
  it('keep the order they were given (a blob in two listed packs is read from the first), each pack once', () => {
    const packs = [pack('c', 300), pack('a', 100), pack('b', 2 ** 40), pack('a', 100)];
    expect(decodePackList(encodePackList(packs), 'packlists/x')).toEqual([pack('c', 300), pack('a', 100), pack('b', 2 ** 40)]);
  });

  it('name the object when the payload is not a pack list', () => {
    const good = encodePackList([pack('a', 1)]);
    expect(() => decodePackList(Buffer.from('XXXX'), 'packlists/x')).toThrow(CorruptDataError);
    expect(() => decodePackList(good.subarray(0, good.length - 1), 'packlists/y')).toThrow(/packlists\/y: .* bytes for 1 packs/);
  });
});
