import { describe, expect, it } from 'vitest';
import type { CliContext } from '../context.js';
import { fleetLogger, prettyLine } from './fleet-logger.js';

function context(isTTY: boolean, env: Record<string, string> = {}) {
  const lines: string[] = [];
  const ctx = { env, hostname: 'host-a', stderr: { write: (s: string) => void lines.push(s), isTTY }, stdout: { write: () => {} } } as unknown as CliContext;
  return { ctx, lines };
}

describe('fleet logs', () => {
  it('are JSON lines when stderr is not a terminal', () => {
    const { ctx, lines } = context(false);
    fleetLogger(ctx, { role: 'worker', prefix: 'p' }).info({ volume: 'db-1' }, 'archived');
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'archived', volume: 'db-1', role: 'worker' });
  });

  it('are one human line each on a terminal, and JSON there when asked', () => {
    const tty = context(true);
    fleetLogger(tty.ctx, { role: 'worker', prefix: 'p' }).warn({ volume: 'db-1', attempt: 2 }, 'retrying');
    expect(tty.lines[0]).toMatch(/^\d\d:\d\d:\d\d warn retrying volume=db-1 attempt=2\n$/);
    const asked = context(true, { SNAPFLEET_LOG_FORMAT: 'json' });
    fleetLogger(asked.ctx, { role: 'worker', prefix: 'p' }).info({}, 'started');
    expect(JSON.parse(asked.lines[0]!)).toMatchObject({ msg: 'started' });
  });

  it('refuses an unknown format, naming the variable', () => {
    expect(() => fleetLogger(context(true, { SNAPFLEET_LOG_FORMAT: 'xml' }).ctx, {})).toThrow(/SNAPFLEET_LOG_FORMAT/);
  });

  it('passes a line that is not JSON through as it is', () => {
    expect(prettyLine('not json\n')).toBe('not json\n');
  });
});
