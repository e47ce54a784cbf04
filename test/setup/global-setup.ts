/**
 * Vitest globalSetup: starts one s3rver for the whole run on 127.0.0.1, on a free port, over a
 * temporary directory, and provides its URL to tests as `inject('s3Endpoint')`. Tests isolate
 * themselves by creating their own bucket (createTestBucket in test/setup/s3.ts). s3rver runs in
 * a child process: see s3rver-process.mjs for why. Also makes the temporary folder that holds
 * each bucket's index cache (`inject('testCacheRoot')`), removed with the server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
// Brings 'vitest' into the program so the ProvidedContext augmentation below has a module to extend.
import type {} from 'vitest';
import { launchS3rver } from './s3rver-launch.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    testCacheRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const directory = await mkdtemp(join(tmpdir(), 'snapfleet-s3rver-'));
  const cacheRoot = await mkdtemp(join(tmpdir(), 'snapfleet-test-cache-'));
  project.provide('testCacheRoot', cacheRoot);
  const server = await launchS3rver(directory).catch(async (err: unknown) => {
    await rm(directory, { recursive: true, force: true });
    await rm(cacheRoot, { recursive: true, force: true });
    throw err;
  });
  project.provide('s3Endpoint', server.endpoint);
  return async () => {
    await server.stop();
    await rm(directory, { recursive: true, force: true });
    await rm(cacheRoot, { recursive: true, force: true });
  };
}
