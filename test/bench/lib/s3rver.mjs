// The S3 test server for scenarios that measure snapfleet over S3: s3rver (the npm dev dependency
// the tests use), started through the tests' own launcher (test/setup/s3rver-launch.mjs), in a
// process of its own (with --openssl-legacy-provider, without which listings longer than one
// page fail; it stops when its stdin closes, so a killed bench leaves no server behind). It runs
// on 127.0.0.1 on a port the OS picks, over a folder the scenario owns. restic 0.14 cannot use
// it (/work/shared/TOOLCHAIN.md), so only snapfleet is measured over it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { launchS3rver } from '../../setup/s3rver-launch.mjs';

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

/**
 * Starts s3rver over `directory`. Returns its endpoint, the environment that points the CLI (and
 * the S3 store) at it, its CPU seconds so far (what serving a restore cost it), createBucket and stop.
 */
export async function startS3rver(directory) {
  const { child, endpoint, stop } = await launchS3rver(directory);
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
    stop,
  };
}
