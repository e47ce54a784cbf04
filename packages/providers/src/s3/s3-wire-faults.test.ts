/**
 * The S3 store against the test server through the fault proxy: the faults the SDK cannot retry
 * by itself (a body cut short after the headers came, a multipart completion whose answer was
 * lost after the server acted on it) are handled by the store, and never yield short or wrong data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TransientError } from '@snapfleet/shared';
import { createTestBucket, seededBytes, startFaultProxy, type FaultProxy, type FaultProxyOptions } from '@snapfleet/shared/testing';
import { S3BlobStore } from './s3-blob-store.js';

const MiB = 1024 * 1024;
/** Above the 5 MiB threshold set below: two parts of 5 MiB and 1 MiB. */
const MULTIPART_OBJECT = 6 * MiB;

let proxy: FaultProxy | undefined;
let store: S3BlobStore | undefined;

afterEach(async () => {
  store?.destroy();
  await proxy?.close();
  proxy = store = undefined;
});

/** A store whose requests pass the proxy; `direct` reaches the same bucket without it. */
async function storeBehindProxy(
  options: Omit<FaultProxyOptions, 'target' | 'seed'>,
  maxAttempts: number,
): Promise<{ store: S3BlobStore; direct: S3BlobStore; proxy: FaultProxy }> {
  const bucket = await createTestBucket();
  proxy = await startFaultProxy({ target: bucket.endpoint, seed: 1, ...options });
  const sizes = { SNAPFLEET_S3_MULTIPART_THRESHOLD: '5MiB', SNAPFLEET_S3_PART_SIZE: '5MiB', AWS_MAX_ATTEMPTS: String(maxAttempts) };
  store = S3BlobStore.fromEnv(bucket.repoUrl, { ...bucket.env, ...sizes, AWS_ENDPOINT_URL_S3: proxy.endpoint });
  return { store, direct: S3BlobStore.fromEnv(bucket.repoUrl, { ...bucket.env, ...sizes }), proxy };
}

describe('S3BlobStore through the fault proxy', () => {
  it('sends a GET again when its body is cut short, and gives up after maxAttempts tries without returning short data', async () => {
    const { store, direct, proxy } = await storeBehindProxy({ rates: { truncate: 1 } }, 3);
    const data = seededBytes(256 * 1024, 5);
    await direct.put('data/ab/one', data);
    const err = await store.get('data/ab/one').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/key data\/ab\/one.*(attempt 3 of 3|after 3 attempts)/);
    // The SDK's own retries stop once the headers came: each try is one request.
    expect(proxy.stats.requests).toBe(3);
    expect(proxy.stats.cutBodies).toBe(3);

    // Half the bodies cut: every get returns the whole object or fails, never a part of it.
    proxy.setRates({ truncate: 0.5 });
    let whole = 0;
    for (let i = 0; i < 10; i++) {
      const got = await store.get('data/ab/one').catch((e: unknown) => e);
      if (got instanceof TransientError) continue;
      expect(Buffer.from(got as Uint8Array).equals(data)).toBe(true);
      whole++;
    }
    expect(whole).toBeGreaterThan(5);
    expect(proxy.stats.cutBodies).toBeGreaterThan(6);
    direct.destroy();
  });

  it('accepts a multipart upload whose completion the server applied but whose answer was lost', async () => {
    const { store, direct, proxy } = await storeBehindProxy(
      {
        rates: { 'internal-error': 1 },
        afterForwardShare: 1,
        // CompleteMultipartUpload: POST ?uploadId=... (CreateMultipartUpload is POST ?uploads).
        only: (r) => r.method === 'POST' && r.url.includes('uploadId='),
      },
      2,
    );
    const data = seededBytes(MULTIPART_OBJECT, 6);
    await store.put('data/cd/two', data);
    expect(proxy.stats.afterForward).toBeGreaterThan(0);
    expect(Buffer.from(await direct.get('data/cd/two')).equals(data)).toBe(true);
    direct.destroy();
  });

  it('fails a multipart upload whose completion never reached the server, naming the key', async () => {
    const { store, direct, proxy } = await storeBehindProxy(
      {
        rates: { 'internal-error': 1 },
        afterForwardShare: 0,
        only: (r) => r.method === 'POST' && r.url.includes('uploadId='),
      },
      2,
    );
    const err = await store.put('data/ef/three', seededBytes(MULTIPART_OBJECT, 7)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/S3 put s3:\/\/\S+ key data\/ef\/three failed after 2 attempts \(InternalError, HTTP 500\)/);
    expect(proxy.stats.injected['internal-error']).toBe(2);
    expect(await direct.stat('data/ef/three')).toBeUndefined();
    direct.destroy();
  });
});
