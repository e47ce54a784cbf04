/**
 * A GET whose body breaks off after the headers (a reset connection mid-download) is sent again;
 * the SDK's own retries end once the headers have come.
 */
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { NotFoundError, TransientError } from '@snapfleet/shared';
import { S3BlobStore } from './s3-blob-store.js';
import type { S3StoreOptions } from './s3-options.js';

const s3 = mockClient(S3Client);
const reset = () => Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
const body = (read: () => Promise<Uint8Array>) => ({ Body: { transformToByteArray: read } }) as never;
const options: S3StoreOptions = {
  bucket: 'b',
  prefix: 'repo/',
  region: 'us-east-1',
  forcePathStyle: false,
  checksum: 'when-required',
  multipartThresholdBytes: 16 << 20,
  partSizeBytes: 8 << 20,
  uploadConcurrency: 1,
  maxAttempts: 3,
};
const store = () => new S3BlobStore(options, new S3Client({ region: 'us-east-1' }));

afterEach(() => s3.reset());

describe('S3BlobStore.get when the body breaks off', () => {
  it('sends the request again and returns the whole object', async () => {
    s3.on(GetObjectCommand)
      .resolvesOnce(body(() => Promise.reject(reset())))
      .resolves(body(async () => Uint8Array.of(1, 2, 3)));
    expect(await store().get('prune/m')).toEqual(Uint8Array.of(1, 2, 3));
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(2);
  });

  it('says not found when the object was deleted before the retry', async () => {
    s3.on(GetObjectCommand)
      .resolvesOnce(body(() => Promise.reject(reset())))
      .rejects(new NoSuchKey({ message: 'gone', $metadata: { httpStatusCode: 404 } }));
    await expect(store().get('prune/m')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('gives up after maxAttempts (here three) attempts with a transient error', async () => {
    s3.on(GetObjectCommand).resolves(body(() => Promise.reject(reset())));
    await expect(store().get('prune/m')).rejects.toBeInstanceOf(TransientError);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(3);
  });
});
