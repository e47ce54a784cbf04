import { describe, expect, it } from 'vitest';
import { cacheFilePath, keyOfCacheFile } from './cache-file.js';

describe('cache file names', () => {
  it('keeps repository-shaped keys, hex-encodes others, and maps names back to keys', () => {
    const id = 'ab'.repeat(32);
    expect(cacheFilePath(`index/${id}`)).toBe(`index/${id}`);
    for (const key of ['index/README', 'index/../../etc/passwd', `INDEX/${id}`, `data/ab/${id}`, 'config', 'ключ']) {
      const path = cacheFilePath(key)!;
      expect(path, key).toMatch(/^_hex\/[0-9a-f]+$/);
      expect(keyOfCacheFile('_hex', path.slice('_hex/'.length))).toBe(key);
    }
    expect(keyOfCacheFile('index', id)).toBe(`index/${id}`);
    expect(cacheFilePath('x'.repeat(117))).toBeUndefined();
    expect(cacheFilePath('')).toBeUndefined();
  });

  it('knows no key for temp files and foreign names', () => {
    for (const [folder, name] of [
      ['index', `.tmp-${'ab'.repeat(32)}.0123456789abcdef`],
      ['index', 'notes'],
      ['_hex', 'zz'],
      ['_hex', 'abc'],
      ['_hex', 'ff'],
      ['_hex', ''],
    ]) {
      expect(keyOfCacheFile(folder!, name!), `${folder}/${name}`).toBeUndefined();
    }
  });
});
