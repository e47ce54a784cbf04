/**
 * The host's index cache through the real CLI over the test S3 server: an archive leaves its
 * index objects in the folder the environment names (SNAPFLEET_CACHE_DIR, else
 * $XDG_CACHE_HOME/snapfleet), one subfolder per store; a damaged cache file is reported on
 * stderr by name and the command still succeeds; an unusable cache folder costs one warning.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBlobStore, storeCacheDir } from '@snapfleet/providers';
import { createTestBucket, type TestBucket } from '../setup/s3.js';
import { createImage, describeRun, makeTempDir, parseJson, removeDir, runCli, snapfleetStderr, type CliEnv } from '../support/cli.js';

/** One pack or two: the cache is about index objects, not data. */
const IMAGE_MIB = 16;
const PASSWORD = 'cache-pass-4Jw!x';

let work: string;
let image: string;
let bucket: TestBucket;
let env: CliEnv;

beforeAll(async () => {
  work = await makeTempDir('index-cache');
  image = join(work, 'v.img');
  await createImage(image, IMAGE_MIB, 21);
  bucket = await createTestBucket({ prefix: 'cached' });
  env = { ...bucket.env, SNAPFLEET_REPOSITORY: bucket.repoUrl, SNAPFLEET_PASSWORD: PASSWORD, NODE_NO_WARNINGS: '1' };
  for (const args of [
    ['init', '--json'],
    ['archive', image, '--volume-id', 'vol-c', '--json'],
  ]) {
    const r = await runCli(args, env);
    expect(r.code, describeRun(r)).toBe(0);
  }
});

afterAll(async () => {
  await removeDir(work);
});

async function storedIndexNames(): Promise<string[]> {
  const store = await openBlobStore(bucket.repoUrl, { ...bucket.env, SNAPFLEET_CACHE_DIR: 'off' });
  const names: string[] = [];
  for await (const o of store.list('index/')) names.push(o.key.slice('index/'.length));
  return names.sort();
}

const cachedNames = async (storeDir: string): Promise<string[]> => (await readdir(join(storeDir, 'index'))).sort();

describe('index cache through the CLI (S3)', () => {
  it('holds the index objects the archive stored, in the folder SNAPFLEET_CACHE_DIR names', async () => {
    const names = await storedIndexNames();
    expect(names.length).toBeGreaterThan(0);
    expect(await cachedNames(storeCacheDir(bucket.env.SNAPFLEET_CACHE_DIR!, bucket.repoUrl))).toEqual(names);
  });

  it("reports a damaged cache file by name on stderr, and the command succeeds on the store's copy", async () => {
    const storeDir = storeCacheDir(bucket.env.SNAPFLEET_CACHE_DIR!, bucket.repoUrl);
    const file = join(storeDir, 'index', (await cachedNames(storeDir))[0]!);
    const bytes = await readFile(file);
    bytes[bytes.length - 1]! ^= 0x01;
    await writeFile(file, bytes);

    const verify = await runCli(['verify', '--json'], env);
    expect(verify.code, describeRun(verify)).toBe(0);
    expect(parseJson<{ problems: unknown[] }>(verify).problems).toEqual([]);
    expect(snapfleetStderr(verify.stderr)).toMatch(new RegExp(`^snapfleet: warning: cache file ${file} is damaged`));
    // Fetched and written again: the next command reads it without a word.
    const again = await runCli(['verify', '--json'], env);
    expect(again.code, describeRun(again)).toBe(0);
    expect(snapfleetStderr(again.stderr)).toBe('');
  });

  it('rebuilds a damaged host index table with a warning; the archive still deduplicates against it', async () => {
    // The first archive built the table when the repository was empty; this one adds its objects.
    const refresh = await runCli(['archive', image, '--volume-id', 'vol-d0', '--json'], env);
    expect(refresh.code, describeRun(refresh)).toBe(0);
    expect(parseJson<{ newBlobs: number }>(refresh).newBlobs).toBe(0);
    const tables = join(storeCacheDir(bucket.env.SNAPFLEET_CACHE_DIR!, bucket.repoUrl), 'index-table');
    const [repository] = await readdir(tables);
    const folder = join(tables, repository!);
    const runs = (await readdir(folder)).filter((f) => f.endsWith('.sfrt'));
    expect(runs.length).toBeGreaterThan(0);
    await writeFile(join(folder, runs[0]!), 'not a run'.padEnd(4096, '.'));

    const r = await runCli(['archive', image, '--volume-id', 'vol-d', '--json'], env);
    expect(r.code, describeRun(r)).toBe(0);
    expect(snapfleetStderr(r.stderr)).toMatch(new RegExp(`^snapfleet: warning: host index table ${folder}: run ${runs[0]} is unusable \\(not a run file`));
    // The same image as vol-c: every chunk found in the rebuilt table, nothing stored again.
    expect(parseJson<{ newBlobs: number }>(r).newBlobs).toBe(0);
    const again = await runCli(['archive', image, '--volume-id', 'vol-e', '--json'], env);
    expect(again.code, describeRun(again)).toBe(0);
    expect(snapfleetStderr(again.stderr)).toBe('');
  });

  it('defaults to $XDG_CACHE_HOME/snapfleet, and goes on with one warning when the folder is unusable', async () => {
    const xdg = join(work, 'xdg');
    const fresh = await runCli(['verify', '--json'], { ...env, SNAPFLEET_CACHE_DIR: '', XDG_CACHE_HOME: xdg });
    expect(fresh.code, describeRun(fresh)).toBe(0);
    expect(await cachedNames(storeCacheDir(join(xdg, 'snapfleet'), bucket.repoUrl))).toEqual(await storedIndexNames());

    const blocked = join(work, 'not-a-folder');
    await writeFile(blocked, 'x');
    const r = await runCli(['verify', '--json'], { ...env, SNAPFLEET_CACHE_DIR: blocked });
    expect(r.code, describeRun(r)).toBe(0);
    expect(parseJson<{ problems: unknown[] }>(r).problems).toEqual([]);
    const lines = snapfleetStderr(r.stderr).split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^snapfleet: warning: cache ${blocked}/[0-9a-f]{16} cannot be used`));
  });
});
