/**
 * A writer killed between writing its temp file and renaming it leaves the file behind in a folder
 * repository. Prune removes such leftovers once they are a day old (a live put renames within
 * seconds), leaves younger ones alone, and touches no object.
 */
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImage, describeRun, listFiles, makeTempDir, parseJson, removeDir, runCli, type CliEnv } from '../support/cli.js';

describe('prune and leftovers of interrupted writes', () => {
  let dir: string;
  let env: CliEnv;
  beforeAll(async () => {
    dir = await makeTempDir('prune-leftovers');
    env = { SNAPFLEET_REPOSITORY: join(dir, 'repo'), SNAPFLEET_PASSWORD: 'leftover-test-password' };
    const image = join(dir, 'vol.img');
    await createImage(image, 4, 7);
    for (const args of [['init'], ['archive', '--volume-id', 'v1', image]]) {
      const r = await runCli(args, env);
      expect(r.code, describeRun(r)).toBe(0);
    }
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('removes day-old temp files, keeps recent ones, and the repository still verifies', async () => {
    const repo = join(dir, 'repo');
    const objectsBefore = (await listFiles(repo)).filter((f) => !f.split('/').pop()!.startsWith('.'));
    const dataDir = join(repo, 'data', 'ff');
    await mkdir(dataDir, { recursive: true });
    const stale = join(dataDir, '.tmp-ff00.0123456789abcdef');
    const recent = join(repo, 'index', '.tmp-ee00.fedcba9876543210');
    await writeFile(stale, Buffer.alloc(3 * 1024 * 1024, 7));
    await writeFile(recent, 'still being written');
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await utimes(stale, twoDaysAgo, twoDaysAgo);

    const r = await runCli(['prune', '--json'], env);
    expect(r.code, describeRun(r)).toBe(0);
    expect(parseJson<{ sweptIncomplete: { count: number; bytes: number } }>(r).sweptIncomplete).toEqual({ count: 1, bytes: 3 * 1024 * 1024 });
    expect(await readdir(dataDir)).toEqual([]);
    expect(await readdir(join(repo, 'index'))).toContain('.tmp-ee00.fedcba9876543210');
    // Only temp files went, and the prune recorded itself in the repository's audit trail.
    const objectsAfter = (await listFiles(repo)).filter((f) => !f.split('/').pop()!.startsWith('.'));
    expect(objectsAfter.filter((f) => !f.startsWith('audit/')).sort()).toEqual(objectsBefore.filter((f) => !f.startsWith('audit/')).sort());

    const text = await runCli(['prune'], env);
    expect(text.stdout).not.toContain('leftover temp files'); // nothing old is left
    const verify = await runCli(['verify'], env);
    expect(verify.code, describeRun(verify)).toBe(0);
  });
});
