// The scale scenario's large repository: SNAPFLEET_BENCH_SCALE_GIB of unique data, written by
// archiving SNAPFLEET_BENCH_SCALE_VOLUMES volumes of seeded random bytes with the CLI, each
// volume file deleted once archived, so the disk holds the repository only. Building it takes a
// while (32 GiB: tens of minutes), so it is kept in the work dir and reused: a stamp beside it
// records the recipe, what the build recorded (packs, index objects, blobs, bytes, per-volume
// archive costs) and the file count and bytes it ended with; a changed recipe, an unfinished
// build or a repository that no longer matches its stamp means a rebuild. A build stopped
// half-way resumes at the first volume it had not finished (the repository stays valid: an
// archive killed mid-way only leaves packs the next archive adopts).
//
// Measurements never write into it: each run works on a scratch copy made of hard links
// (scratchCopy). That is safe because every object is immutable and the folder store writes a
// temp file and renames it into place: nothing is ever written through an existing link.
import { createCipheriv, createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { Buffer } from 'node:buffer';
import console from 'node:console';
import { treeBytes } from './file-stats.mjs';
import { runTimed } from './timed-exec.mjs';

const execFileP = promisify(execFile);
const STAMP_VERSION = 1;
const GIB = 2 ** 30;
const MIB = 2 ** 20;
const WRITE_BYTES = 4 * MIB;

/** Seeded random bytes: AES-128-CTR keystream (zeros encrypted) under a key derived from the seed. */
export async function writeRandomVolume(path, bytes, seed) {
  const key = createHash('sha256').update(`snapfleet-bench-scale:${seed}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), Buffer.alloc(16));
  const zeros = Buffer.alloc(WRITE_BYTES);
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= WRITE_BYTES) {
    const chunk = cipher.update(left >= WRITE_BYTES ? zeros : zeros.subarray(0, left));
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Volume sizes adding up to exactly `gib` GiB, whole MiB each (the last takes the remainder). */
export function volumeSizes(gib, volumes) {
  const total = gib * GIB;
  const each = Math.floor(total / volumes / MIB) * MIB;
  if (each === 0) throw new Error(`SNAPFLEET_BENCH_SCALE_GIB=${gib} over ${volumes} volumes leaves less than 1 MiB a volume`);
  return Array.from({ length: volumes }, (_, i) => (i === volumes - 1 ? total - each * (volumes - 1) : each));
}

/** How many regular files there are below dir. */
async function fileCount(dir) {
  let n = 0;
  for (const ent of await readdir(dir, { withFileTypes: true, recursive: true })) if (ent.isFile()) n++;
  return n;
}

async function countDir(dir) {
  try {
    return await fileCount(dir);
  } catch {
    return 0;
  }
}

function readStamp(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

const parseJson = (stdout, what) => {
  try {
    return JSON.parse(stdout.trim());
  } catch {
    throw new Error(`${what}: stdout is not JSON: ${stdout.slice(0, 200)}`);
  }
};

/**
 * The large repository, built or reused. `cliArgv(args)` is the CLI's argv, `env` its environment
 * (the bench password); `census(path)` counts the repository's index (lib/scale-open.mjs --census).
 * @returns {Promise<{path: string, reused: boolean, stamp: object}>}
 */
export async function prepareLargeRepo(cfg, { cliArgv, env, census, formatVersion }) {
  const s = cfg.scale;
  const name = `scale-repo-${s.gib}G-${s.volumes}v-seed${cfg.seed}`;
  const path = join(cfg.workDir, name);
  const stampPath = `${path}.stamp.json`;
  const logDir = join(cfg.workDir, `${name}.logs`);
  const sizes = volumeSizes(s.gib, s.volumes);
  // The format version is part of the recipe: a repository of an older format is rebuilt rather
  // than measured through a migration. Everything else about snapfleet may change between runs.
  const passwordSha256 = createHash('sha256').update(cfg.password).digest('hex').slice(0, 16);
  const recipe = { v: STAMP_VERSION, gib: s.gib, volumes: s.volumes, sizes, seed: cfg.seed, formatVersion, encrypted: true, passwordSha256 };
  let stamp = readStamp(stampPath);
  const sameRecipe = stamp && JSON.stringify(stamp.recipe) === JSON.stringify(recipe) && existsSync(path);

  if (sameRecipe && stamp.complete) {
    const [files, bytes] = [await fileCount(path), await treeBytes(path)];
    if (files === stamp.files && bytes === stamp.bytes) {
      console.log(`  [scale] reusing ${path} (stamp matches: ${stamp.packs} packs, ${stamp.indexObjects} index objects, ${stamp.blobs} blobs)`);
      return { path, reused: true, stamp };
    }
    console.log(`  [scale] ${path} no longer matches its stamp (${files} files, ${bytes} bytes; stamp ${stamp.files}, ${stamp.bytes}): rebuilding`);
    stamp = undefined;
  } else if (!sameRecipe) {
    stamp = undefined;
  }

  if (!stamp) {
    await rm(stampPath, { force: true });
    await rm(path, { recursive: true, force: true });
    await rm(logDir, { recursive: true, force: true });
    await mkdir(logDir, { recursive: true });
    await runTimed({ argv: cliArgv(['init', '--repo', path]), env }, { logDir, label: 'init' });
    stamp = { recipe, complete: false, volumesDone: [] };
    await writeFile(stampPath, `${JSON.stringify(stamp, null, 2)}\n`);
  } else {
    console.log(`  [scale] resuming the build of ${path} at volume ${stamp.volumesDone.length + 1} of ${s.volumes}`);
    await mkdir(logDir, { recursive: true });
  }

  const volumeFile = join(cfg.workDir, `${name}.volume.tmp`);
  const t0 = Date.now();
  for (let i = stamp.volumesDone.length; i < s.volumes; i++) {
    await rm(volumeFile, { force: true });
    await writeRandomVolume(volumeFile, sizes[i], `${cfg.seed}/${i}`);
    await execFileP('sync');
    const r = await runTimed(
      { argv: cliArgv(['archive', '--repo', path, '--volume-id', `scale-random-${i}`, volumeFile, '--json']), env },
      { logDir, label: `archive-${i}` },
    );
    await rm(volumeFile, { force: true });
    const json = parseJson(r.stdout, `archive of random volume ${i}`);
    stamp.volumesDone.push({
      volume: i,
      sizeBytes: sizes[i],
      snapshot: json.snapshot,
      newBlobs: json.newBlobs,
      storedBytes: json.storedBytes,
      // What this archive cost with the repository as large as the volumes before it.
      repoBytesBefore: stamp.volumesDone.reduce((a, v) => a + v.storedBytes, 0),
      wallS: r.wallS,
      cpuS: r.userS + r.sysS,
      maxRssKiB: r.maxRssKiB,
    });
    await writeFile(stampPath, `${JSON.stringify(stamp, null, 2)}\n`);
    console.log(
      `  [scale] built ${i + 1}/${s.volumes}: ${(sizes[i] / MIB).toFixed(0)} MiB archived in ${r.wallS.toFixed(1)} s, ` +
        `${(r.maxRssKiB / 1024).toFixed(0)} MiB RSS (${((Date.now() - t0) / 1000).toFixed(0)} s so far)`,
    );
  }

  await execFileP('sync');
  const counted = await census(path);
  Object.assign(stamp, {
    complete: true,
    builtAt: new Date().toISOString(),
    uniqueBytes: sizes.reduce((a, b) => a + b, 0),
    packs: await countDir(join(path, 'data')),
    indexObjects: await countDir(join(path, 'index')),
    snapshotBlobs: stamp.volumesDone.reduce((a, v) => a + v.newBlobs, 0),
    census: counted,
    blobs: counted.blobs,
    files: await fileCount(path),
    bytes: await treeBytes(path),
  });
  await writeFile(stampPath, `${JSON.stringify(stamp, null, 2)}\n`);
  console.log(`  [scale] built ${path}: ${stamp.packs} packs, ${stamp.indexObjects} index objects, ${stamp.blobs} blobs, ${stamp.bytes} bytes`);
  return { path, reused: false, stamp };
}

/** A copy of `src` at `dst` made of hard links (cp -al): instant, and it takes no data space. */
export async function scratchCopy(src, dst) {
  await rm(dst, { recursive: true, force: true });
  await execFileP('cp', ['-al', src, dst]);
}
