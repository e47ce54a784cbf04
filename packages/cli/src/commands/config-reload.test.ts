import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetConfig } from '@snapfleet/shared/config';
import { silentLogger } from '@snapfleet/shared/jobs';
import type { CliContext } from '../context.js';
import { reloadConfigOnSignal } from './config-reload.js';

describe('reloadConfigOnSignal', () => {
  let dir: string;
  let path: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'snapfleet-reload-'));
    path = join(dir, 'fleet.yaml');
    await writeFile(path, 'repositories: { main: { url: ./repo } }\npolicies: []\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds a SIGHUP that comes during start-up and applies it once started', async () => {
    let signal: (() => Promise<void>) | undefined;
    let released = false;
    const ctx = { env: {}, onReload: (h: () => Promise<void>) => ((signal = h), { release: () => (released = true) }) } as unknown as CliContext;
    const applied: FleetConfig[] = [];
    const reloader = reloadConfigOnSignal(ctx, path, silentLogger, async (next) => {
      applied.push(next);
      return [];
    });
    // Registered at once, so the signal is never left to its default action (exit).
    expect(signal).toBeDefined();
    const held = signal!();
    await new Promise((r) => setTimeout(r, 50));
    expect(applied).toHaveLength(0);
    reloader.started();
    await held;
    expect(applied).toHaveLength(1);
    expect(applied[0]!.repositories.main!.url).toBe(join(dir, 'repo'));
    await reloader.reload('file change');
    expect(applied).toHaveLength(2);
    reloader.release();
    expect(released).toBe(true);
  });
});
