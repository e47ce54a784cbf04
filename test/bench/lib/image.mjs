// The bench's input: a deterministic synthetic disk image (mkimage.py create) and one mutated
// copy of it (mkimage.py mutate). Both take a while to make, so each is cached in the work dir
// next to a stamp recording how it was made; a stamp that does not match means rebuild.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import console from 'node:console';
import { changedBlockBytes, sha256File } from './file-stats.mjs';

const STAMP_VERSION = 1;

function readStamp(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function sameRecipe(stamp, recipe, imagePath) {
  if (!stamp || !existsSync(imagePath)) return false;
  const st = statSync(imagePath);
  // The scenarios hard-link the cached images into tool folders; a changed mtime means something
  // wrote to one, and it is rebuilt rather than trusted.
  if (st.size !== stamp.sizeBytes || st.mtimeMs !== stamp.mtimeMs) return false;
  return JSON.stringify(stamp.recipe) === JSON.stringify(recipe);
}

function mkimage(cfg, args) {
  console.log(`$ python3 ${cfg.mkimage} ${args.join(' ')}`);
  const r = spawnSync('python3', [cfg.mkimage, ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`mkimage.py ${args[0]} failed (exit ${r.status ?? r.signal})`);
}

async function cached(imagePath, recipe, build) {
  const stampPath = `${imagePath}.stamp.json`;
  const stamp = readStamp(stampPath);
  if (sameRecipe(stamp, recipe, imagePath)) {
    console.log(`reusing ${imagePath} (stamp matches)`);
    return { path: imagePath, ...stamp };
  }
  await rm(stampPath, { force: true }); // a half-built image must never look valid
  const tmp = `${imagePath}.tmp`;
  await rm(tmp, { force: true });
  const extra = await build(tmp);
  await rename(tmp, imagePath);
  const st = statSync(imagePath);
  const made = { recipe, sizeBytes: st.size, mtimeMs: st.mtimeMs, sha256: await sha256File(imagePath), ...extra };
  await writeFile(stampPath, `${JSON.stringify(made, null, 2)}\n`);
  return { path: imagePath, ...made };
}

/** A cached `mkimage.py create` image of `mib` MiB and `seed` (for scenarios with their own input). */
export async function prepareBaseImage(cfg, mib, seed) {
  await mkdir(cfg.workDir, { recursive: true });
  const mkimageSha256 = await sha256File(cfg.mkimage);
  const recipe = { v: STAMP_VERSION, op: 'create', mib, seed, mkimageSha256 };
  return cached(join(cfg.workDir, `img-${mib}M-seed${seed}.img`), recipe, async (tmp) => {
    mkimage(cfg, ['create', tmp, String(mib), String(seed)]);
    return {};
  });
}

/** Runs `mkimage.py ARGS` (e.g. mutate IMG FRACTION SEED) quietly; throws on failure. */
export function runMkimage(cfg, args) {
  const r = spawnSync('python3', [cfg.mkimage, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mkimage.py ${args.join(' ')} failed (exit ${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

/** @returns {Promise<{base: object, mutated: object}>} paths, sizes, sha256s, changed bytes */
export async function prepareImages(cfg) {
  await mkdir(cfg.workDir, { recursive: true });
  const mkimageSha256 = await sha256File(cfg.mkimage); // a changed generator invalidates the cache
  const name = `img-${cfg.mib}M-seed${cfg.seed}`;
  const baseRecipe = { v: STAMP_VERSION, op: 'create', mib: cfg.mib, seed: cfg.seed, mkimageSha256 };
  const base = await cached(join(cfg.workDir, `${name}.img`), baseRecipe, async (tmp) => {
    mkimage(cfg, ['create', tmp, String(cfg.mib), String(cfg.seed)]);
    return {};
  });
  const mutRecipe = { v: STAMP_VERSION, op: 'mutate', fraction: cfg.mutateFraction, seed: cfg.seed, baseSha256: base.sha256, mkimageSha256 };
  const mutated = await cached(join(cfg.workDir, `${name}-mut${cfg.mutateFraction}.img`), mutRecipe, async (tmp) => {
    await copyFile(base.path, tmp);
    mkimage(cfg, ['mutate', tmp, String(cfg.mutateFraction), String(cfg.seed)]);
    return { changedBytes: await changedBlockBytes(base.path, tmp) };
  });
  return { base, mutated };
}
