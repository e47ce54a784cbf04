// Runs one command under GNU time (`/usr/bin/time -f '%e %U %S %M'`) and returns wall, user and
// system seconds and the peak RSS. stdout/stderr go to log files, not through Node, so the
// harness never sits in the measured data path.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

export const TIME_BIN = '/usr/bin/time';
const TIME_FORMAT = '%e %U %S %M'; // wall s, user s, sys s, max RSS KiB
const STDOUT_KEEP_BYTES = 1 << 20; // stdout is kept in memory only when small (JSON summaries)

export class ToolError extends Error {}

function tail(path, lines) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function parseTime(path) {
  // GNU time writes "Command exited with non-zero status N" before the format line on failure.
  const last = readFileSync(path, 'utf8').trim().split('\n').pop() ?? '';
  const [wall, user, sys, rss] = last.trim().split(/\s+/).map(Number);
  if (![wall, user, sys, rss].every(Number.isFinite)) throw new Error(`cannot parse GNU time output in ${path}: ${last}`);
  return { wallS: wall, userS: user, sysS: sys, maxRssKiB: rss };
}

/**
 * @param {{argv: string[], env?: Record<string,string>, cwd?: string, stdinPath?: string}} cmd
 * @param {{logDir: string, label: string}} opts  label names the log files
 */
export async function runTimed(cmd, { logDir, label }) {
  const files = {
    out: join(logDir, `${label}.out`),
    err: join(logDir, `${label}.err`),
    time: join(logDir, `${label}.time`),
  };
  const stdin = cmd.stdinPath ? openSync(cmd.stdinPath, 'r') : 'ignore';
  const out = openSync(files.out, 'w');
  const err = openSync(files.err, 'w');
  const t0 = process.hrtime.bigint();
  let code;
  try {
    code = await new Promise((resolvePromise, reject) => {
      const child = spawn(TIME_BIN, ['-f', TIME_FORMAT, '-o', files.time, '--', ...cmd.argv], {
        cwd: cmd.cwd,
        env: { ...process.env, ...cmd.env },
        stdio: [stdin, out, err],
      });
      child.on('error', reject);
      child.on('exit', (c, signal) => resolvePromise(signal ? `signal ${signal}` : c));
    });
  } finally {
    for (const fd of [stdin, out, err]) if (typeof fd === 'number') closeSync(fd);
  }
  const hrWallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (code !== 0) {
    throw new ToolError(
      `${label}: \`${cmd.argv.join(' ')}\` failed (${typeof code === 'number' ? `exit ${code}` : code})\n` +
        `--- stderr (last lines, full log ${files.err}) ---\n${tail(files.err, 25)}\n` +
        `--- stdout (last lines) ---\n${tail(files.out, 10)}`,
    );
  }
  const stdout = statSync(files.out).size <= STDOUT_KEEP_BYTES ? readFileSync(files.out, 'utf8') : '';
  return { ...parseTime(files.time), hrWallS, stdout, logs: files };
}

/** A tool's `--json` output, or an error naming the step (`what`) and what it printed instead. */
export function parseJson(stdout, what) {
  try {
    return JSON.parse(stdout.trim());
  } catch {
    throw new Error(`${what}: stdout is not JSON: ${stdout.slice(0, 200)}`);
  }
}
