import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@snapfleet/shared';
import { CachingBlobStore, FolderBlobStore, openBlobStore, storeCacheDir } from './index.js';
import { S3BlobStore } from './s3/index.js';

describe('openBlobStore', () => {
  it('opens a folder from a path or a file:// URL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'snapfleet-open-'));
    try {
      const byPath = await openBlobStore(join(dir, 'repo'), {});
      const byUrl = await openBlobStore(pathToFileURL(join(dir, 'repo')).href, {});
      expect(byPath).toBeInstanceOf(FolderBlobStore);
      expect(byUrl.location).toBe(byPath.location);
      await byPath.put('k', Uint8Array.of(1));
      expect(await byUrl.get('k')).toEqual(Uint8Array.of(1));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens an S3 store from s3:// without contacting it', async () => {
    const store = await openBlobStore('s3://bucket/repo', { AWS_REGION: 'us-east-1' });
    expect(store).toBeInstanceOf(S3BlobStore);
    expect(store.location).toBe('s3://bucket/repo');
  });

  it('puts the host index cache in front of S3 stores, and of folders only when asked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'snapfleet-open-'));
    try {
      const env = { AWS_REGION: 'us-east-1', SNAPFLEET_CACHE_DIR: join(dir, 'cache') };
      const s3 = await openBlobStore('s3://bucket/repo', env);
      expect(s3).toBeInstanceOf(CachingBlobStore);
      expect((s3 as CachingBlobStore).inner).toBeInstanceOf(S3BlobStore);
      expect(s3.location).toBe('s3://bucket/repo');
      expect(await openBlobStore('s3://bucket/repo', { ...env, SNAPFLEET_CACHE_DIR: 'off' })).toBeInstanceOf(S3BlobStore);
      expect(await openBlobStore('s3://bucket/repo', env, { cache: false })).toBeInstanceOf(S3BlobStore);
      // Without SNAPFLEET_CACHE_DIR: $XDG_CACHE_HOME/snapfleet, one folder per store location.
      const xdg = await openBlobStore('s3://bucket/repo', { AWS_REGION: 'us-east-1', XDG_CACHE_HOME: dir, HOME: '/nonexistent' });
      expect(xdg).toBeInstanceOf(CachingBlobStore);

      expect(await openBlobStore(join(dir, 'repo'), env)).toBeInstanceOf(FolderBlobStore);
      const warnings: string[] = [];
      const folder = await openBlobStore(join(dir, 'repo'), env, { cache: true, onWarning: (m) => warnings.push(m) });
      expect(folder).toBeInstanceOf(CachingBlobStore);
      const key = `index/${'ab'.repeat(32)}`;
      await folder.put(key, Uint8Array.of(1, 2, 3));
      expect(await readdir(join(storeCacheDir(join(dir, 'cache'), folder.location), 'index'))).toEqual(['ab'.repeat(32)]);
      expect(warnings).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each(['gs://bucket/repo', 'http://host/repo', 'file://remote-host/srv', ''])('rejects %j', async (url) => {
    await expect(openBlobStore(url, {})).rejects.toThrow(InvalidInputError);
  });
});
