/**
 * The fleet processes' logger: pino on stderr, secrets redacted, JSON lines for log collectors or
 * one short line per record on a terminal. Planner and worker see only the FleetLogger port.
 */
import { pino } from 'pino';
import { InvalidInputError } from '@snapfleet/shared';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import type { CliContext } from '../context.js';
import { lineBuffer } from '../line-buffer.js';

/**
 * Logs on stderr: JSON lines for log collectors, or one short human line per record when
 * stderr is a terminal (SNAPFLEET_LOG_FORMAT=json|pretty overrides). Secrets in known places
 * are redacted (config values are Secret anyway). A pino logger is a FleetLogger as it is: the port
 * is the part of pino's API the fleet uses, so the compiler checks the two stay in line.
 */
export function fleetLogger(ctx: CliContext, bindings: object): FleetLogger {
  const level = ctx.env.SNAPFLEET_LOG_LEVEL || 'info';
  const format = ctx.env.SNAPFLEET_LOG_FORMAT || (ctx.stderr.isTTY ? 'pretty' : 'json');
  if (format !== 'json' && format !== 'pretty')
    throw new InvalidInputError(`SNAPFLEET_LOG_FORMAT must be json or pretty, not "${format}"`, 'SNAPFLEET_LOG_FORMAT');
  let write = (s: string) => ctx.stderr.write(s);
  if (ctx.onExit) {
    const buffer = lineBuffer(write, LOG_FLUSH_MS);
    ctx.onExit(() => buffer.flush());
    write = (s) => buffer.write(s);
  }
  return pino(
    {
      level,
      base: { pid: undefined, hostname: ctx.hostname, ...bindings },
      redact: { paths: ['password', '*.password', 'token', '*.token', 'auth', '*.auth'], censor: '[redacted]' },
    },
    { write: (s: string) => write(format === 'json' ? s : prettyLine(s)) },
  );
}

/** How long log lines may wait to be written together (line-buffer.ts). */
export const LOG_FLUSH_MS = 50;

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** One pino JSON record as `12:00:01 warn message key=value ...` (bindings left out). */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, time, msg, hostname: _host, role: _role, prefix: _prefix, ...rest } = record;
  const at = typeof time === 'number' ? new Date(time).toISOString().slice(11, 19) : '';
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${at} ${LEVEL_NAMES[level as number] ?? String(level)} ${String(msg ?? '')}${fields ? ` ${fields}` : ''}\n`;
}
