// Scenario "archive": per tool, on the same bytes: init, full archive of the base image,
// incremental archive of the mutated image (same path, so each tool sees "the volume changed"),
// restore of the latest snapshot, checked byte for byte against the mutated image.
import process from 'node:process';
import { execFile } from 'node:child_process';
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import console from 'node:console';
import { listFiles, sha256File, treeBytes, warmFile } from './file-stats.mjs';
import { runTimed, ToolError } from './timed-exec.mjs';
import { settleDisks } from './disk-settle.mjs';
import { buildArchiveReport } from './archive-report.mjs';

const execFileP = promisify(execFile);

// A hard link gives every tool the same path for base and then mutated content without copying
// 2 GiB per tool; the new inode and mtime tell restic's and borg's file caches the file changed.
async function placeSource(imagePath, srcPath) {
  await rm(srcPath, { force: true });
  try {
    await link(imagePath, srcPath);
  } catch {
    await copyFile(imagePath, srcPath);
  }
}

function parseJson(stdout) {
  try {
    return JSON.parse(stdout.trim());
  } catch {
    return undefined;
  }
}

async function runOnce(ctx, tool, runNo) {
  const { cfg, images } = ctx;
  const dir = join(cfg.runDir, 'archive', `${tool.name}-run${runNo}`);
  const logDir = join(dir, 'logs');
  const outDir = join(dir, 'restore');
  const src = join(dir, 'src', 'disk.img');
  await rm(dir, { recursive: true, force: true });
  await Promise.all([logDir, outDir, join(dir, 'src')].map((d) => mkdir(d, { recursive: true })));
  const t = tool.prepare(dir, cfg);
  const imageMB = images.base.sizeBytes / 1e6;

  const step = async (label, cmd) => {
    await settleDisks(); // the previous step's writes must not land on this step's clock
    const r = await runTimed(cmd, { logDir, label });
    // A step ends when its data is on disk: a tool that exits with its output still in the page
    // cache (restic and borg do not fsync restored files) pays for the flush here, like a tool
    // that syncs before it exits pays inside its own run.
    const t0 = process.hrtime.bigint();
    await execFileP('sync');
    const syncS = Number(process.hrtime.bigint() - t0) / 1e9;
    const wallS = r.wallS + syncS;
    const rate = label === 'init' ? '' : `, ${(imageMB / wallS).toFixed(0)} MB/s`;
    console.log(
      `  [${tool.name} #${runNo}] ${label}: ${wallS.toFixed(2)} s wall (${syncS.toFixed(2)} s of it the trailing sync), ${(r.userS + r.sysS).toFixed(2)} s CPU, ${(r.maxRssKiB / 1024).toFixed(0)} MiB RSS${rate}`,
    );
    return { wallS, toolWallS: r.wallS, syncS, userS: r.userS, sysS: r.sysS, maxRssKiB: r.maxRssKiB, hrWallS: r.hrWallS, json: parseJson(r.stdout) };
  };

  const steps = {};
  steps.init = await step('init', tool.init(t));
  await placeSource(images.base.path, src);
  await warmFile(src);
  steps.full = await step('full', tool.archive(t, { srcPath: src, name: 'full' }));
  const repoFullBytes = await treeBytes(t.repo);

  await placeSource(images.mutated.path, src);
  await warmFile(src);
  steps.incr = await step('incr', tool.archive(t, { srcPath: src, name: 'incr' }));
  const repoIncrBytes = await treeBytes(t.repo);

  steps.restore = await step('restore', tool.restore(t, { outDir, name: 'incr' }));
  const restored = await listFiles(outDir);
  if (restored.length !== 1) throw new ToolError(`${tool.name} restore: expected one file under ${outDir}, found ${restored.length}`);
  const sha = await sha256File(restored[0]);
  if (sha !== images.mutated.sha256) {
    throw new ToolError(`${tool.name} restore is NOT byte-identical: sha256 ${sha} != ${images.mutated.sha256} (${restored[0]} kept for inspection)`);
  }
  console.log(`  [${tool.name} #${runNo}] restore verified: sha256 matches the mutated image`);
  // Measured and checked: the repository and the source go (GBs per tool and run, which the
  // scenarios after this one need on this disk); the logs stay.
  await Promise.all([outDir, t.repo, join(dir, 'src')].map((d) => rm(d, { recursive: true, force: true })));
  return { run: runNo, steps, repoFullBytes, repoIncrBytes };
}

export const archiveScenario = {
  id: 'archive',
  title: 'Archive: full, incremental, restore',
  usesImages: true,
  async run(ctx) {
    const { cfg, tools } = ctx;
    const runsByTool = Object.fromEntries(tools.map((t) => [t.name, []]));
    const failures = [];
    const failed = new Set();
    for (let r = 1; r <= cfg.runs; r++) {
      // Rotate the order each repetition so no tool always runs first (cold CPU, fresh disk).
      const order = tools.map((_, i) => tools[(i + r - 1) % tools.length]);
      for (const [i, tool] of order.entries()) {
        if (failed.has(tool.name)) continue;
        console.log(`archive: ${tool.name}, run ${r}/${cfg.runs}`);
        try {
          // The position shows what ran before: the machine's memory state after the other
          // tools' runs can move a step's system time by seconds.
          runsByTool[tool.name].push({ ...(await runOnce(ctx, tool, r)), position: i + 1 });
        } catch (e) {
          console.error(`FAILED ${tool.name}: ${e.message}`);
          failures.push({ scenario: 'archive', tool: tool.name, message: e.message });
          failed.add(tool.name);
        }
      }
    }
    const report = buildArchiveReport({ images: ctx.images, runsByTool, runs: cfg.runs });
    return { id: this.id, title: this.title, data: { runsByTool, ...report.data }, markdown: report.markdown, failures };
  },
};
