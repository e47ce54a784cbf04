/**
 * Output contracts scripts rely on: every `--json` output is one JSON document on one line of
 * stdout, with the documented fields (docs/cli.md); progress bars go to stderr only when it is a
 * terminal, never into pipes or logs. The terminal case runs under script(1), which gives the
 * CLI a pseudo-terminal, to show that the progress bar exists and the pipe tests mean something.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, CLI_PATH, createImage, describeRun, makeTempDir, MiB, parseJson, removeDir, runCli, type CliEnv, type CliResult } from '../support/cli.js';

const IMAGE_MIB = 16;
const PASSWORD = 'out-pass-Vb7&nM1';
/** ESC: the start of every terminal control sequence a progress bar writes. */
const ESC = '\u001b';
const SCRIPT = '/usr/bin/script';

let dir: string;
let image: string;
let env: CliEnv;
let snapshotId: string;

beforeAll(async () => {
  dir = await makeTempDir('output');
  image = join(dir, 'disk.img');
  env = { SNAPFLEET_REPOSITORY: join(dir, 'repo'), SNAPFLEET_PASSWORD: PASSWORD };
  await createImage(image, IMAGE_MIB, 51);
});

afterAll(async () => {
  await removeDir(dir);
});

/** Exactly one line on stdout, which parses as JSON; nothing on stderr. */
function oneJsonLine<T>(r: CliResult): T {
  expect(r.code, describeRun(r)).toBe(0);
  expect(r.stdout.endsWith('\n')).toBe(true);
  expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toBe('');
  expect(r.stdout).not.toContain(PASSWORD);
  return parseJson<T>(r);
}

describe('--json', () => {
  it('init, archive, snapshots, restore and verify print one JSON document each', async () => {
    const init = oneJsonLine<Record<string, unknown>>(await runCli(['init', '--json'], env));
    expect(init).toEqual({ repository: join(dir, 'repo'), id: expect.stringMatching(/^[0-9a-f]{32}$/), encrypted: true, chunkSize: 4096, formatVersion: 2 });

    const archive = oneJsonLine<Record<string, unknown>>(
      await runCli(['archive', image, '--volume-id', 'vol-o', '--tag', 'daily', '--tag', 'e2e', '--time', '2026-01-05T10:00:00Z', '--json'], env),
    );
    expect(archive).toEqual({
      snapshot: expect.stringMatching(/^[0-9a-f]{64}$/),
      volumeId: 'vol-o',
      parent: null,
      sizeBytes: IMAGE_MIB * MiB,
      seconds: expect.any(Number),
      readBytes: IMAGE_MIB * MiB,
      newBlobs: expect.any(Number),
      newBytes: expect.any(Number),
      storedBytes: expect.any(Number),
      holeChunks: expect.any(Number),
      changedBlocksOnly: false,
    });
    snapshotId = archive.snapshot as string;

    const list = oneJsonLine<Array<Record<string, unknown>>>(await runCli(['snapshots', '--json'], env));
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id: snapshotId,
      version: 1,
      volumeId: 'vol-o',
      time: '2026-01-05T10:00:00.000Z',
      tags: ['daily', 'e2e'],
      sizeBytes: IMAGE_MIB * MiB,
      chunkSize: 4096,
      tree: { root: expect.stringMatching(/^[0-9a-f]{64}$/), height: expect.any(Number) },
      stats: {
        readBytes: IMAGE_MIB * MiB,
        newBlobs: archive.newBlobs,
        newBytes: archive.newBytes,
        storedBytes: archive.storedBytes,
        holeChunks: archive.holeChunks,
        changedBlocksOnly: false,
      },
    });
    expect(oneJsonLine<unknown[]>(await runCli(['snapshots', '--json', '--volume-id', 'other'], env))).toEqual([]);

    const to = join(dir, 'restored.img');
    const restore = oneJsonLine<Record<string, unknown>>(await runCli(['restore', '--snapshot', 'latest', '--to', to, '--json'], env));
    expect(restore).toEqual({
      snapshot: snapshotId,
      volumeId: 'vol-o',
      to,
      sizeBytes: IMAGE_MIB * MiB,
      seconds: expect.any(Number),
      read: {
        dataReads: expect.any(Number),
        dataBytesRead: expect.any(Number),
        dataBytesRestored: expect.any(Number),
        readAmplification: expect.any(Number),
        dataBytesDecoded: expect.any(Number),
        decodeAmplification: expect.any(Number),
        listedPacks: expect.any(Number),
        fallbackBlobs: 0,
      },
    });
    const read = restore.read as {
      dataReads: number;
      dataBytesRead: number;
      dataBytesRestored: number;
      readAmplification: number;
      dataBytesDecoded: number;
      decodeAmplification: number;
    };
    expect(read.dataReads).toBeGreaterThan(0);
    expect(read.dataBytesRestored).toBeGreaterThan(0);
    expect(read.dataBytesRestored).toBeLessThanOrEqual(IMAGE_MIB * MiB);
    expect(read.readAmplification).toBeCloseTo(read.dataBytesRead / read.dataBytesRestored, 10);
    expect(read.dataBytesDecoded).toBeGreaterThan(0);
    expect(read.decodeAmplification).toBeCloseTo(read.dataBytesDecoded / read.dataBytesRestored, 10);

    const verify = oneJsonLine<Record<string, unknown>>(await runCli(['verify', '--json'], env));
    expect(verify).toEqual({
      snapshots: 1,
      packsTotal: expect.any(Number),
      packsRead: verify.packsTotal,
      blobsChecked: expect.any(Number),
      bytesRead: expect.any(Number),
      problems: [],
      summary: { restorable: 1, damaged: [], recordedPacks: 0 },
    });
  });
});

describe('progress output', () => {
  it('never appears when stderr is a pipe', async () => {
    const commands = [
      ['archive', image, '--volume-id', 'vol-p'],
      ['restore', '--snapshot', 'latest', '--volume-id', 'vol-p', '--to', join(dir, 'piped.img')],
      ['verify'],
    ];
    for (const args of commands) {
      const r = await runCli(args, env);
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stderr, `${args[0]} wrote to stderr`).toBe('');
      expect(r.stdout, `${args[0]} wrote terminal control codes`).not.toContain(ESC);
      expect(r.stdout).not.toMatch(/\d+%/);
    }
  });

  /** Runs the CLI under script(1): stdin, stdout and stderr are a pseudo-terminal. */
  function runInTerminal(args: string[]): Promise<{ code: number; output: string }> {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, CLI_PATH, ...args].map(quote).join(' ');
    return new Promise((resolve) => {
      execFile(SCRIPT, ['-qec', command, '/dev/null'], { env: childEnv(env), timeout: 60_000 }, (err, stdout) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: String(stdout) });
      });
    });
  }

  it.skipIf(!existsSync(SCRIPT))('appears on a terminal, unless --quiet or --json', async () => {
    const shown = await runInTerminal(['archive', image, '--volume-id', 'vol-t']);
    expect(shown.code, shown.output).toBe(0);
    expect(shown.output).toContain('archive [');
    expect(shown.output).toContain('100%');

    const quiet = await runInTerminal(['archive', image, '--volume-id', 'vol-t', '--quiet']);
    expect(quiet.code, quiet.output).toBe(0);
    expect(quiet.output).not.toContain('archive [');
    expect(quiet.output).toContain('saved');

    const json = await runInTerminal(['verify', '--json']);
    expect(json.code, json.output).toBe(0);
    expect(json.output).not.toContain('verify [');
    expect(JSON.parse(json.output.trim())).toMatchObject({ problems: [] });
  });
});

describe('forget in text', () => {
  it('prints its decisions before acting and each removal as it is done', async () => {
    const fenv = { ...env, SNAPFLEET_REPOSITORY: join(dir, 'forget-repo') };
    expect((await runCli(['init'], fenv)).code).toBe(0);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['archive', image, '--volume-id', 'vol-f', '--json', '--time', `2026-0${i + 1}-01T00:00:00Z`], fenv);
      expect(r.code, describeRun(r)).toBe(0);
      ids.push(parseJson<{ snapshot: string }>(r).snapshot);
    }
    const r = await runCli(['forget', '--volume-id', 'vol-f', '--keep-last', '1'], fenv);
    expect(r.code, describeRun(r)).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const planned = lines.findIndex((l) => l.includes(`remove  ${ids[0]!.slice(0, 8)}`));
    const done = [lines.indexOf(`removed ${ids[0]}`), lines.indexOf(`removed ${ids[1]}`)];
    expect(planned, r.stdout).toBeGreaterThanOrEqual(0);
    expect(Math.min(...done), r.stdout).toBeGreaterThan(planned);
    expect(lines.at(-1)).toBe('removed 2 snapshot(s)');
  });
});
