/**
 * Object Lock on the wire: the real S3 client's requests, captured by a request handler that
 * answers like S3, so the test sees the exact headers and bodies an S3 bucket would receive
 * (the S3 test server does not implement Object Lock).
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@snapfleet/shared';
import { capturing } from './capturing-s3.testing.js';

const until = new Date('2027-01-01T00:00:00.000Z');

describe('S3BlobStore under Object Lock', () => {
  it('sends the lock mode, the retain-until date and a body checksum on a locked put, and none of them otherwise', async () => {
    const { store, sent } = capturing(() => ({ statusCode: 200, headers: { etag: '"e"' } }));
    await store.put('data/ab/ab01', [Buffer.from('pack bytes')], { retention: { mode: 'COMPLIANCE', until } });
    await store.put('locks/l1', [Buffer.from('lease')]);
    const [locked, plain] = sent;
    expect(locked!.method).toBe('PUT');
    expect(locked!.path).toBe('/vault/repo/data/ab/ab01');
    expect(locked!.headers).toMatchObject({ 'x-amz-object-lock-mode': 'COMPLIANCE', 'x-amz-object-lock-retain-until-date': '2027-01-01T00:00:00Z' });
    // The CRC32 of "pack bytes", base64: S3 refuses a retention on a put without a checksum.
    expect(locked!.headers['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    expect(Object.keys(plain!.headers).filter((h) => h.startsWith('x-amz-object-lock') || h.startsWith('x-amz-checksum'))).toEqual([]);
  });

  it('sends them when a pack above the multipart threshold starts its upload, and checksums every part', async () => {
    const { store, sent } = capturing((r) => {
      if (r.method === 'POST' && 'uploads' in r.query)
        return {
          statusCode: 200,
          body: '<InitiateMultipartUploadResult><Bucket>vault</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>',
        };
      if (r.method === 'POST') return { statusCode: 200, body: '<CompleteMultipartUploadResult><ETag>"e"</ETag></CompleteMultipartUploadResult>' };
      return { statusCode: 200, headers: { etag: '"p"' } };
    });
    await store.put('data/cd/cd01', [Buffer.alloc(17 * 1024 * 1024, 7)], { retention: { mode: 'COMPLIANCE', until } });
    const create = sent.find((r) => r.method === 'POST' && 'uploads' in r.query)!;
    expect(create.headers).toMatchObject({
      'x-amz-object-lock-mode': 'COMPLIANCE',
      'x-amz-object-lock-retain-until-date': '2027-01-01T00:00:00Z',
      'x-amz-checksum-algorithm': 'CRC32',
    });
    const parts = sent.filter((r) => r.method === 'PUT' && 'partNumber' in r.query);
    expect(parts).toHaveLength(3);
    for (const part of parts) expect(part.headers['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
  });

  it('extends retention with PutObjectRetention and reads it back from HeadObject', async () => {
    const { store, sent } = capturing((r) =>
      r.method === 'HEAD'
        ? {
            statusCode: 200,
            headers: { 'content-length': '10', 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': '2027-01-01T00:00:00Z' },
          }
        : { statusCode: 200 },
    );
    await store.extendRetention('data/ab/ab01', { mode: 'GOVERNANCE', until });
    const put = sent[0]!;
    expect(put.method).toBe('PUT');
    expect(put.path).toBe('/vault/repo/data/ab/ab01');
    expect(Object.keys(put.query)).toContain('retention');
    expect(put.body).toContain('<Mode>GOVERNANCE</Mode>');
    expect(put.body).toContain('<RetainUntilDate>2027-01-01T00:00:00Z</RetainUntilDate>');
    expect(await store.stat('data/ab/ab01')).toEqual({ key: 'data/ab/ab01', size: 10, retainUntil: until });
  });

  it('accepts a bucket with Object Lock enabled and names the problem for one without', async () => {
    const enabled = capturing(() => ({
      statusCode: 200,
      body: '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>',
    }));
    await enabled.store.checkObjectLock();
    expect(Object.keys(enabled.sent[0]!.query)).toContain('object-lock');
    const missing = capturing(() => ({
      statusCode: 404,
      body: '<Error><Code>ObjectLockConfigurationNotFoundError</Code><Message>Object Lock configuration does not exist for this bucket</Message></Error>',
    }));
    const err = await missing.store.checkObjectLock().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toMatch(/bucket vault does not have Object Lock enabled/);
    expect((err as InvalidInputError).field).toBe('object-lock');
  });
});
