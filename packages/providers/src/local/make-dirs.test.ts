import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDirs, makeDirsSync } from './make-dirs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'make-dirs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('makeDirs', () => {
  it('creates missing parents with the mode, and takes a folder already there', async () => {
    const path = join(dir, 'a', 'b', 'c');
    await makeDirs(path, 0o700);
    expect((await stat(path)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'a'))).mode & 0o777).toBe(0o700);
    await makeDirs(path, 0o700);
    makeDirsSync(join(dir, 'a', 'd', 'e'), 0o700);
    expect((await stat(join(dir, 'a', 'd', 'e'))).isDirectory()).toBe(true);
  });

  it('refuses a file in the way', async () => {
    await writeFile(join(dir, 'file'), 'x');
    await expect(makeDirs(join(dir, 'file'), 0o700)).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeDirs(join(dir, 'file', 'below'), 0o700)).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(() => makeDirsSync(join(dir, 'file', 'below'), 0o700)).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  // Node's own recursive mkdir never returns here (it retries ENOENT for ever).
  it('ends with ENOENT where mkdir cannot create a folder whose parent exists (/proc)', async () => {
    await expect(makeDirs('/proc/snapfleet-nope/keys', 0o700)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => makeDirsSync('/proc/snapfleet-nope/keys', 0o700)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  }, 5_000);
});
