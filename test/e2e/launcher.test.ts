/**
 * The `snapfleet` launcher (packages/cli/bin/snapfleet), as the README's quickstart runs it: it
 * starts Node with its own flags (a small V8 young generation, two malloc arenas), which every
 * codec thread must accept. An archive and a restore through it round-trip an image byte for byte.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, createImage, makeTempDir, removeDir, REPO_ROOT, sha256File } from '../support/cli.js';

const run = promisify(execFile);
const LAUNCHER = join(REPO_ROOT, 'packages/cli/bin/snapfleet');

describe('the snapfleet launcher', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('launcher');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('archives and restores through its codec threads under its own node flags', async () => {
    const image = join(dir, 'image');
    await createImage(image, 8, 11);
    await writeFile(join(dir, 'password'), 'launcher-pass-Vq3!\n');
    const repo = ['--repo', join(dir, 'repo'), '--password-file', join(dir, 'password')];
    // No SNAPFLEET_NODE_OPTIONS: the launcher's own flags; a codec thread per core.
    const env = childEnv({});
    await run(LAUNCHER, ['init', ...repo], { env });
    const archived = await run(LAUNCHER, ['archive', ...repo, '--volume-id', 'v1', '--json', image], { env });
    const id = (JSON.parse(archived.stdout) as { snapshot: string }).snapshot;
    const out = join(dir, 'restored');
    await run(LAUNCHER, ['restore', ...repo, '--snapshot', id, '--to', out], { env });
    expect(await sha256File(out)).toBe(await sha256File(image));
  });
});
