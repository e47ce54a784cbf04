/**
 * Starts the simulated account (account-server.mjs) as its own process on a free loopback port,
 * for tests and benchmarks: `const sim = await startAccountServer({ worldDir, settings })`, point
 * the fleet at `sim.url` (sim.env() gives the SDK's endpoint and credential variables), read
 * `await sim.stats()` while it runs, and `await sim.stop()` for the final stats.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath, URL } from 'node:url';
/* global fetch -- Node's own, since Node 18 */

const SERVER = fileURLToPath(new URL('./account-server.mjs', import.meta.url));
/** Loading the SDK's schemas takes well under a second; ten means something is wrong. */
const START_TIMEOUT_MS = 10_000;

export async function startAccountServer({ worldDir, settings = {} }) {
  const tmp = await mkdtemp(join(tmpdir(), 'snapfleet-sim-'));
  const settingsFile = join(tmp, 'settings.json');
  const statsFile = join(tmp, 'stats.json');
  await writeFile(settingsFile, JSON.stringify(settings));
  const child = spawn(process.execPath, [SERVER, '--world', worldDir, '--settings', settingsFile, '--port', '0', '--stats-out', statsFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`account server did not start in ${START_TIMEOUT_MS} ms\n${stderr}`)), START_TIMEOUT_MS);
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`account server exited with ${code}\n${stderr}`));
    });
  });
  child.stdout.resume();

  return {
    url,
    /** The server's process id (a benchmark samples its CPU and memory from /proc). */
    pid: child.pid,
    /** What the server printed on stderr so far (its own bugs only: faults are answers, not logs). */
    stderr: () => stderr,
    /** What a `snapfleet` process needs to use this account through the SDK's default chains. */
    env: () => ({
      AWS_ENDPOINT_URL_EC2: url,
      AWS_ENDPOINT_URL_EBS: url,
      AWS_ACCESS_KEY_ID: 'AKIASIMULATEDACCOUNT',
      AWS_SECRET_ACCESS_KEY: 'simulated-account-secret',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    async stats() {
      const r = await fetch(`${url}/__sim/stats`);
      return r.json();
    },
    /** Stops the server (SIGTERM) and returns its final stats. */
    async stop() {
      if (child.exitCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      try {
        return JSON.parse(await readFile(statsFile, 'utf8'));
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}
