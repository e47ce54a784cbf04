// Scenario "scale": what one job costs as the repository grows. snapfleet's aim is that a job's
// memory, time and store requests depend on its own volume, never on how much the repository
// holds; this scenario measures how far that holds, on snapfleet alone:
//
// 1. A large repository (lib/scale-repo.mjs): SNAPFLEET_BENCH_SCALE_GIB (32) GiB of unique
//    random data, built once and reused; each run works on a hard-linked scratch copy of it.
// 2. The same job, a SNAPFLEET_BENCH_SCALE_VOLUME_MIB (1024) MiB mkimage volume, archived,
//    restored (sha256 checked) and verified in an empty repository and in the large one: wall,
//    CPU and peak RSS side by side, and their ratios against the 1.25x targets.
// 3. The open cost: lib/scale-open.mjs opens each repository and loads its index under the
//    host's index cache, counting store requests as S3 would bill them, with an empty cache
//    ("cold") and again over the cache the first open filled ("warm"); before and after
//    `snapfleet maintenance` (index compaction) when the CLI has it.
// 4. A SNAPFLEET_BENCH_SCALE_BIG_MIB (16384) MiB volume archived into an empty repository,
//    against the measured volume's archive: memory must not grow with the volume either.
// 5. The index-only test (lib/index-table-scale.mjs): a host index table of
//    SNAPFLEET_BENCH_SCALE_INDEX_ENTRIES (256 Mi: 1 TiB of 4 KiB chunks) synthetic entries, built
//    and looked up: lookup time, resident memory, disk bytes.
// 6. An extrapolation of the measured per-blob and per-pack costs to 1, 10 and 100 TiB.
//
// Archives look blobs up in the host index table (packages/providers/src/caching/index-table),
// which a host builds once per repository from its index objects and then refreshes. Each job
// runs on a host whose table is already built (a "table build" step first, measured on its own),
// as on a worker host that has archived into the repository before.
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { URL, fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import console from 'node:console';
import process from 'node:process';
import { sha256File, warmFile } from './file-stats.mjs';
import { prepareBaseImage } from './image.mjs';
import { prepareLargeRepo, scratchCopy } from './scale-repo.mjs';
import { buildScaleReport } from './scale-report.mjs';
import { parseJson, runTimed } from './timed-exec.mjs';
import { settleDisks } from './disk-settle.mjs';
import { failedScenario } from './scenario-result.mjs';
// The launcher's settings, so these scripts' memory compares with the CLI's.
import { LAUNCHER_MALLOC_ENV, LAUNCHER_NODE_FLAGS } from '../../support/launcher-env.mjs';

const execFileP = promisify(execFile);
const OPEN_SCRIPT = fileURLToPath(new URL('./scale-open.mjs', import.meta.url));
const INDEX_TABLE_SCRIPT = fileURLToPath(new URL('./index-table-scale.mjs', import.meta.url));
const VOLUME_ID = 'scale-measured';

const timing = (r) => ({ wallS: r.wallS, userS: r.userS, sysS: r.sysS, cpuS: r.userS + r.sysS, maxRssKiB: r.maxRssKiB });

/** `snapfleet <command> --help`, or undefined when the CLI does not know the command. */
function cliHelp(cfg, command) {
  const r = spawnSync(cfg.cliPath, [command, '--help'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}

/** Reads every file below dir once: the repository's index objects start each step in the page cache. */
async function warmTree(dir) {
  let bytes = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (e) {
    if (e.code === 'ENOENT') return 0; // an empty repository has no index folder yet
    throw e;
  }
  for (const ent of entries) {
    if (ent.isFile()) bytes += await warmFile(join(ent.parentPath ?? ent.path, ent.name));
  }
  return bytes;
}

async function runScenario(ctx) {
  const { cfg } = ctx;
  const s = cfg.scale;
  if (!ctx.tools.some((t) => t.name === 'snapfleet')) {
    throw new Error('the scale scenario needs the snapfleet tool (SNAPFLEET_BENCH_TOOLS must include snapfleet, and the CLI must be built)');
  }
  const { FORMAT_VERSION } = await import('@snapfleet/shared');
  const dir = join(cfg.runDir, 'scale');
  const logDir = join(dir, 'logs');
  await rm(dir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  // A run-local index cache for the CLI: a run never reads or fills the user's ~/.cache.
  const cliCache = join(dir, 'cli-cache');
  const env = { SNAPFLEET_PASSWORD: cfg.password, SNAPFLEET_CACHE_DIR: cliCache };
  const cli = (args) => ({ argv: [cfg.cliPath, ...args], env });

  const openScript = (label, args) =>
    runTimed({ argv: [process.execPath, ...LAUNCHER_NODE_FLAGS, OPEN_SCRIPT, ...args], env: { ...env, ...LAUNCHER_MALLOC_ENV } }, { logDir, label });
  const census = async (repo) => parseJson((await openScript(`census-${Date.now()}`, ['--repo', repo, '--census'])).stdout, 'census');

  /** Cold (empty cache folder) then warm (the folder the cold open filled), per index view. */
  const openCost = async (repo, label) => {
    await warmTree(join(repo, 'index'));
    const out = {};
    for (const view of ['read', 'write']) {
      const cacheDir = join(dir, `open-cache-${label}-${view}`);
      await rm(cacheDir, { recursive: true, force: true });
      out[view] = {};
      for (const pass of ['cold', 'warm']) {
        const r = await openScript(`open-${label}-${view}-${pass}`, ['--repo', repo, '--view', view, '--cache-dir', cacheDir, '--table-root', cacheDir]);
        out[view][pass] = { ...parseJson(r.stdout, `open ${label} ${view} ${pass}`), gnuTime: timing(r) };
        const o = out[view][pass];
        console.log(
          `  [scale] open ${label} (${view} view, ${pass}${o.cache === 'none' ? ', no cache' : ''}): ${o.requests.total} requests ` +
            `(${o.requests.get} gets, ${o.requests.list} list), ${o.wallS.toFixed(2)} s, ${(o.maxRssKiB / 1024).toFixed(0)} MiB RSS` +
            (o.table ? `; table ${o.table.entries} entries in ${o.table.runs} runs, ${(o.table.bytes / 2 ** 20).toFixed(0)} MiB` : ''),
        );
      }
      await rm(cacheDir, { recursive: true, force: true });
    }
    return out;
  };

  // The volume measured in both repositories, and the one its memory is compared with.
  const image = await prepareBaseImage(cfg, s.volumeMib, cfg.seed);
  const verifyHelp = cliHelp(cfg, 'verify') ?? '';
  // Verify of one snapshot, when the CLI can scope it (with the volume id, so that only that
  // volume's snapshots are listed); otherwise the whole repository is verified, and the report says so.
  const verifyScoped = /--snapshot\b/.test(verifyHelp) && /--volume-id\b/.test(verifyHelp);
  const hasMaintenance = cliHelp(cfg, 'maintenance') !== undefined;

  /**
   * Builds (or refreshes) the CLI's host index table of `repo`, as the first archive on a host
   * does: the jobs then run on a host that has archived into the repository before.
   */
  const tableBuild = async (repo, label) => {
    await warmTree(join(repo, 'index'));
    await execFileP('sync');
    const r = await openScript(`table-${label}`, ['--repo', repo, '--view', 'write', '--table-root', cliCache]);
    const o = { ...parseJson(r.stdout, `table build ${label}`), gnuTime: timing(r) };
    if (o.table)
      console.log(
        `  [scale] host index table of ${label}: built in ${o.wallS.toFixed(2)} s, ${(o.maxRssKiB / 1024).toFixed(0)} MiB RSS, ${o.table.entries} entries, ${(o.table.bytes / 2 ** 20).toFixed(0)} MiB on disk`,
      );
    return o;
  };

  /** Archive, restore (checked), verify of the measured volume into `repo`. */
  const job = async (repo, label) => {
    const step = async (name, args) => {
      await settleDisks(); // the previous step's writes must not land on this step's clock
      const r = await runTimed(cli(args), { logDir, label: `${label}-${name}` });
      console.log(
        `  [scale] ${label} ${name}: ${r.wallS.toFixed(2)} s wall, ${(r.userS + r.sysS).toFixed(2)} s CPU, ${(r.maxRssKiB / 1024).toFixed(0)} MiB RSS`,
      );
      return { ...timing(r), json: r.stdout.trim().startsWith('{') ? parseJson(r.stdout, `${label} ${name}`) : undefined };
    };
    await warmFile(image.path);
    await warmTree(join(repo, 'index'));
    const archive = await step('archive', ['archive', '--repo', repo, '--volume-id', VOLUME_ID, image.path, '--json']);
    const snapshot = archive.json.snapshot;
    const to = join(dir, 'restore.img');
    const restore = await step('restore', ['restore', '--repo', repo, '--snapshot', snapshot, '--volume-id', VOLUME_ID, '--to', to]);
    const restoredSha256 = await sha256File(to);
    await rm(to, { force: true });
    if (restoredSha256 !== image.sha256) throw new Error(`${label}: restore is NOT byte-identical (${restoredSha256} != ${image.sha256})`);
    const verify = await step('verify', ['verify', '--repo', repo, ...(verifyScoped ? ['--snapshot', snapshot, '--volume-id', VOLUME_ID] : []), '--json']);
    if (verify.json?.problems?.length) throw new Error(`${label}: verify found ${verify.json.problems.length} problems (log ${logDir})`);
    return { archive, restore, verify, snapshot };
  };

  // 1. The large repository.
  const large = await prepareLargeRepo(cfg, {
    cliArgv: (args) => [cfg.cliPath, ...args],
    env: { SNAPFLEET_PASSWORD: cfg.password, SNAPFLEET_CACHE_DIR: 'off' },
    census,
    formatVersion: FORMAT_VERSION,
  });

  // 2. The empty repository: the open baseline, then the job.
  const emptyRepo = join(dir, 'empty-repo');
  await runTimed(cli(['init', '--repo', emptyRepo]), { logDir, label: 'empty-init' });
  const openEmpty = await openCost(emptyRepo, 'empty');
  const tableEmpty = await tableBuild(emptyRepo, 'empty');
  const jobEmpty = await job(emptyRepo, 'empty');
  await rm(emptyRepo, { recursive: true, force: true });

  // 3. The scratch copy of the large repository: open cost as archives leave it, the job, then
  //    compaction and the open cost again.
  const scratch = join(dir, 'large-repo');
  let openLarge;
  let tableLarge;
  let tableAfterMaintenance;
  let jobLarge;
  let compaction;
  let openCompacted;
  try {
    await scratchCopy(large.path, scratch);
    openLarge = await openCost(scratch, 'large');
    tableLarge = await tableBuild(scratch, 'large');
    jobLarge = await job(scratch, 'large');
    if (hasMaintenance) {
      await warmTree(join(scratch, 'index'));
      await execFileP('sync');
      const r = await runTimed(cli(['maintenance', '--repo', scratch, '--json']), { logDir, label: 'large-maintenance' });
      compaction = { available: true, ...timing(r), report: parseJson(r.stdout, 'maintenance') };
      console.log(`  [scale] maintenance: ${r.wallS.toFixed(2)} s wall, ${(r.maxRssKiB / 1024).toFixed(0)} MiB RSS: ${r.stdout.trim()}`);
      // The table the jobs used, refreshed after compaction replaced every object it was built from.
      tableAfterMaintenance = await tableBuild(scratch, 'large, after maintenance');
      openCompacted = await openCost(scratch, 'compacted');
    } else {
      compaction = { available: false, note: '`snapfleet maintenance --help` failed: the CLI has no index compaction; skipped' };
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }

  // 4. The large volume into an empty repository (its repository deleted right after: disk).
  const big = await prepareBaseImage(cfg, s.bigMib, cfg.seed);
  const bigRepo = join(dir, 'big-repo');
  let bigArchive;
  try {
    await runTimed(cli(['init', '--repo', bigRepo]), { logDir, label: 'big-init' });
    await warmFile(big.path);
    await settleDisks();
    const r = await runTimed(cli(['archive', '--repo', bigRepo, '--volume-id', 'scale-big', big.path, '--json']), { logDir, label: 'big-archive' });
    bigArchive = { ...timing(r), json: parseJson(r.stdout, 'big archive') };
    console.log(`  [scale] big archive (${s.bigMib} MiB): ${r.wallS.toFixed(2)} s wall, ${(r.maxRssKiB / 1024).toFixed(0)} MiB RSS`);
  } finally {
    await rm(bigRepo, { recursive: true, force: true });
  }

  // 5. The index-only test: a 1 TiB-equivalent host index table.
  const indexOnly = await indexTableTest(s.indexEntries, join(dir, 'index-only'), logDir);

  return {
    config: { ...s, seed: cfg.seed },
    indexOnly,
    tables: { empty: tableEmpty, large: tableLarge, afterMaintenance: tableAfterMaintenance },
    image: { mib: s.volumeMib, sizeBytes: image.sizeBytes, sha256: image.sha256 },
    bigImage: { mib: s.bigMib, sizeBytes: big.sizeBytes },
    large: { path: large.path, reused: large.reused, ...large.stamp },
    verifyScoped,
    jobs: { empty: jobEmpty, large: jobLarge },
    open: { empty: openEmpty, large: openLarge, compacted: openCompacted },
    compaction,
    bigArchive,
  };
}

/** Builds a run of `entries` synthetic entries, then times lookups in a fresh process. */
async function indexTableTest(entries, dir, logDir) {
  const providers = await import('@snapfleet/providers');
  if (typeof providers.RunWriter !== 'function') return { available: false, note: '@snapfleet/providers has no host index table (RunWriter)' };
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'index-only.sfrt');
  const script = (label, args) =>
    runTimed({ argv: [process.execPath, ...LAUNCHER_NODE_FLAGS, INDEX_TABLE_SCRIPT, ...args], env: LAUNCHER_MALLOC_ENV }, { logDir, label });
  try {
    const build = parseJson((await script('index-only-build', ['--build', '--file', file, '--entries', String(entries)])).stdout, 'index-only build');
    console.log(`  [scale] index-only table: ${entries} entries built in ${build.buildS.toFixed(1)} s, ${(build.bytes / 1e9).toFixed(2)} GB`);
    const lookup = parseJson((await script('index-only-lookup', ['--lookup', '--file', file, '--entries', String(entries)])).stdout, 'index-only lookup');
    for (const [label, p] of [
      ['as found', lookup.asFound],
      ['warm', lookup.warm],
    ]) {
      console.log(
        `  [scale] index-only lookups (${label}, ${p.memAvailableMiB?.toFixed(0)} MiB available): ${p.hitUs.toFixed(2)} µs a hit, ${p.missUs.toFixed(2)} µs a miss`,
      );
    }
    console.log(`  [scale] index-only RSS: ${lookup.openRssMiB.toFixed(0)} MiB open, ${lookup.maxRssMiB.toFixed(0)} MiB peak`);
    return { available: true, build, lookup };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const scaleScenario = {
  id: 'scale',
  title: 'Scale: what one job costs as the repository grows',
  usesImages: false,
  async run(ctx) {
    const s = ctx.cfg.scale;
    console.log(`scale: ${s.gib} GiB repository from ${s.volumes} random volumes; ${s.volumeMib} MiB measured volume; ${s.bigMib} MiB large volume`);
    try {
      const raw = await runScenario(ctx);
      const report = buildScaleReport(raw);
      return { id: this.id, title: this.title, data: { ...raw, derived: report.derived }, markdown: report.markdown, failures: [] };
    } catch (e) {
      return failedScenario(this, e);
    }
  },
};
