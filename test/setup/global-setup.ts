/**
 * Vitest globalSetup: starts one s3rver for the whole run on 127.0.0.1, on a free port, over a
 * temporary directory, and provides its URL to tests as `inject('s3Endpoint')`. Tests isolate
 * themselves by creating their own bucket (createTestBucket in test/setup/s3.ts). s3rver runs in
 * a child process: see s3rver-process.mjs for why. Also makes the temporary folder that holds
 * each bucket's index cache (`inject('testCacheRoot')`), removed with the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
// Brings 'vitest' into the program so the ProvidedContext augmentation below has a module to extend.
import type {} from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    testCacheRoot: string;
  }
}

const SERVER_SCRIPT = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));
/** s3rver starts in well under a second; 30 s means something is broken, not slow. */
const START_TIMEOUT_MS = 30_000;
/** Time for a clean close before the server is killed. */
const STOP_TIMEOUT_MS = 5_000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const directory = await mkdtemp(join(tmpdir(), 'snapfleet-s3rver-'));
  const cacheRoot = await mkdtemp(join(tmpdir(), 'snapfleet-test-cache-'));
  project.provide('testCacheRoot', cacheRoot);
  const child = spawn(process.execPath, ['--openssl-legacy-provider', SERVER_SCRIPT, directory], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const endpoint = await readEndpoint(child);
    project.provide('s3Endpoint', endpoint);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    await rm(cacheRoot, { recursive: true, force: true });
    throw err;
  }
  return async () => {
    await stopServer(child);
    await rm(directory, { recursive: true, force: true });
    await rm(cacheRoot, { recursive: true, force: true });
  };
}

async function readEndpoint(child: ChildProcess): Promise<string> {
  if (child.stdout === null) throw new Error('s3rver child has no stdout');
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  try {
    const first = await Promise.race([
      once(lines, 'line').then(([line]) => String(line)),
      once(child, 'exit').then(([code]) => {
        throw new Error(`s3rver exited with code ${String(code)} before it was ready`);
      }),
    ]);
    const { endpoint } = JSON.parse(first) as { endpoint?: unknown };
    if (typeof endpoint !== 'string') throw new Error(`unexpected s3rver ready line: ${first}`);
    return endpoint;
  } finally {
    clearTimeout(timer);
    lines.close();
    child.stdout.resume(); // keep draining: a full pipe would block the server
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
