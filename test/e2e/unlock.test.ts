/**
 * `snapfleet unlock` through the CLI: the lease of an archive killed with SIGKILL is removed (its
 * process is gone on this machine), a live one is kept, and `--remove-all` removes everything
 * with a warning naming the live leases. A junk object under locks/ stops prune with a message
 * naming it and the way out.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createImage, describeRun, makeTempDir, parseJson, removeDir, runCli, snapfleetStderr, spawnCli, type CliEnv } from '../support/cli.js';

const PASSWORD = 'unlock-pw-7%';
let dir: string;
let env: CliEnv;
let image: string;

beforeAll(async () => {
  dir = await makeTempDir('unlock');
  env = { SNAPFLEET_REPOSITORY: join(dir, 'repo'), SNAPFLEET_PASSWORD: PASSWORD };
  image = join(dir, 'vol.img');
  await createImage(image, 256, 9);
  const init = await runCli(['init'], env);
  expect(init.code, describeRun(init)).toBe(0);
});

afterAll(async () => {
  await removeDir(dir);
});

const locks = async () => (await readdir(join(dir, 'repo', 'locks')).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));

interface Unlocked {
  removed: { key: string; state: string; kind?: string }[];
  kept: { key: string; state: string; kind?: string }[];
}

it('removes the lease of an archive killed on this machine, keeps a running one unless --remove-all', async () => {
  // An archive killed once its lease is stored.
  const killed = spawnCli(['archive', image, '--volume-id', 'vol-k'], env);
  while ((await locks()).length === 0 && killed.child.exitCode === null) await sleep(5);
  killed.child.kill('SIGKILL');
  expect((await killed.done).signal, 'the archive must still have been running').toBe('SIGKILL');
  expect(await locks()).toHaveLength(1);

  // A running archive (stopped with SIGSTOP, so it stays alive and holds its lease).
  const running = spawnCli(['archive', image, '--volume-id', 'vol-r'], env);
  while ((await locks()).length < 2 && running.child.exitCode === null) await sleep(5);
  running.child.kill('SIGSTOP');
  try {
    const first = await runCli(['unlock', '--json'], env);
    expect(first.code, describeRun(first)).toBe(0);
    const report = parseJson<Unlocked>(first);
    expect(report.removed.map((l) => [l.kind, l.state])).toEqual([['archive', 'holder-gone']]);
    expect(report.kept.map((l) => [l.kind, l.state])).toEqual([['archive', 'live']]);
    expect(await locks()).toHaveLength(1);

    const all = await runCli(['unlock', '--remove-all'], env);
    expect(all.code, describeRun(all)).toBe(0);
    expect(snapfleetStderr(all.stderr)).toMatch(/warning: removed 1 lease\(s\) that were live/);
    expect(all.stdout).toMatch(/removed 1 lease\(s\)/);
    expect(await locks()).toEqual([]);
  } finally {
    running.child.kill('SIGKILL');
    await running.done;
  }
});

it('a junk object under locks/ stops prune naming it; unlock --remove-all clears the way', async () => {
  await writeFile(join(dir, 'repo', 'locks', 'junk'), 'g'.repeat(64));
  const stopped = await runCli(['prune'], env);
  expect(stopped.code, describeRun(stopped)).not.toBe(0);
  expect(snapfleetStderr(stopped.stderr)).toMatch(/lease locks\/junk cannot be read .*snapfleet unlock --remove-all/);
  const kept = parseJson<Unlocked>(await runCli(['unlock', '--json'], env));
  expect(kept.kept).toEqual([{ key: 'locks/junk', state: 'unreadable' }]);
  expect((await runCli(['unlock', '--remove-all'], env)).code).toBe(0);
  const pruned = await runCli(['prune', '--json'], env);
  expect(pruned.code, describeRun(pruned)).toBe(0);
});
