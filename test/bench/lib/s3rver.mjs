// The S3 test server for scenarios that measure snapfleet over S3: s3rver (the npm dev dependency
// the tests use), started through the tests' own launcher, test/setup/s3rver-process.mjs, in a
// process of its own (with --openssl-legacy-provider, without which listings longer than one
// page fail; it stops when its stdin closes, so a killed bench leaves no server behind). It runs
// on 127.0.0.1 on a port the OS picks, over a folder the scenario owns. restic 0.14 cannot use
// it (/work/shared/TOOLCHAIN.md), so only snapfleet is measured over it.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';

/** s3rver starts in well under a second; 30 s means something is broken, not slow. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
/** s3rver accepts only these credentials. */
const ACCESS_KEY = 'S3RVER';

/** Clock ticks per second of /proc/PID/stat's CPU times (100 on Linux, but asked, not assumed). */
function clockTicks() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** User + system CPU seconds a process has used so far (Linux), or undefined. */
function processCpuS(pid, ticks) {
  try {
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return undefined;
  }
}

async function readEndpoint(child) {
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  try {
    const first = await Promise.race([
      once(lines, 'line').then(([line]) => String(line)),
      once(child, 'exit').then(([code]) => {
        throw new Error(`s3rver exited with code ${code} before it was ready`);
      }),
    ]);
    const { endpoint } = JSON.parse(first);
    if (typeof endpoint !== 'string') throw new Error(`unexpected s3rver ready line: ${first}`);
    return endpoint;
  } finally {
    clearTimeout(timer);
    lines.close();
    child.stdout.resume(); // keep draining: a full pipe would block the server
  }
}

/**
 * Starts s3rver over `directory`. Returns its endpoint, the environment that points the CLI (and
 * the S3 store) at it, its CPU seconds so far (what serving a restore cost it), createBucket and stop.
 */
export async function startS3rver(cfg, directory) {
  const script = join(cfg.repoRoot, 'test/setup/s3rver-process.mjs');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', script, directory], { stdio: ['pipe', 'pipe', 'inherit'] });
  let endpoint;
  try {
    endpoint = await readEndpoint(child);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const ticks = clockTicks();
  return {
    endpoint,
    pid: child.pid,
    // Path-style requests and checksums only when required are what s3rver needs (TOOLCHAIN.md):
    // set here rather than left to the CLI's defaults for a custom endpoint.
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: ACCESS_KEY,
      SNAPFLEET_S3_CHECKSUM: 'when-required',
      SNAPFLEET_S3_FORCE_PATH_STYLE: 'true',
    },
    cpuS: () => processCpuS(child.pid, ticks),
    async createBucket(bucket) {
      // s3rver accepts unsigned requests: a plain PUT makes the bucket (as the tests' createTestBucket does).
      const response = await globalThis.fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
      if (!response.ok) throw new Error(`creating bucket ${bucket} on ${endpoint} failed: HTTP ${response.status} ${await response.text()}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
