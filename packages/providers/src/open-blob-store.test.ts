import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@snapfleet/shared';
import { FolderBlobStore, openBlobStore } from './index.js';
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

  it.each(['gs://bucket/repo', 'http://host/repo', 'file://remote-host/srv', ''])('rejects %j', async (url) => {
    await expect(openBlobStore(url, {})).rejects.toThrow(InvalidInputError);
  });
});
