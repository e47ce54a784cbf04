/**
 * Archive storage classes on the wire (the S3 test server has none): RestoreObject as sent, the
 * retrieval state read from HeadObject's storage class and x-amz-restore, and a GET of an object
 * not retrieved reported as such.
 */
import { describe, expect, it } from 'vitest';
import { NotRetrievedError } from '@snapfleet/shared';
import { capturing } from './capturing-s3.testing.js';

describe('S3BlobStore with archive storage classes', () => {
  it('asks for a retrieval with RestoreObject, and takes one already under way as done', async () => {
    const { store, sent } = capturing(() => ({ statusCode: 202 }));
    await store.requestRetrieval('data/ab/ab01', { days: 3, tier: 'Bulk' });
    const post = sent[0]!;
    expect(post.method).toBe('POST');
    expect(post.path).toBe('/vault/repo/data/ab/ab01');
    expect(Object.keys(post.query)).toContain('restore');
    expect(post.body).toContain('<Days>3</Days>');
    expect(post.body).toContain('<Tier>Bulk</Tier>');
    const busy = capturing(() => ({
      statusCode: 409,
      body: '<Error><Code>RestoreAlreadyInProgress</Code><Message>Object restore is already in progress</Message></Error>',
    }));
    await expect(busy.store.requestRetrieval('data/ab/ab01', { days: 3, tier: 'Bulk' })).resolves.toBeUndefined();
  });

  it('reads the retrieval state from the storage class and x-amz-restore', async () => {
    const head = (headers: Record<string, string>) => capturing(() => ({ statusCode: 200, headers: { 'content-length': '10', ...headers } })).store;
    expect(await head({}).retrievalState('data/ab/ab01')).toBe('readable');
    expect(await head({ 'x-amz-storage-class': 'STANDARD_IA' }).retrievalState('data/ab/ab01')).toBe('readable');
    expect(await head({ 'x-amz-storage-class': 'GLACIER' }).retrievalState('data/ab/ab01')).toBe('archived');
    expect(await head({ 'x-amz-storage-class': 'DEEP_ARCHIVE', 'x-amz-restore': 'ongoing-request="true"' }).retrievalState('data/ab/ab01')).toBe('retrieving');
    expect(
      await head({ 'x-amz-storage-class': 'GLACIER', 'x-amz-restore': 'ongoing-request="false", expiry-date="Fri, 23 Dec 2026 00:00:00 GMT"' }).retrievalState(
        'data/ab/ab01',
      ),
    ).toBe('readable');
  });

  it('reports a GET of an object not retrieved as NotRetrievedError, naming the key', async () => {
    const { store } = capturing(() => ({
      statusCode: 403,
      body: "<Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class</Message></Error>",
    }));
    const err = await store.get('data/ab/ab01').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotRetrievedError);
    expect((err as NotRetrievedError).key).toBe('data/ab/ab01');
    expect((err as Error).message).toMatch(/archive storage class and not retrieved/);
  });
});
