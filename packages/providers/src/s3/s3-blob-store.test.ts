import { describe, expect, it } from 'vitest';
import { InvalidInputError, PermanentError } from '@snapfleet/shared';
import { createTestBucket, describeBlobStoreConformance } from '@snapfleet/shared/testing';
import { CachingBlobStore, openBlobStore } from '../index.js';
import { S3BlobStore } from './s3-blob-store.js';

describeBlobStoreConformance(
  'S3BlobStore on s3rver',
  async () => {
    const { repoUrl, env } = await createTestBucket();
    const store = S3BlobStore.fromEnv(repoUrl, env);
    return { store, cleanup: async () => store.destroy() };
  },
  {
    // Real S3 replaces objects atomically; s3rver 3.7.1 truncates and rewrites the file in place
    // (stores/filesystem.js putObject), so a concurrent GET can see a prefix. Not our adapter's bug.
    skip: { 'overwrite-atomicity': 's3rver overwrites object files in place; AWS S3 PUTs are atomic' },
  },
);

describe('S3BlobStore', () => {
  it('keeps objects under the repository prefix', async () => {
    const { bucket, env } = await createTestBucket();
    const inner = S3BlobStore.fromEnv(`s3://${bucket}/tenant/repo`, env);
    const whole = S3BlobStore.fromEnv(`s3://${bucket}`, env);
    await inner.put('config', Uint8Array.of(1, 2, 3));
    const keys: string[] = [];
    for await (const info of whole.list('')) keys.push(info.key);
    expect(keys).toEqual(['tenant/repo/config']);
    expect(await whole.get('tenant/repo/config')).toEqual(Uint8Array.of(1, 2, 3));
    expect(inner.location).toBe(`s3://${bucket}/tenant/repo`);
  });

  it('is what openBlobStore returns for an s3:// URL', async () => {
    const { repoUrl, env } = await createTestBucket();
    const store = await openBlobStore(repoUrl, { ...env, SNAPFLEET_CACHE_DIR: 'off' });
    expect(store).toBeInstanceOf(S3BlobStore);
    await store.put('a/b', Uint8Array.of(7));
    expect(await store.stat('a/b')).toEqual({ key: 'a/b', size: 1 });
  });

  it('is read through the host index cache when the environment gives it a folder', async () => {
    const { repoUrl, env } = await createTestBucket();
    const cached = await openBlobStore(repoUrl, env);
    expect(cached).toBeInstanceOf(CachingBlobStore);
    const plain = (cached as CachingBlobStore).inner as S3BlobStore;
    try {
      const key = `index/${'cd'.repeat(32)}`;
      await plain.put(key, Uint8Array.of(1, 2, 3));
      expect(await cached.get(key)).toEqual(Uint8Array.of(1, 2, 3));
      // Gone from the bucket, still served from the cache: no request reached S3.
      await plain.delete(key);
      expect(await cached.get(key)).toEqual(Uint8Array.of(1, 2, 3));
    } finally {
      plain.destroy();
    }
  });

  it('fails fast with PermanentError on a missing bucket and on wrong credentials', async () => {
    const { env } = await createTestBucket();
    const missing = S3BlobStore.fromEnv('s3://no-such-bucket-snapfleet/repo', env);
    await expect(missing.put('x', Uint8Array.of(1))).rejects.toBeInstanceOf(PermanentError);
    await expect(missing.put('x', Uint8Array.of(1))).rejects.toThrow(/does not exist/);

    const { repoUrl } = await createTestBucket();
    const wrong = S3BlobStore.fromEnv(repoUrl, { ...env, AWS_ACCESS_KEY_ID: 'NOT-S3RVER', AWS_SECRET_ACCESS_KEY: 'very-secret-value' });
    const failure = await wrong.put('x', Uint8Array.of(1)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(PermanentError);
    expect(String((failure as Error).message)).not.toContain('very-secret-value');
    expect(JSON.stringify(failure)).not.toContain('very-secret-value');
  });

  it('rejects unsafe keys before sending anything', async () => {
    const { repoUrl, env } = await createTestBucket();
    const store = S3BlobStore.fromEnv(repoUrl, env);
    await expect(store.put('../escape', Uint8Array.of(1))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.get('/abs')).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('reads an empty range inside an object and rejects one past its end', async () => {
    const { repoUrl, env } = await createTestBucket();
    const store = S3BlobStore.fromEnv(repoUrl, env);
    await store.put('obj', new Uint8Array(10));
    expect((await store.get('obj', { offset: 10, length: 0 })).length).toBe(0);
    await expect(store.get('obj', { offset: 11, length: 0 })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
