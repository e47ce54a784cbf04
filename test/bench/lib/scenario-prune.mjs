// Scenario "prune": what garbage collection costs and what it gives back, on snapfleet alone.
// A volume with a long daily history: `mkimage.py create` (SNAPFLEET_BENCH_PRUNE_MIB, default
// 1 GiB), then SNAPFLEET_BENCH_PRUNE_SNAPSHOTS (default 100) archives one day apart, each after
// `mkimage.py mutate IMG FRACTION SEED_i` (SNAPFLEET_BENCH_PRUNE_MUTATE, default 0.03). Then
// `forget --all --keep-daily 7 --keep-weekly 4 --keep-monthly 3` and `prune` (CLI defaults),
// both measured under GNU time, with the repository's bytes before and after; then, on the
// pruned repository, `prune --repack-below 90%`: what the default threshold leaves behind.
//
// "Freed vs forgotten" compares what prune freed with what the forgotten snapshots had added to
// the repository (the sum of their archives' storedBytes). It is below 1 by nature: a block
// first stored by a forgotten snapshot is still needed when a kept snapshot has it too, and
// packs that stay mostly needed are not repacked (--repack-below, default 50%).
// Correctness guards: verify must be clean afterwards and the newest snapshot must restore to
// the image's exact bytes; otherwise the scenario fails. How restore speed develops along such a
// history is the "history" scenario's (lib/scenario-history.mjs).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import console from 'node:console';
import { sha256File, treeBytes, warmFile } from './file-stats.mjs';
import { fmt, mb, mdTable, mib } from './format.mjs';
import { prepareBaseImage, runMkimage } from './image.mjs';
import { parseJson, runTimed } from './timed-exec.mjs';
import { settleDisks } from './disk-settle.mjs';
import { failedScenario } from './scenario-result.mjs';

const execFileP = promisify(execFile);
const RETENTION = ['--keep-daily', '7', '--keep-weekly', '4', '--keep-monthly', '3'];
const DAY_MS = 86_400_000;
const AGGRESSIVE_REPACK_PCT = 90;
const FIRST_DAY = Date.UTC(2026, 0, 1, 2); // 02:00 UTC, a nightly backup slot

function timing(r) {
  return { wallS: r.wallS, userS: r.userS, sysS: r.sysS, cpuS: r.userS + r.sysS, maxRssKiB: r.maxRssKiB };
}

async function runScenario(ctx) {
  const { cfg } = ctx;
  const p = cfg.prune;
  const tool = ctx.tools.find((t) => t.name === 'snapfleet');
  if (!tool) throw new Error('the prune scenario needs the snapfleet tool (SNAPFLEET_BENCH_TOOLS must include snapfleet, and the CLI must be built)');
  const dir = join(cfg.runDir, 'prune');
  const logDir = join(dir, 'logs');
  await rm(dir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  const { repo, env } = tool.prepare(dir, cfg);
  const cli = (args) => ({ argv: [cfg.cliPath, ...args, '--repo', repo], env });

  const base = await prepareBaseImage(cfg, p.mib, cfg.seed);
  const image = join(dir, 'volume.img');
  await copyFile(base.path, image); // mutated in place below: the cached image stays intact
  await runTimed(cli(['init']), { logDir, label: 'init' });

  // The history: one archive a day, the volume changing a little between days.
  const snapshots = [];
  let archiveWallS = 0;
  let archiveCpuS = 0;
  let peakArchiveRssKiB = 0;
  const t0 = Date.now();
  for (let i = 0; i < p.snapshots; i++) {
    if (i > 0) runMkimage(cfg, ['mutate', image, String(p.mutateFraction), String(cfg.seed * 100_000 + i)]);
    await warmFile(image);
    const time = new Date(FIRST_DAY + i * DAY_MS).toISOString();
    const r = await runTimed(cli(['archive', image, '--volume-id', 'bench', '--time', time, '--json']), {
      logDir,
      label: `archive-${String(i).padStart(3, '0')}`,
    });
    const json = parseJson(r.stdout, `archive ${i}`);
    snapshots.push({ id: json.snapshot, time, storedBytes: json.storedBytes, newBytes: json.newBytes });
    archiveWallS += r.wallS;
    archiveCpuS += r.userS + r.sysS;
    peakArchiveRssKiB = Math.max(peakArchiveRssKiB, r.maxRssKiB);
    if ((i + 1) % 10 === 0 || i + 1 === p.snapshots) {
      console.log(
        `  [prune] ${i + 1}/${p.snapshots} snapshots archived (${((Date.now() - t0) / 1000).toFixed(0)} s; last: ${r.wallS.toFixed(2)} s, stored ${mb(json.storedBytes)} MB)`,
      );
    }
  }
  const latestSha256 = await sha256File(image);
  const storedTotal = snapshots.reduce((a, s) => a + s.storedBytes, 0);

  await execFileP('sync');
  const repoBefore = await treeBytes(repo);
  const forgetRun = await runTimed(cli(['forget', '--all', ...RETENTION, '--json']), { logDir, label: 'forget' });
  const forget = parseJson(forgetRun.stdout, 'forget');
  const removedIds = new Set(forget.volumes.flatMap((v) => v.remove.map((e) => e.id)));
  const kept = forget.volumes.reduce((a, v) => a + v.keep.length, 0);
  const forgotten = snapshots.filter((s) => removedIds.has(s.id));
  const forgottenStored = forgotten.reduce((a, s) => a + s.storedBytes, 0);
  console.log(`  [prune] forget: removed ${removedIds.size}, kept ${kept} (${forgetRun.wallS.toFixed(2)} s)`);

  await execFileP('sync');
  const pruneRun = await runTimed(cli(['prune', '--json']), { logDir, label: 'prune' });
  const prune = parseJson(pruneRun.stdout, 'prune');
  await execFileP('sync');
  const repoAfter = await treeBytes(repo);
  console.log(
    `  [prune] prune: ${pruneRun.wallS.toFixed(2)} s wall, ${(pruneRun.userS + pruneRun.sysS).toFixed(2)} s CPU, ${(pruneRun.maxRssKiB / 1024).toFixed(0)} MiB RSS; ` +
      `freed ${mb(prune.freedBytes)} MB (${prune.deletedPacks} packs), repacked ${prune.repackedPacks} packs`,
  );

  // The same repository pruned again with a much lower tolerance for dead bytes (repack every
  // pack less than 90% needed): what the default leaves on the table, and what taking it costs.
  await execFileP('sync');
  const aggressiveRun = await runTimed(cli(['prune', '--repack-below', `${AGGRESSIVE_REPACK_PCT}%`, '--json']), { logDir, label: 'prune-aggressive' });
  const aggressive = parseJson(aggressiveRun.stdout, 'prune --repack-below');
  await execFileP('sync');
  const repoAfterAggressive = await treeBytes(repo);
  console.log(
    `  [prune] prune --repack-below ${AGGRESSIVE_REPACK_PCT}%: ${aggressiveRun.wallS.toFixed(2)} s wall, ${(aggressiveRun.userS + aggressiveRun.sysS).toFixed(2)} s CPU, ` +
      `${(aggressiveRun.maxRssKiB / 1024).toFixed(0)} MiB RSS; freed ${mb(aggressive.freedBytes)} MB (${aggressive.deletedPacks} packs), repacked ${aggressive.repackedPacks} packs`,
  );

  // Guards: the pruned repository is whole, and the newest day restores exactly.
  const verifyRun = await runTimed(cli(['verify', '--json']), { logDir, label: 'verify' });
  const verify = parseJson(verifyRun.stdout, 'verify');
  const restoreTo = join(dir, 'restore.img');
  await settleDisks();
  const restoreRun = await runTimed(cli(['restore', '--snapshot', snapshots.at(-1).id, '--to', restoreTo]), { logDir, label: 'restore' });
  const restoredSha256 = await sha256File(restoreTo);
  await rm(restoreTo, { force: true });
  if (restoredSha256 !== latestSha256)
    throw new Error(`restore of the newest snapshot after prune is NOT byte-identical (${restoredSha256} != ${latestSha256})`);
  await rm(image, { force: true });

  return {
    imageMib: p.mib,
    imageBytes: base.sizeBytes,
    seed: cfg.seed,
    mutateFraction: p.mutateFraction,
    snapshots: p.snapshots,
    retention: RETENTION.join(' '),
    removed: removedIds.size,
    kept,
    storedTotal,
    forgottenStored,
    repoBefore,
    repoAfter,
    repoShrink: repoBefore - repoAfter,
    prune,
    freedVsForgotten: forgottenStored > 0 ? prune.freedBytes / forgottenStored : undefined,
    aggressive,
    repoAfterAggressive,
    aggressiveFreedVsForgotten: forgottenStored > 0 ? (prune.freedBytes + aggressive.freedBytes) / forgottenStored : undefined,
    archive: { totalWallS: archiveWallS, totalCpuS: archiveCpuS, meanWallS: archiveWallS / p.snapshots, peakRssKiB: peakArchiveRssKiB },
    steps: {
      forget: timing(forgetRun),
      prune: timing(pruneRun),
      pruneAggressive: timing(aggressiveRun),
      verify: timing(verifyRun),
      restore: timing(restoreRun),
    },
    verify: { snapshots: verify.snapshots, packs: verify.packsTotal, problems: verify.problems.length },
  };
}

function markdown(d) {
  const pr = d.prune;
  const step = (name, t) => [name, fmt(t.wallS), fmt(t.userS), fmt(t.sysS), mib(t.maxRssKiB)];
  return [
    `Input: \`mkimage.py create IMG ${d.imageMib} ${d.seed}\` (${d.imageBytes} bytes), then ${d.snapshots} archives one day apart, ` +
      `each after \`mkimage.py mutate IMG ${d.mutateFraction} SEED_i\`; then \`forget --all ${d.retention}\` and \`prune\` (default --repack-below 50%). ` +
      'MB = 10^6 bytes; repository bytes are all files under the repository folder after `sync`.',
    '',
    '### Retention and space',
    '',
    mdTable(
      ['snapshots', 'forgotten', 'kept', 'stored by all archives MB', 'stored by forgotten MB', 'repo before MB'],
      [[d.snapshots, d.removed, d.kept, mb(d.storedTotal), mb(d.forgottenStored), mb(d.repoBefore)]],
    ),
    '',
    mdTable(
      ['after', 'repo MB', 'freed MB (deleted packs)', 'net shrink MB', 'freed / forgotten', 'net shrink / forgotten'],
      [
        [
          '`prune`',
          mb(d.repoAfter),
          mb(pr.freedBytes),
          mb(d.repoBefore - d.repoAfter),
          fmt(d.freedVsForgotten, 3),
          fmt((d.repoBefore - d.repoAfter) / d.forgottenStored, 3),
        ],
        [
          `then \`prune --repack-below ${AGGRESSIVE_REPACK_PCT}%\` (cumulative)`,
          mb(d.repoAfterAggressive),
          mb(pr.freedBytes + d.aggressive.freedBytes),
          mb(d.repoBefore - d.repoAfterAggressive),
          fmt(d.aggressiveFreedVsForgotten, 3),
          fmt((d.repoBefore - d.repoAfterAggressive) / d.forgottenStored, 3),
        ],
      ],
    ),
    '',
    '"stored by forgotten" is the sum of the forgotten snapshots\' `storedBytes` (what their archives added to the repository). ' +
      '"freed" is the prune report\'s `freedBytes` (bytes of the packs it deleted); "net shrink" also counts what repacking wrote back. ' +
      'Both are below "stored by forgotten" because blocks a forgotten snapshot stored first are still needed when a kept snapshot has them too, ' +
      'and packs that stay at least half needed are kept as they are.',
    '',
    '### Prune report',
    '',
    mdTable(
      [
        'run',
        'packs examined',
        'condemned',
        'condemned MB',
        'repacked',
        'repacked MB (needed, plaintext)',
        'deleted',
        'freed MB',
        'reprieved',
        'waiting markers',
      ],
      [pr, d.aggressive].map((r, i) => [
        i === 0 ? '`prune`' : `\`prune --repack-below ${AGGRESSIVE_REPACK_PCT}%\``,
        r.packs,
        r.condemnedPacks,
        mb(r.condemnedBytes),
        r.repackedPacks,
        mb(r.repackedBytes),
        r.deletedPacks,
        mb(r.freedBytes),
        r.reprievedPacks,
        r.waiting.length,
      ]),
    ),
    '',
    '### Measured steps (GNU time `%e %U %S %M`)',
    '',
    mdTable(
      ['step', 'wall s', 'user s', 'sys s', 'max RSS MiB'],
      [
        step('forget', d.steps.forget),
        step('prune', d.steps.prune),
        step(`prune --repack-below ${AGGRESSIVE_REPACK_PCT}% (after it)`, d.steps.pruneAggressive),
        step('verify (after prune)', d.steps.verify),
        step('restore newest (after prune)', d.steps.restore),
      ],
    ),
    '',
    `Building the history took ${fmt(d.archive.totalWallS, 1)} s of archive wall time (${fmt(d.archive.meanWallS)} s per archive, ` +
      `${fmt(d.archive.totalCpuS, 1)} s CPU, peak RSS ${mib(d.archive.peakRssKiB)} MiB). ` +
      `After prune: verify checked ${d.verify.snapshots} snapshots in ${d.verify.packs} packs, ${d.verify.problems} problems; the newest snapshot restored byte-identically.`,
  ].join('\n');
}

export const pruneScenario = {
  id: 'prune',
  title: 'Prune: retention over a daily history, then garbage collection',
  usesImages: false,
  async run(ctx) {
    const p = ctx.cfg.prune;
    console.log(`prune: ${p.mib} MiB image, ${p.snapshots} daily snapshots, mutate ${p.mutateFraction}`);
    try {
      const data = await runScenario(ctx);
      return { id: this.id, title: this.title, data, markdown: markdown(data), failures: [] };
    } catch (e) {
      return failedScenario(this, e);
    }
  },
};
