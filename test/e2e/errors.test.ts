/**
 * How the CLI fails: the documented exit code (docs/cli.md), a single line on stderr that names
 * the problem, never a stack trace, and never the password.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createImage,
  describeRun,
  makeTempDir,
  parseJson,
  removeDir,
  runCli,
  snapfleetStderr,
  STACK_FRAME,
  type CliEnv,
  type CliResult,
} from '../support/cli.js';

const PASSWORD = 'err-pass-Qw3$rT9';
const WRONG_PASSWORD = 'err-wrong-Lk5%mN2';

let dir: string;
let repo: string;
let image: string;
let env: CliEnv;

beforeAll(async () => {
  dir = await makeTempDir('errors');
  repo = join(dir, 'repo');
  image = join(dir, 'small.img');
  env = { SNAPFLEET_REPOSITORY: repo, SNAPFLEET_PASSWORD: PASSWORD };
  await createImage(image, 8, 31);
  const init = await runCli(['init'], env);
  expect(init.code, describeRun(init)).toBe(0);
  const archive = await runCli(['archive', image, '--volume-id', 'vol-e'], env);
  expect(archive.code, describeRun(archive)).toBe(0);
});

afterAll(async () => {
  await removeDir(dir);
});

/** The failure contract every case shares: code, one stderr line, no trace, no secrets. */
function expectFailure(r: CliResult, code: number, pattern: RegExp): string {
  expect(r.code, describeRun(r)).toBe(code);
  const message = snapfleetStderr(r.stderr);
  expect(message.split('\n'), describeRun(r)).toHaveLength(1);
  expect(message).toMatch(pattern);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  expect(r.stdout + r.stderr).not.toContain(WRONG_PASSWORD);
  expect(r.stdout).toBe('');
  return message;
}

describe('exit codes and messages', () => {
  it('wrong password: exit 12', async () => {
    for (const command of [
      ['snapshots'],
      ['verify'],
      ['restore', '--snapshot', 'latest', '--to', join(dir, 'x.img')],
      ['archive', image, '--volume-id', 'vol-e'],
    ]) {
      const r = await runCli(command, { ...env, SNAPFLEET_PASSWORD: WRONG_PASSWORD });
      expectFailure(r, 12, /^snapfleet: wrong password/);
    }
  });

  it('wrong password from --password-file: exit 12', async () => {
    const file = join(dir, 'wrong.txt');
    await writeFile(file, `${WRONG_PASSWORD}\n`);
    const r = await runCli(['snapshots', '--password-file', file], { SNAPFLEET_REPOSITORY: repo });
    expectFailure(r, 12, /^snapfleet: wrong password/);
  });

  it('no password for an encrypted repository: exit 2 naming what is missing', async () => {
    const r = await runCli(['snapshots'], { SNAPFLEET_REPOSITORY: repo });
    expectFailure(r, 2, /encrypted: give a password/);
  });

  it('missing repository: exit 10', async () => {
    const missing = join(dir, 'no-such-repo');
    const r = await runCli(['snapshots', '--repo', missing], env);
    expectFailure(r, 10, new RegExp(`no snapfleet repository at ${missing}`));
    const v = await runCli(['verify', '--repo', missing], env);
    expectFailure(v, 10, /no snapfleet repository/);
  });

  it('an empty folder is not a repository either: exit 10', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const r = await runCli(['snapshots', '--repo', empty], env);
    expectFailure(r, 10, /no snapfleet repository/);
  });

  it('no repository given at all: exit 2 naming --repo', async () => {
    const r = await runCli(['snapshots'], { SNAPFLEET_PASSWORD: PASSWORD });
    expectFailure(r, 2, /--repo/);
  });

  it('init over an existing repository: exit 2', async () => {
    const r = await runCli(['init'], env);
    expectFailure(r, 2, /already exists/);
  });

  it('init where no folder can be made (inside /proc): fails at once naming the path', async () => {
    const r = await runCli(['init', '--repo', '/proc/snapfleet-nope'], env, { timeoutMs: 20_000 });
    expectFailure(r, 2, /\/proc\/snapfleet-nope\/keys\/[0-9a-f]{64} does not exist/);
  });

  it('a damaged key file is damage (exit 4, naming it), not a wrong password', async () => {
    const other = join(dir, 'damaged-key');
    const init = await runCli(['init', '--repo', other], env);
    expect(init.code, describeRun(init)).toBe(0);
    const [name] = await readdir(join(other, 'keys'));
    const path = join(other, 'keys', name!);
    const file = JSON.parse(await readFile(path, 'utf8')) as { salt: string };
    const salt = Buffer.from(file.salt, 'base64');
    salt[0] = salt[0]! ^ 0x01;
    await writeFile(path, JSON.stringify({ ...file, salt: salt.toString('base64') }));
    const r = await runCli(['snapshots', '--repo', other], env);
    expectFailure(r, 4, new RegExp(`key file keys/${name} is damaged: its checksum does not match`));
  });

  it('missing image file: non-zero, naming the path', async () => {
    const missing = join(dir, 'no-such-disk.img');
    const r = await runCli(['archive', missing, '--volume-id', 'vol-e'], env);
    expect(r.code).not.toBe(0);
    expectFailure(r, r.code ?? -1, new RegExp(missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });

  it('unknown flag: exit 2', async () => {
    const r = await runCli(['snapshots', '--no-such-flag'], env);
    expectFailure(r, 2, /unknown option '--no-such-flag'/);
  });

  it('unknown command: exit 2, whatever flags follow it', async () => {
    const r = await runCli(['frobnicate'], env);
    expectFailure(r, 2, /unknown command 'frobnicate'/);
    const help = await runCli(['replicate', '--help'], env);
    expectFailure(help, 2, /unknown command 'replicate'/);
    const known = await runCli(['restore', '--help'], env);
    expect(known.code, describeRun(known)).toBe(0);
    expect(known.stdout).toContain('--snapshot');
  });

  it('missing required flag: exit 2', async () => {
    const a = await runCli(['archive', image], env);
    expectFailure(a, 2, /--volume-id/);
    const r = await runCli(['restore', '--snapshot', 'latest'], env);
    expectFailure(r, 2, /--to/);
  });

  it('bad --read-data-subset: exit 2 naming the flag', async () => {
    for (const value of ['0', '150', 'abc', '-5%', '']) {
      const r = await runCli(['verify', `--read-data-subset=${value}`], env);
      expectFailure(r, 2, /read-data-subset/);
    }
  });

  it('bad sizes and levels: exit 2 naming the flag', async () => {
    const level = await runCli(['archive', image, '--volume-id', 'vol-e', '--compression-level', '42'], env);
    expectFailure(level, 2, /compression-level/);
    const pack = await runCli(['archive', image, '--volume-id', 'vol-e', '--pack-size', '0'], env);
    expectFailure(pack, 2, /pack-size/);
    const chunk = await runCli(['init', '--repo', join(dir, 'other'), '--chunk-size', '3000'], env);
    expectFailure(chunk, 2, /chunk/i);
  });

  it('unknown snapshot: non-zero with a message naming it', async () => {
    const r = await runCli(['restore', '--snapshot', 'deadbeef', '--to', join(dir, 'never.img')], env);
    expectFailure(r, 2, /no snapshot deadbeef/);
  });

  it('a good --read-data-subset still verifies', async () => {
    const r = await runCli(['verify', '--read-data-subset', '50%'], env);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain('no errors found');
  });

  it('a tiny --read-data-subset still reads a pack: a share above 0 is rounded up', async () => {
    const other = join(dir, 'subset.img');
    await createImage(other, 8, 77);
    const archived = await runCli(['archive', other, '--volume-id', 'vol-subset', '--pack-size', '1'], env);
    expect(archived.code, describeRun(archived)).toBe(0);
    const r = await runCli(['verify', '--read-data-subset', '0.0000001', '--json'], env);
    expect(r.code, describeRun(r)).toBe(0);
    const report = parseJson<{ packsTotal: number; packsRead: number }>(r);
    expect(report.packsTotal).toBeGreaterThan(1);
    expect(report.packsRead).toBe(1);
  });
});
