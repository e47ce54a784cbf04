import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { localProcessIdentity } from './local-process-identity.js';

const linux = process.platform === 'linux';

describe.skipIf(!linux)('localProcessIdentity', () => {
  it('names this process, and calls gone only an exited process of the same pid space', async () => {
    const identity = localProcessIdentity()!;
    expect(identity.self.pid).toBe(process.pid);
    expect(identity.self.pidSpace).toMatch(/^[0-9a-f-]{36}\/pid:\[\d+\]$/);
    expect(identity.isGone(identity.self)).toBe(false);

    const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      expect(identity.isGone({ pid: running.pid!, pidSpace: identity.self.pidSpace })).toBe(false);
    } finally {
      running.kill('SIGKILL');
      await once(running, 'exit');
    }
    // Exited and reaped: no process has that pid now (pids are reused only after wrapping round).
    expect(identity.isGone({ pid: running.pid!, pidSpace: identity.self.pidSpace })).toBe(true);
    // The same pid elsewhere (another machine, boot or container) is never judged from here.
    expect(identity.isGone({ pid: running.pid!, pidSpace: 'another-boot/pid:[1]' })).toBe(false);
  });
});
