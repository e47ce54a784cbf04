import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobId } from './ids.js';
import { volumeKey } from './volume-key.js';

const idKey = createSecretKey(Buffer.alloc(32, 1));

describe('volumeKey', () => {
  it('is stable: these values are in repositories and must never change', () => {
    // HMAC-SHA-256(id key = 32 bytes of 0x01, "snapfleet volume\0" + volume id), first 16 bytes.
    expect(volumeKey(idKey, 'vol-1')).toBe('32293de5ad73de00d6c7b2bade10c2c0');
    expect(volumeKey(idKey, 'vol-ü')).toBe('290515f7f02bfa04c74c9b9da7b30e2b'); // UTF-8
  });

  it('is 32 hex digits, differs per volume and per id key', () => {
    const otherKey = createSecretKey(Buffer.alloc(32, 2));
    const keys = ['vol-1', 'vol-2', 'vol-10', 'i-0abc/dev/xvda', ''].map((v) => volumeKey(idKey, v));
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(keys).size).toBe(keys.length);
    expect(volumeKey(otherKey, 'vol-1')).not.toBe(volumeKey(idKey, 'vol-1'));
  });

  it('is domain-separated from blob ids of the same bytes', () => {
    expect(volumeKey(idKey, 'vol-1')).not.toBe(blobId(idKey, Buffer.from('vol-1')).subarray(0, 16).toString('hex'));
  });
});
