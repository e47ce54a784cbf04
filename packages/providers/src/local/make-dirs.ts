/**
 * `mkdir -p` that always ends. Node's recursive mkdir retries for ever where mkdir answers ENOENT
 * for a folder whose parent exists (inside /proc or /sys, for example): `init --repo /proc/x`
 * spun at full CPU without a word. Here each level is tried at most twice, and the second
 * failure is thrown as it came.
 */
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorCode } from './fs-errors.js';

/** Creates `path` and any missing parents with `mode`; a folder already there is fine. */
export async function makeDirs(path: string, mode: number): Promise<void> {
  if (await tryMkdir(path, mode, false)) return;
  const parent = dirname(path);
  if (parent !== path) await makeDirs(parent, mode);
  await tryMkdir(path, mode, true);
}

/** makeDirs, synchronously. */
export function makeDirsSync(path: string, mode: number): void {
  if (tryMkdirSync(path, mode, false)) return;
  const parent = dirname(path);
  if (parent !== path) makeDirsSync(parent, mode);
  tryMkdirSync(path, mode, true);
}

/**
 * True when the folder exists now (made here, or by another writer meanwhile); false when its
 * parent is missing, unless this is the `last` try, which throws that too. A file of that name
 * is an error, as for mkdir -p.
 */
async function tryMkdir(path: string, mode: number, last: boolean): Promise<boolean> {
  try {
    await mkdir(path, { mode });
    return true;
  } catch (err) {
    if (errorCode(err) === 'EEXIST' && (await stat(path)).isDirectory()) return true;
    if (errorCode(err) === 'ENOENT' && !last) return false;
    throw err;
  }
}

function tryMkdirSync(path: string, mode: number, last: boolean): boolean {
  try {
    mkdirSync(path, { mode });
    return true;
  } catch (err) {
    if (errorCode(err) === 'EEXIST' && statSync(path).isDirectory()) return true;
    if (errorCode(err) === 'ENOENT' && !last) return false;
    throw err;
  }
}
