import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheRootFromEnv, storeCacheDir } from './caching-options.js';

describe('cacheRootFromEnv', () => {
  it('takes SNAPFLEET_CACHE_DIR, then XDG_CACHE_HOME, then HOME', () => {
    const all = { SNAPFLEET_CACHE_DIR: '/var/cache/sf', XDG_CACHE_HOME: '/xdg', HOME: '/home/u' };
    expect(cacheRootFromEnv(all)).toBe('/var/cache/sf');
    expect(cacheRootFromEnv({ ...all, SNAPFLEET_CACHE_DIR: '' })).toBe(join('/xdg', 'snapfleet'));
    expect(cacheRootFromEnv({ HOME: '/home/u' })).toBe(join('/home/u', '.cache', 'snapfleet'));
    expect(cacheRootFromEnv({ SNAPFLEET_CACHE_DIR: 'rel/dir' })).toBe(resolve('rel/dir'));
  });

  it('is off with SNAPFLEET_CACHE_DIR=off, and without any place to put it', () => {
    expect(cacheRootFromEnv({ SNAPFLEET_CACHE_DIR: 'off', HOME: '/home/u' })).toBeUndefined();
    expect(cacheRootFromEnv({})).toBeUndefined();
    // A relative XDG_CACHE_HOME is to be ignored (XDG base directory specification).
    expect(cacheRootFromEnv({ XDG_CACHE_HOME: 'cache', HOME: '/home/u' })).toBe(join('/home/u', '.cache', 'snapfleet'));
  });
});

describe('storeCacheDir', () => {
  it('names one folder per store location: 16 hex digits of its SHA-256', () => {
    const a = storeCacheDir('/c', 's3://bucket/a');
    expect(a).toMatch(/^\/c\/[0-9a-f]{16}$/);
    expect(storeCacheDir('/c', 's3://bucket/a')).toBe(a);
    expect(storeCacheDir('/c', 's3://bucket/b')).not.toBe(a);
  });
});
