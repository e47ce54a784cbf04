// Starts s3rver-process.mjs in a child process and waits for its endpoint; shared by the tests'
// global setup and the benchmark's S3 scenarios (test/bench/lib/s3rver.mjs). Plain JavaScript
// so that the benchmark, which has no build step, can import it too.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath, URL } from 'node:url';

const SERVER_SCRIPT = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));
/** s3rver starts in well under a second; 30 s means something is broken, not slow. */
const START_TIMEOUT_MS = 30_000;
/** Time for a clean close before the server is killed. */
const STOP_TIMEOUT_MS = 5_000;

/**
 * Runs s3rver over `directory` on 127.0.0.1 (a port the OS picks), with --openssl-legacy-provider
 * (see s3rver-process.mjs). Resolves once it is ready; a server that fails to start is killed.
 */
export async function launchS3rver(directory) {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', SERVER_SCRIPT, directory], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    return { child, endpoint: await readEndpoint(child), stop: () => stopServer(child) };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

async function readEndpoint(child) {
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  try {
    const first = await Promise.race([
      once(lines, 'line').then(([line]) => String(line)),
      once(child, 'exit').then(([code]) => {
        throw new Error(`s3rver exited with code ${String(code)} before it was ready`);
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

async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
