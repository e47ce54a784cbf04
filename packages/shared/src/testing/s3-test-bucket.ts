/**
 * A fresh bucket on the test S3 server (s3rver) that test/setup/global-setup.ts starts once per
 * run. Every test makes its own bucket, so tests never see each other's objects, and its own
 * index cache folder (SNAPFLEET_CACHE_DIR) under the run's temporary cache root, so that no test
 * writes into the developer's home or reads another test's cache.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the run's s3rver, e.g. http://127.0.0.1:41234 */
    s3Endpoint: string;
    /** A temporary folder for the run's index caches, removed when the run ends. */
    testCacheRoot: string;
  }
}

export interface TestBucket {
  bucket: string;
  endpoint: string;
  /** `s3://bucket/prefix` for openBlobStore. */
  repoUrl: string;
  /**
   * The environment an S3 adapter needs to reach the bucket (s3rver accepts only S3RVER/S3RVER),
   * and the bucket's own index cache folder.
   */
  env: Record<string, string>;
}

/** Creates a uniquely named bucket; `prefix` is the repository path inside it. */
export async function createTestBucket(options: { prefix?: string } = {}): Promise<TestBucket> {
  const endpoint = inject('s3Endpoint');
  const cacheRoot = inject('testCacheRoot');
  if (!endpoint || !cacheRoot) throw new Error('no s3Endpoint or testCacheRoot provided: is test/setup/global-setup.ts the vitest globalSetup?');
  // Bucket names allow 3-63 lowercase letters, digits and dashes; 12 random hex digits never collide in a run.
  const bucket = `test-${randomBytes(6).toString('hex')}`;
  // s3rver accepts unsigned requests, so a plain PUT creates the bucket without an SDK here.
  const response = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
  if (!response.ok) throw new Error(`creating bucket ${bucket} on ${endpoint} failed: HTTP ${response.status} ${await response.text()}`);
  const prefix = options.prefix ?? 'repo';
  return {
    bucket,
    endpoint,
    repoUrl: prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      SNAPFLEET_S3_CHECKSUM: 'when-required',
      SNAPFLEET_S3_FORCE_PATH_STYLE: 'true',
      SNAPFLEET_CACHE_DIR: `${cacheRoot}/${bucket}`,
    },
  };
}
