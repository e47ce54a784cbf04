/**
 * `snapfleet demo init` then `snapfleet run --once`: the embedded default end to end, in real
 * processes against real Redis: every sample volume is archived and restores byte-identical.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeTempDir, parseJson, removeDir, runCli, sha256File } from '../support/cli.js';
import { deletePrefix, uniquePrefix } from '../support/fleet.js';

describe('snapfleet run --once on a demo directory', () => {
  let dir: string;
  const prefix = uniquePrefix('once');
  const env = { REDIS_URL: 'redis://127.0.0.1:6379' };

  beforeAll(async () => {
    dir = await makeTempDir('fleet-once');
  });
  afterAll(async () => {
    await deletePrefix(prefix);
    await removeDir(dir);
  });

  it('archives every volume, and each restores byte-identical', async () => {
    const init = await runCli(['demo', 'init', dir, '--volumes', '3', '--size-mib', '8']);
    expect(init.code, describeRun(init)).toBe(0);
    expect(init.stdout).toContain(`next: snapfleet run --config ${join(dir, 'fleet.yaml')} --once`);

    const run = await runCli(['run', '--config', join(dir, 'fleet.yaml'), '--once', '--prefix', prefix, '--json'], env);
    expect(run.code, describeRun(run)).toBe(0);
    const summary = parseJson<{ slot: string; volumes: { volumeId: string; state: string; snapshotId: string }[] }>(run);
    expect(summary.volumes.map((v) => [v.volumeId, v.state])).toEqual([
      ['demo-1', 'completed'],
      ['demo-2', 'completed'],
      ['demo-3', 'completed'],
    ]);
    // Logs are JSON lines with the job, policy and volume, and never the repository password.
    const password = (await readFile(join(dir, 'password'), 'utf8')).trim();
    expect(run.stderr).not.toContain(password);
    expect(run.stderr).toMatch(/"jobId":"archive-hourly-demo-1-\d{8}T\d{6}(\.\d{3})?Z".*"policy":"hourly".*"volume":"demo-1"/);

    const repoArgs = ['--repo', join(dir, 'repo'), '--password-file', join(dir, 'password')];
    for (const v of summary.volumes) {
      const to = join(dir, `${v.volumeId}.restored`);
      const r = await runCli(['restore', ...repoArgs, '--snapshot', v.snapshotId, '--to', to]);
      expect(r.code, describeRun(r)).toBe(0);
      expect(await sha256File(to)).toBe(await sha256File(join(dir, 'volumes', `${v.volumeId}.img`)));
    }

    const status = await runCli(['status', '--config', join(dir, 'fleet.yaml'), '--prefix', prefix, '--json'], env);
    expect(status.code, describeRun(status)).toBe(0);
    const s = parseJson<{ queues: Record<string, Record<string, number>>; volumes: { volumeId: string; ageSeconds: number }[] }>(status);
    expect(s.queues.archive!.completed).toBe(3);
    expect(s.volumes).toHaveLength(3);
    for (const v of s.volumes) expect(v.ageSeconds).toBeGreaterThanOrEqual(0);

    // Every queue the run used keeps the configured events cap (fleet.jobs.keepEvents, 1,000 by
    // default); status, run after it, left it alone.
    const redis = new Redis(env.REDIS_URL);
    try {
      for (const q of ['snapshot', 'archive', 'retention']) expect(await redis.hget(`${prefix}:${q}:meta`, 'opts.maxLenEvents'), q).toBe('1000');
    } finally {
      redis.disconnect();
    }
  });
});
