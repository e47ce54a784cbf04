// Turns the archive scenario's raw step timings into metrics, snapfleet-vs-peer ratios and the
// pass/fail of the project's performance targets, as data and as markdown.
import { fmt, mb, mdTable, median, mib, ratio } from './format.mjs';

const SELF = 'snapfleet';
const BASELINE = 'restic'; // the targets are stated against restic
const MIN_WALL_S = 0.01; // GNU time's resolution; keeps a 0.00 s step from dividing by zero

const cpu = (s) => s.userS + s.sysS;

function runMetrics(run, imageBytes, changedBytes) {
  const { init, full, incr, restore } = run.steps;
  const rate = (s) => imageBytes / 1e6 / Math.max(s.wallS, MIN_WALL_S);
  const growth = run.repoIncrBytes - run.repoFullBytes;
  return {
    fullMBps: rate(full),
    fullCpuS: cpu(full),
    fullRssMiB: full.maxRssKiB / 1024,
    repoFullBytes: run.repoFullBytes,
    repoPerImage: run.repoFullBytes / imageBytes,
    incrMBps: rate(incr),
    incrCpuS: cpu(incr),
    growthBytes: growth,
    growthPerChanged: growth / changedBytes,
    restoreMBps: rate(restore),
    restoreCpuS: cpu(restore),
    restoreRssMiB: restore.maxRssKiB / 1024,
    peakRssMiB: Math.max(init.maxRssKiB, full.maxRssKiB, incr.maxRssKiB, restore.maxRssKiB) / 1024,
  };
}

function medianMetrics(perRun) {
  if (perRun.length === 0) return undefined;
  return Object.fromEntries(Object.keys(perRun[0]).map((k) => [k, median(perRun.map((m) => m[k]))]));
}

function ratios(self, peer) {
  return {
    fullMBps: self.fullMBps / peer.fullMBps,
    repoBytes: self.repoFullBytes / peer.repoFullBytes,
    restoreMBps: self.restoreMBps / peer.restoreMBps,
    growth: self.growthBytes / peer.growthBytes,
    incrMBps: self.incrMBps / peer.incrMBps,
  };
}

function targets(self, base) {
  const t = (name, value, shown, pass) => ({ name, value, shown, pass });
  const need = (m, f) => (m ? f(m) : undefined);
  const r = self && base ? ratios(self, base) : undefined;
  return [
    t('full archive >= 2x restic MB/s', r?.fullMBps, ratio(r?.fullMBps), r ? r.fullMBps >= 2 : undefined),
    t('repository <= 1.10x restic bytes', r?.repoBytes, ratio(r?.repoBytes), r ? r.repoBytes <= 1.1 : undefined),
    t(
      'incremental growth <= 2x changed bytes',
      self?.growthPerChanged,
      ratio(self?.growthPerChanged),
      need(self, (m) => m.growthPerChanged <= 2),
    ),
    t('restore >= 2x restic MB/s', r?.restoreMBps, ratio(r?.restoreMBps), r ? r.restoreMBps >= 2 : undefined),
    t(
      'peak RSS < 300 MiB',
      self?.peakRssMiB,
      self ? `${fmt(self.peakRssMiB, 0)} MiB` : '-',
      need(self, (m) => m.peakRssMiB < 300),
    ),
  ];
}

const verdict = (pass) => (pass === undefined ? 'not measured' : pass ? 'PASS' : 'MISS');

function markdown({ metrics, runsByTool, ratioRows, targetRows, runs, imageBytes }) {
  const names = Object.keys(metrics);
  const summary = mdTable(
    [
      'tool',
      'full MB/s',
      'full CPU s',
      'full RSS MiB',
      'repo MB',
      'repo/image',
      'incr MB/s',
      'incr CPU s',
      'growth MB',
      'growth/changed',
      'restore MB/s',
      'restore CPU s',
      'restore RSS MiB',
      'peak RSS MiB',
    ],
    names.map((n) => {
      const m = metrics[n];
      return [
        n,
        fmt(m.fullMBps, 0),
        fmt(m.fullCpuS),
        fmt(m.fullRssMiB, 0),
        mb(m.repoFullBytes),
        fmt(m.repoPerImage, 3),
        fmt(m.incrMBps, 0),
        fmt(m.incrCpuS),
        mb(m.growthBytes),
        ratio(m.growthPerChanged),
        fmt(m.restoreMBps, 0),
        fmt(m.restoreCpuS),
        fmt(m.restoreRssMiB, 0),
        fmt(m.peakRssMiB, 0),
      ];
    }),
  );
  const raw = mdTable(
    ['tool', 'run', 'ran as', 'step', 'wall s', 'of it sync s', 'user s', 'sys s', 'max RSS MiB', 'MB/s', 'repo MB after'],
    Object.entries(runsByTool).flatMap(([n, list]) =>
      list.flatMap((run) =>
        Object.entries(run.steps).map(([step, s]) => [
          n,
          run.run,
          run.position ? `${run.position} of ${Object.keys(runsByTool).length}` : '-',
          step,
          fmt(s.wallS),
          fmt(s.syncS ?? 0),
          fmt(s.userS),
          fmt(s.sysS),
          mib(s.maxRssKiB),
          step === 'init' ? '-' : fmt(imageBytes / 1e6 / Math.max(s.wallS, MIN_WALL_S), 0),
          step === 'full' ? mb(run.repoFullBytes) : step === 'incr' ? mb(run.repoIncrBytes) : '-',
        ]),
      ),
    ),
  );
  const parts = [
    `### Per tool${runs > 1 ? ` (median of ${runs} runs)` : ''}`,
    "MB = 10^6 bytes; MB/s = image bytes / wall time, where wall time runs until the step's data is on disk (the tool's run plus a `sync` right after it); CPU = user + sys; growth = repository bytes added by the incremental; " +
      'changed = 4 KiB blocks that differ between base and mutated image x 4096.',
    '',
    summary,
    '',
    '### Every measured step (GNU time `%e %U %S %M`, plus the timed trailing `sync`)',
    '',
    '"ran as": the tool\'s place in that run (the order rotates each run): what ran just before can change a step\'s system time on a VM.',
    '',
    raw,
  ];
  if (ratioRows.length) {
    parts.push(
      '',
      `### ${SELF} / peer (above 1x: ${SELF} is faster for MB/s, larger for bytes)`,
      '',
      mdTable(
        ['peer', 'full MB/s', 'repo bytes', 'restore MB/s', 'incr growth', 'incr MB/s'],
        ratioRows.map(({ peer, r }) => [peer, ratio(r.fullMBps), ratio(r.repoBytes), ratio(r.restoreMBps), ratio(r.growth), ratio(r.incrMBps)]),
      ),
    );
  }
  parts.push(
    '',
    '### Targets',
    '',
    mdTable(
      ['target', 'measured', 'result'],
      targetRows.map((t) => [t.name, t.shown, verdict(t.pass)]),
    ),
  );
  return parts.join('\n');
}

export function buildArchiveReport({ images, runsByTool, runs }) {
  const imageBytes = images.base.sizeBytes;
  const changedBytes = images.mutated.changedBytes;
  const metrics = {};
  for (const [name, list] of Object.entries(runsByTool)) {
    const m = medianMetrics(list.map((run) => runMetrics(run, imageBytes, changedBytes)));
    if (m) metrics[name] = m;
  }
  const self = metrics[SELF];
  const ratioRows = self
    ? Object.keys(metrics)
        .filter((n) => n !== SELF)
        .map((peer) => ({ peer, r: ratios(self, metrics[peer]) }))
    : [];
  const targetRows = targets(self, metrics[BASELINE]);
  return {
    data: { metrics, ratios: Object.fromEntries(ratioRows.map(({ peer, r }) => [peer, r])), targets: targetRows },
    markdown: markdown({ metrics, runsByTool, ratioRows, targetRows, runs, imageBytes }),
  };
}
