/**
 * One prune at a time per repository, across processes and hosts: while another prune's lease is
 * live (held here by the test, as a prune on host "other-host" would), `snapfleet prune` exits 11
 * naming that lease and host, and changes nothing; a dry run still reports. A lease left by a
 * prune that was killed on this machine does not block: the next prune sees that its process is
 * gone, deletes it, runs and frees the forgotten snapshot's space.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { acquireLease, openRepository } from '@snapfleet/shared';
import { FolderBlobStore, localProcessIdentity } from '@snapfleet/providers';
import { createImage, describeRun, listFiles, makeTempDir, mutateImage, parseJson, removeDir, runCli, type CliEnv } from '../support/cli.js';

const PASSWORD = 'prune-lock-pw-7Hq!';

let dir: string;
let env: CliEnv;

beforeAll(async () => {
  dir = await makeTempDir('prune-lock');
  env = { SNAPFLEET_REPOSITORY: join(dir, 'repo'), SNAPFLEET_PASSWORD: PASSWORD };
  const image = join(dir, 'vol.img');
  await createImage(image, 8, 31);
  for (const args of [['init'], ['archive', '--volume-id', 'v1', image]]) {
    const r = await runCli(args, env);
    expect(r.code, describeRun(r)).toBe(0);
  }
  await mutateImage(image, 0.5, 32);
  for (const args of [
    ['archive', '--volume-id', 'v1', image],
    ['forget', '--volume-id', 'v1', '--keep-last', '1'],
  ]) {
    const r = await runCli(args, env);
    expect(r.code, describeRun(r)).toBe(0);
  }
});
afterAll(async () => {
  await removeDir(dir);
});

it('refuses to prune while another prune holds the repository, then prunes once it is gone', async () => {
  const repo = await openRepository(new FolderBlobStore(join(dir, 'repo')), { password: PASSWORD });
  const clock = { now: () => new Date() };
  const other = await acquireLease(repo, clock, 'prune', 'other-host');
  const before = (await listFiles(join(dir, 'repo'))).sort();
  try {
    const blocked = await runCli(['prune', '--json'], env);
    expect(blocked.code, describeRun(blocked)).toBe(11);
    expect(blocked.stderr).toMatch(new RegExp(`another prune is running .*lease ${other.id} on other-host`));
    expect(blocked.stderr).not.toContain(PASSWORD);
    // Nothing changed but the repository's audit trail, which records the refusal.
    const after = (await listFiles(join(dir, 'repo'))).sort();
    expect(after.filter((f) => !f.includes('audit/'))).toEqual(before.filter((f) => !f.includes('audit/')));
    expect(after.filter((f) => f.includes('audit/'))).toHaveLength(before.filter((f) => f.includes('audit/')).length + 1);

    const dry = await runCli(['prune', '--dry-run', '--json'], env);
    expect(dry.code, describeRun(dry)).toBe(0);
    expect(parseJson<{ condemnedPacks: number }>(dry).condemnedPacks).toBeGreaterThan(0);
  } finally {
    await other.release();
  }

  // A prune killed on this machine: its lease names a process that no longer exists.
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  const here = localProcessIdentity()!.self.pidSpace;
  // (The handle only stops its renewal timer at the end; the dead process would never renew.)
  const stale = await acquireLease(repo, clock, 'prune', 'this-host', { pid: child.pid!, pidSpace: here });

  const r = await runCli(['prune', '--json'], env);
  expect(r.code, describeRun(r)).toBe(0);
  const report = parseJson<{ freedBytes: number; waiting: unknown[] }>(r);
  expect(report.freedBytes).toBeGreaterThan(0);
  expect(report.waiting).toEqual([]);
  expect((await listFiles(join(dir, 'repo'))).filter((f) => f.includes('locks/'))).toEqual([]);
  const verify = await runCli(['verify'], env);
  expect(verify.code, describeRun(verify)).toBe(0);
  await stale.release().catch(() => undefined);
});
