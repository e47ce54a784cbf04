/**
 * Resilience of the CLI: one damaged snapshot object does not take the others down, an
 * interrupted restore removes its temporary file, and bad flag values are named.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImage, describeRun, makeTempDir, parseJson, removeDir, runCli, sha256File, spawnCli, type CliEnv } from '../support/cli.js';

const PASSWORD = 'resilience-pass-Ee5*rW0';

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await makeTempDir('resilience');
  image = join(dir, 'disk.img');
  await createImage(image, 64, 61);
});

afterAll(async () => {
  await removeDir(dir);
});

async function repoWithTwoSnapshots(name: string): Promise<{ env: CliEnv; repoDir: string; first: string; second: string }> {
  const repoDir = join(dir, name);
  const env = { SNAPFLEET_REPOSITORY: repoDir, SNAPFLEET_PASSWORD: PASSWORD };
  expect((await runCli(['init'], env)).code).toBe(0);
  const a = await runCli(['archive', image, '--volume-id', 'vol-a', '--json'], env);
  expect(a.code, describeRun(a)).toBe(0);
  const b = await runCli(['archive', image, '--volume-id', 'vol-b', '--json'], env);
  expect(b.code, describeRun(b)).toBe(0);
  return { env, repoDir, first: parseJson<{ snapshot: string }>(a).snapshot, second: parseJson<{ snapshot: string }>(b).snapshot };
}

describe('one damaged snapshot object must not take the other snapshots down with it', () => {
  // One flipped byte in snapshots/<volume key>/<id> must not make the other snapshots unrestorable, empty
  // `snapshots`, or stop later archives: they skip the damaged object and name it on stderr,
  // while verify reports it as a problem (as restic does).
  let env: CliEnv;
  let first: string;
  let second: string;
  let secondKey: string;

  beforeAll(async () => {
    let repoDir: string;
    ({ env, repoDir, first, second } = await repoWithTwoSnapshots('snap-damage'));
    secondKey = `snapshots/${(await readdir(join(repoDir, 'snapshots'), { recursive: true })).map(String).find((f) => f.endsWith(second))}`;
    const path = join(repoDir, secondKey);
    const bytes = await readFile(path);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x01;
    await writeFile(path, bytes);
  });

  it('verify reports exactly the damaged snapshot', async () => {
    const r = await runCli(['verify', '--json'], env);
    expect(r.code, describeRun(r)).toBe(3);
    const report = parseJson<{ problems: Array<{ kind: string; object?: string }> }>(r);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'corrupt-snapshot', object: secondKey })]);
  });

  it('the intact snapshot still restores', async () => {
    const to = join(dir, 'intact.img');
    const r = await runCli(['restore', '--snapshot', first.slice(0, 8), '--to', to], env);
    expect(r.code, describeRun(r)).toBe(0);
    expect(await sha256File(to)).toBe(await sha256File(image));
  });

  it('restore of "latest" refuses while the damaged object may be the newest; latest-intact restores the newest that reads', async () => {
    const to = join(dir, 'latest.img');
    const refused = await runCli(['restore', '--snapshot', 'latest', '--to', to], env);
    expect(refused.code, describeRun(refused)).toBe(4);
    expect(refused.stderr).toMatch(new RegExp(`latest snapshot cannot be told: snapshot object ${second} is damaged.*latest-intact`));
    expect(await readdir(dir)).not.toContain('latest.img');
    const intact = await runCli(['restore', '--snapshot', 'latest-intact', '--to', to, '--json'], env);
    expect(intact.code, describeRun(intact)).toBe(0);
    expect(parseJson<{ snapshot: string }>(intact).snapshot).toBe(first);
    expect(intact.stderr).toContain(`snapshot ${second} is damaged and was skipped`);
    expect(await sha256File(to)).toBe(await sha256File(image));
  });

  it('snapshots still lists the intact snapshot', async () => {
    const r = await runCli(['snapshots', '--json'], env);
    expect(r.stdout, describeRun(r)).toContain(first);
  });

  it('archive still works', async () => {
    const r = await runCli(['archive', image, '--volume-id', 'vol-c', '--json'], env);
    expect(r.code, describeRun(r)).toBe(0);
  });
});

it('an interrupted restore (Ctrl-C, SIGTERM) removes its temp file', async () => {
  // On SIGINT/SIGTERM the restore aborts its target: the sparse `.NAME.restore-<random>` temp
  // file, as large as the volume, must not stay beside the destination (which is only renamed
  // into place on success).
  const repoDir = join(dir, 'interrupt');
  const env = { SNAPFLEET_REPOSITORY: repoDir, SNAPFLEET_PASSWORD: PASSWORD };
  expect((await runCli(['init'], env)).code).toBe(0);
  expect((await runCli(['archive', image, '--volume-id', 'vol-i'], env)).code).toBe(0);
  const out = join(dir, 'interrupt-out');
  await mkdir(out);
  const { child, done } = spawnCli(['restore', '--snapshot', 'latest', '--to', join(out, 'r.img')], env);
  const started = Date.now();
  let exited = false;
  void done.then(() => (exited = true));
  while (!(await readdir(out)).some((n) => n.includes('.restore-'))) {
    if (exited || Date.now() - started > 30_000) break;
    await sleep(2);
  }
  child.kill('SIGINT');
  const r = await done;
  expect(r.code === 0 || r.code === 130 || r.signal === 'SIGINT', describeRun(r)).toBe(true);
  const left = await readdir(out);
  // Either it finished (the file is there, nothing else) or it stopped (nothing at all).
  expect(left.filter((n) => n !== 'r.img')).toEqual([]);
});

it('--read-size errors name the flag', async () => {
  // Bad --read-size values are reported with the flag's name, like every other flag value.
  const repoDir = join(dir, 'readsize');
  const env = { SNAPFLEET_REPOSITORY: repoDir, SNAPFLEET_PASSWORD: PASSWORD };
  expect((await runCli(['init'], env)).code).toBe(0);
  for (const size of ['3000', '1KiB']) {
    const r = await runCli(['archive', image, '--volume-id', 'v', '--read-size', size], env);
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toContain('read-size');
  }
});
