/**
 * The storage class a put asks for reaches S3 as the request's StorageClass, for single puts and
 * multipart uploads alike; STANDARD and no class send none (S3's default).
 */
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3BlobStore } from './s3-blob-store.js';
import type { S3StoreOptions } from './s3-options.js';

const s3 = mockClient(S3Client);
const MiB = 1024 * 1024;
const options: S3StoreOptions = {
  bucket: 'b',
  prefix: 'repo/',
  region: 'us-east-1',
  forcePathStyle: false,
  checksum: 'when-required',
  multipartThresholdBytes: 6 * MiB,
  partSizeBytes: 5 * MiB,
  uploadConcurrency: 1,
};
const store = () => new S3BlobStore(options, new S3Client({ region: 'us-east-1' }));

afterEach(() => s3.reset());

describe('S3BlobStore.put with a storage class', () => {
  it('names the class on PutObject, and sends none for STANDARD or no class', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store().put('data/ab/ab01', [Buffer.alloc(1024)], { storageClass: 'GLACIER_IR' });
    await store().put('data/ab/ab02', [Buffer.alloc(1024)], { storageClass: 'STANDARD_IA' });
    await store().put('data/ab/ab03', [Buffer.alloc(1024)], { storageClass: 'STANDARD' });
    await store().put('index/ab01', [Buffer.alloc(64)]);
    const sent = s3.commandCalls(PutObjectCommand).map((c) => [c.args[0].input.Key, c.args[0].input.StorageClass]);
    expect(sent).toEqual([
      ['repo/data/ab/ab01', 'GLACIER_IR'],
      ['repo/data/ab/ab02', 'STANDARD_IA'],
      ['repo/data/ab/ab03', undefined],
      ['repo/index/ab01', undefined],
    ]);
  });

  it('names it on CreateMultipartUpload for a pack above the multipart threshold', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCommand).resolves({ ETag: '"e"' });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    await store().put('data/cd/cd01', [Buffer.alloc(11 * MiB)], { storageClass: 'STANDARD_IA' });
    const created = s3.commandCalls(CreateMultipartUploadCommand);
    expect(created).toHaveLength(1);
    expect(created[0]!.args[0].input).toMatchObject({ Key: 'repo/data/cd/cd01', StorageClass: 'STANDARD_IA' });
    expect(s3.commandCalls(UploadPartCommand)).toHaveLength(3);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
