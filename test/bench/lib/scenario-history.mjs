// Scenario "history": does restoring the newest snapshot slow down as a volume's daily history
// grows? One volume: `mkimage.py create` (SNAPFLEET_BENCH_HISTORY_MIB, default 1 GiB), then
// SNAPFLEET_BENCH_HISTORY_DAYS (default 100) archives one day apart, each day after the first
// preceded by `mkimage.py mutate IMG FRACTION SEED_i` (SNAPFLEET_BENCH_HISTORY_MUTATE, default
// 0.03). snapfleet and restic archive the same image each day in the same run (the order
// alternates by day), each into a folder repository.
//
// Restores, each checked against the image's sha256 at that moment: the first snapshot (the
// full) right after day 1, and the newest snapshot right after days 10, 30 and 100 (those the
// history reaches, and its last day), by both tools; then the final image archived by snapfleet
// as a fresh full into a repository of its own and restored: the restore speed a long history is
// judged against. snapfleet's restores are repeated over S3 (s3rver, lib/s3rver.mjs): its folder
// repository is copied into a bucket at each restore point, only what is new since the last copy
// (lib/repo-mirror.mjs), and the same snapshot restored from there, with what s3rver's own
// process spent serving it. Archiving the history a second time against S3 would double the
// scenario's time for the same repository.
//
// Every measured step runs under GNU time and its clock stops when its data is on disk (a timed
// `sync` right after the tool exits: restic leaves restored files in the page cache, snapfleet
// fsyncs its own). Each restore runs SNAPFLEET_BENCH_HISTORY_RESTORE_RUNS times (default 3) and
// the run of median wall time is reported: a shared disk here stalls for seconds now and then,
// and one run measured those stalls as often as the restore. Before each run every file of the
// scenario is dropped from the page cache (lib/page-cache.mjs), so every tool reads its
// repository from the disk, and the disk is let go quiet (lib/disk-settle.mjs). Archives start
// after a plain `sync` only, so a 100-day history does not spend minutes waiting for the disk.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import console from 'node:console';
import process from 'node:process';
import { listFiles, sha256File, treeBytes, warmFile } from './file-stats.mjs';
import { mb } from './format.mjs';
import { prepareBaseImage, runMkimage } from './image.mjs';
import { parseJson, runTimed } from './timed-exec.mjs';
import { settleDisks } from './disk-settle.mjs';
import { evictPageCache } from './page-cache.mjs';
import { startS3rver } from './s3rver.mjs';
import { createRepoMirror } from './repo-mirror.mjs';
import { buildHistoryReport, STORES } from './history-report.mjs';

const execFileP = promisify(execFile);
const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(2026, 0, 1, 2); // 02:00 UTC, a nightly backup slot
/** Days after whose archives the newest snapshot is restored (day 1: the full); the last day always is. */
const RESTORE_DAYS = [1, 10, 30, 100];
const BUCKET = 'history';

/** A measured step: the tool's run plus a timed `sync` right after it (README: the step ends when its data is on disk). */
async function timedStep(cmd, opts) {
  const r = await runTimed(cmd, opts);
  const t0 = process.hrtime.bigint();
  await execFileP('sync');
  const syncS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuS = r.userS + r.sysS;
  return { wallS: r.wallS + syncS, toolWallS: r.wallS, syncS, userS: r.userS, sysS: r.sysS, cpuS, maxRssKiB: r.maxRssKiB, stdout: r.stdout };
}

/** Running totals of one tool's daily archives. */
function archiveTotals() {
  return { count: 0, totalWallS: 0, totalSyncS: 0, totalCpuS: 0, peakRssKiB: 0, perDay: [] };
}

function addArchive(totals, day, s, extra = {}) {
  totals.count++;
  totals.totalWallS += s.wallS;
  totals.totalSyncS += s.syncS;
  totals.totalCpuS += s.cpuS;
  totals.peakRssKiB = Math.max(totals.peakRssKiB, s.maxRssKiB);
  totals.perDay.push({ day, wallS: s.wallS, cpuS: s.cpuS, maxRssKiB: s.maxRssKiB, ...extra });
}

async function runScenario(ctx) {
  const { cfg } = ctx;
  const h = cfg.history;
  const snapfleet = ctx.tools.find((t) => t.name === 'snapfleet');
  if (!snapfleet) throw new Error('the history scenario needs the snapfleet tool (SNAPFLEET_BENCH_TOOLS must include snapfleet, and the CLI must be built)');
  const restic = ctx.tools.find((t) => t.name === 'restic');
  if (!restic) console.log('  [history] restic is not among SNAPFLEET_BENCH_TOOLS: its archives and restores are not measured');

  const dir = join(cfg.runDir, 'history');
  const logDir = join(dir, 'logs');
  await rm(dir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });

  // A run-local index cache and host index table: a run never reads or fills the user's ~/.cache,
  // and never finds a table left by an earlier run's repository at the same path.
  const sfEnv = { ...snapfleet.prepare(dir, cfg).env, SNAPFLEET_CACHE_DIR: join(dir, 'cli-cache') };
  const sfRepo = join(dir, 'snapfleet-repo');
  const sf = (repo, args, env = sfEnv) => ({ argv: [cfg.cliPath, ...args, '--repo', repo], env });
  const rt = restic ? restic.prepare(join(dir, 'restic'), cfg) : undefined;

  const base = await prepareBaseImage(cfg, h.mib, cfg.seed);
  const image = join(dir, 'volume.img');
  await copyFile(base.path, image); // mutated in place below: the cached image stays intact

  const s3 = await startS3rver(join(dir, 's3rver'));
  const mirrors = [];
  try {
    await s3.createBucket(BUCKET);
    const s3Env = { ...sfEnv, ...s3.env };
    const mirror = await createRepoMirror({ root: sfRepo, repoUrl: `s3://${BUCKET}/repo`, env: s3.env });
    mirrors.push(mirror);

    await runTimed(sf(sfRepo, ['init']), { logDir, label: 'snapfleet-init' });
    if (rt) {
      await mkdir(join(dir, 'restic'), { recursive: true });
      await runTimed(restic.init(rt), { logDir, label: 'restic-init' });
    }

    const restores = [];
    /** Restores one snapshot, checks it against `expectedSha256`, and keeps its figures. */
    const measureRestore = async ({ tool, store, when, day, label, cmd, expectedSha256, fresh = false, upload }) => {
      const runs = [];
      for (let run = 1; run <= h.restoreRuns; run++) {
        const outDir = join(dir, 'restore');
        await rm(outDir, { recursive: true, force: true });
        await mkdir(outDir, { recursive: true });
        const to = join(outDir, 'volume.img');
        await evictPageCache(dir);
        await settleDisks();
        const serverCpu0 = store === STORES.s3 ? s3.cpuS() : undefined;
        const s = await timedStep(cmd(to, outDir), { logDir, label: `${label}-run${run}` });
        const serverCpuS = serverCpu0 === undefined ? undefined : s3.cpuS() - serverCpu0;
        // snapfleet writes where --to says; restic recreates the source's absolute path under --target.
        const files = await listFiles(outDir);
        if (files.length !== 1) throw new Error(`${label}: expected one restored file under ${outDir}, found ${files.length}`);
        const sha256 = await sha256File(files[0]);
        if (sha256 !== expectedSha256) throw new Error(`${label} is NOT byte-identical (${sha256} != ${expectedSha256}; ${files[0]} kept)`);
        await rm(outDir, { recursive: true, force: true });
        const read = tool === 'snapfleet' ? parseJson(s.stdout, label).read : undefined;
        const { stdout: _stdout, ...timing } = s;
        runs.push({ ...timing, read, serverCpuS });
        console.log(
          `  [history] ${tool} ${store} restore ${when} (run ${run}/${h.restoreRuns}): ${s.wallS.toFixed(2)} s wall (${s.syncS.toFixed(2)} s of it the trailing sync), ${s.cpuS.toFixed(2)} s CPU` +
            `${read ? `, read amplification ${read.readAmplification?.toFixed(3)}` : ''}${serverCpuS === undefined ? '' : `, s3rver ${serverCpuS.toFixed(2)} s CPU`}`,
        );
      }
      const median = [...runs].sort((a, b) => a.wallS - b.wallS)[Math.floor((runs.length - 1) / 2)];
      restores.push({ tool, store, when, day, fresh, ...median, runWallS: runs.map((r) => r.wallS), upload });
    };
    const sfRestore =
      (repo, snapshotId, env = sfEnv) =>
      (to) =>
        sf(repo, ['restore', '--snapshot', snapshotId, '--to', to, '--json'], env);

    /** After a restore day's archives: each tool's newest snapshot, from the folders, then snapfleet's from S3. */
    const restorePoint = async (day, snapshotId) => {
      const expectedSha256 = await sha256File(image);
      const when = day === 1 ? 'day 1 (the full)' : `newest after day ${day}`;
      const tag = `day${String(day).padStart(3, '0')}`;
      await measureRestore({
        tool: 'snapfleet',
        store: STORES.folder,
        when,
        day,
        label: `snapfleet-restore-${tag}`,
        cmd: sfRestore(sfRepo, snapshotId),
        expectedSha256,
      });
      if (rt) {
        const { argv, env } = restic.latest(rt);
        const [latest] = parseJson((await execFileP(argv[0], argv.slice(1), { env: { ...process.env, ...env } })).stdout, 'restic snapshots');
        await measureRestore({
          tool: 'restic',
          store: STORES.folder,
          when,
          day,
          label: `restic-restore-${tag}`,
          cmd: (_to, outDir) => restic.restore(rt, { outDir, snapshot: latest.id }),
          expectedSha256,
        });
      }
      // The copy reads the packs through the page cache; the restores drop them from it again.
      const upload = await mirror.sync();
      console.log(`  [history] copied ${upload.objects} new objects (${mb(upload.bytes)} MB) to s3://${BUCKET}/repo in ${upload.seconds.toFixed(2)} s`);
      await measureRestore({
        tool: 'snapfleet',
        store: STORES.s3,
        when,
        day,
        label: `snapfleet-s3-restore-${tag}`,
        cmd: sfRestore(mirror.repoUrl, snapshotId, s3Env),
        expectedSha256,
        upload,
      });
    };

    // The history: one archive a day per tool, the volume changing a little between days.
    const archives = { snapfleet: archiveTotals(), ...(rt ? { restic: archiveTotals() } : {}) };
    // `snapfleet maintenance` after each of its archives, as a fleet's retention job runs
    // locality after each archive: relocations and what they wrote, counted in the repository.
    const maintenance = { runs: 0, totalWallS: 0, totalCpuS: 0, relocations: [], copiedBytes: 0, storedBytes: 0 };
    const prunes = [];
    const t0 = Date.now();
    for (let i = 0; i < h.days; i++) {
      const day = i + 1;
      if (i > 0) runMkimage(cfg, ['mutate', image, String(h.mutateFraction), String(cfg.seed * 100_000 + i)]);
      const time = new Date(FIRST_DAY + i * DAY_MS).toISOString();
      let snapshotId;
      // Alternate who goes first: the second archive of a day runs right after the first one's
      // writes, and that should not always fall on the same tool.
      const order = rt && i % 2 === 1 ? ['restic', 'snapfleet'] : ['snapfleet', ...(rt ? ['restic'] : [])];
      for (const name of order) {
        await warmFile(image);
        await execFileP('sync');
        const tag = String(day).padStart(3, '0');
        if (name === 'snapfleet') {
          const s = await timedStep(sf(sfRepo, ['archive', image, '--volume-id', 'bench', '--time', time, '--json']), {
            logDir,
            label: `snapfleet-archive-${tag}`,
          });
          const json = parseJson(s.stdout, `snapfleet archive day ${day}`);
          snapshotId = json.snapshot;
          addArchive(archives.snapfleet, day, s, { storedBytes: json.storedBytes });
          if (h.maintenance) {
            const m = await timedStep(sf(sfRepo, ['maintenance', '--json']), { logDir, label: `snapfleet-maintenance-${tag}` });
            const report = parseJson(m.stdout, `snapfleet maintenance day ${day}`);
            maintenance.runs++;
            maintenance.totalWallS += m.wallS;
            maintenance.totalCpuS += m.cpuS;
            for (const v of report.locality?.volumes ?? []) {
              if (!v.relocated) continue;
              maintenance.relocations.push({
                day,
                wallS: m.wallS,
                copiedBytes: v.copiedBytes,
                storedBytes: v.storedBytes,
                decodeAmplification: v.decodeAmplification,
                readsPerGiB: v.readsPerGiB,
              });
              maintenance.copiedBytes += v.copiedBytes;
              maintenance.storedBytes += v.storedBytes;
            }
          }
          // A weekly prune, as a fleet policy's `prune: { every: 7d }` runs one: nothing is
          // forgotten here, so it only drains the old copies of what relocations copied.
          if (h.pruneEvery > 0 && day % h.pruneEvery === 0) {
            const p = await timedStep(sf(sfRepo, ['prune', '--json']), { logDir, label: `snapfleet-prune-${tag}` });
            const report = parseJson(p.stdout, `snapfleet prune day ${day}`);
            prunes.push({
              day,
              wallS: p.wallS,
              cpuS: p.cpuS,
              repackedBytes: report.repackedBytes,
              deletedPacks: report.deletedPacks,
              freedBytes: report.freedBytes,
            });
          }
        } else {
          addArchive(archives.restic, day, await timedStep(restic.archive(rt, { srcPath: image }), { logDir, label: `restic-archive-${tag}` }));
        }
      }
      if (RESTORE_DAYS.includes(day) || day === h.days) await restorePoint(day, snapshotId);
      if (day % 10 === 0 || day === h.days) {
        const last = Object.entries(archives)
          .map(([n, a]) => `${n} ${a.perDay.at(-1).wallS.toFixed(2)} s`)
          .join(', ');
        console.log(`  [history] ${day}/${h.days} days archived (${((Date.now() - t0) / 1000).toFixed(0)} s; last: ${last})`);
      }
    }

    await execFileP('sync');
    const repoBytes = { snapfleet: await treeBytes(sfRepo), ...(rt ? { restic: await treeBytes(rt.repo) } : {}) };

    // The baseline: the final image archived as one fresh full into a repository of its own,
    // restored from the folder and, copied like the history's repository, from S3.
    const finalSha256 = await sha256File(image);
    const freshRepo = join(dir, 'fresh-repo');
    await runTimed(sf(freshRepo, ['init']), { logDir, label: 'fresh-init' });
    await warmFile(image);
    const freshArchive = parseJson(
      (await timedStep(sf(freshRepo, ['archive', image, '--volume-id', 'bench', '--json']), { logDir, label: 'fresh-archive' })).stdout,
      'fresh archive',
    );
    const when = `fresh full of day ${h.days}'s image`;
    await measureRestore({
      tool: 'snapfleet',
      store: STORES.folder,
      when,
      day: h.days,
      label: 'fresh-restore',
      cmd: sfRestore(freshRepo, freshArchive.snapshot),
      expectedSha256: finalSha256,
      fresh: true,
    });
    const freshMirror = await createRepoMirror({ root: freshRepo, repoUrl: `s3://${BUCKET}/fresh`, env: s3.env });
    mirrors.push(freshMirror);
    const freshUpload = await freshMirror.sync();
    await measureRestore({
      tool: 'snapfleet',
      store: STORES.s3,
      when,
      day: h.days,
      label: 'fresh-s3-restore',
      cmd: sfRestore(freshMirror.repoUrl, freshArchive.snapshot, s3Env),
      expectedSha256: finalSha256,
      fresh: true,
      upload: freshUpload,
    });
    await rm(image, { force: true });
    await execFileP('sync');

    return {
      imageMib: h.mib,
      imageBytes: base.sizeBytes,
      seed: cfg.seed,
      mutateFraction: h.mutateFraction,
      restoreRuns: h.restoreRuns,
      days: h.days,
      restoreDays: [...new Set([...RESTORE_DAYS.filter((d) => d <= h.days), h.days])],
      tools: Object.keys(archives),
      archives,
      ...(h.maintenance ? { maintenance } : {}),
      pruneEvery: h.pruneEvery,
      prunes,
      restores,
      repoBytes,
      freshRepoBytes: await treeBytes(freshRepo),
      s3: { bucket: BUCKET, server: 's3rver (test/setup/s3rver-process.mjs)' },
    };
  } finally {
    for (const m of mirrors) m.close();
    await s3.stop();
  }
}

export const historyScenario = {
  id: 'history',
  title: 'History: restore speed as a daily history grows',
  usesImages: false,
  async run(ctx) {
    const h = ctx.cfg.history;
    console.log(`history: ${h.mib} MiB image, ${h.days} daily archives, mutate ${h.mutateFraction}`);
    try {
      const data = await runScenario(ctx);
      const report = buildHistoryReport(data);
      return { id: this.id, title: this.title, data: { ...data, targets: report.targets }, markdown: report.markdown, failures: [] };
    } catch (e) {
      console.error(`FAILED history: ${e.message}`);
      const tools = ctx.tools
        .filter((t) => t.name === 'snapfleet' || t.name === 'restic')
        .map((t) => t.name)
        .join(', ');
      return {
        id: this.id,
        title: this.title,
        data: {},
        markdown: `Failed: ${e.message}`,
        failures: [{ scenario: 'history', tool: tools || 'snapfleet', message: e.message }],
      };
    }
  },
};
