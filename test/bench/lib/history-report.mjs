// The history scenario's numbers (lib/scenario-history.mjs) as restore tables per tool and store,
// archive totals, and the targets of "restore time must not decay with history", as markdown.
import { fmt, mb, mdTable, mib, ratio } from './format.mjs';

export const STORES = { folder: 'folder', s3: 'S3 (s3rver)' };

// The targets: after a long history the newest snapshot restores about as fast as a fresh full
// of the same data, well ahead of restic, reading little more than it writes, from a repository
// much smaller than restic's.
const VS_FRESH_MIN = 0.8;
const VS_RESTIC_MIN = 2;
const READ_AMPLIFICATION_MAX = 1.3;
const REPO_VS_RESTIC_MAX = 0.35;

const verdict = (pass) => (pass === undefined ? 'not measured' : pass ? 'PASS' : 'MISS');

/** The restore tables, in the order they are shown. */
const GROUPS = [
  { tool: 'snapfleet', store: STORES.folder },
  { tool: 'snapfleet', store: STORES.s3 },
  { tool: 'restic', store: STORES.folder },
];

function pick(d, tool, store, { fresh = false, day } = {}) {
  return d.restores.find((r) => r.tool === tool && r.store === store && r.fresh === fresh && (day === undefined || r.day === day));
}

/** The restore the targets are about: the newest snapshot right after the history's last day. */
const newest = (d, tool, store) => pick(d, tool, store, { day: d.days });

function targets(d) {
  const mbps = (r) => (r ? d.imageBytes / 1e6 / r.wallS : undefined);
  const div = (a, b) => (a === undefined || b === undefined ? undefined : a / b);
  const sfFolder = newest(d, 'snapfleet', STORES.folder);
  const sfS3 = newest(d, 'snapfleet', STORES.s3);
  const vsFresh = div(mbps(sfFolder), mbps(pick(d, 'snapfleet', STORES.folder, { fresh: true })));
  const vsRestic = div(mbps(sfFolder), mbps(newest(d, 'restic', STORES.folder)));
  const raFolder = sfFolder?.read?.readAmplification;
  const raS3 = sfS3?.read?.readAmplification;
  const repo = div(d.repoBytes.snapfleet, d.repoBytes.restic);
  const t = (name, value, shown, pass) => ({ name, value, shown, pass });
  const below = (v, max) => (v === undefined ? undefined : v <= max);
  const above = (v, min) => (v === undefined ? undefined : v >= min);
  const last = `newest after day ${d.days}`;
  return [
    t(`snapfleet restore, ${last}, folder: MB/s >= ${VS_FRESH_MIN}x its fresh full's`, vsFresh, ratio(vsFresh), above(vsFresh, VS_FRESH_MIN)),
    t(`snapfleet restore, ${last}, folder: MB/s >= ${VS_RESTIC_MIN}x restic's (${last})`, vsRestic, ratio(vsRestic), above(vsRestic, VS_RESTIC_MIN)),
    t(`read amplification of that restore, folder <= ${READ_AMPLIFICATION_MAX}`, raFolder, fmt(raFolder, 3), below(raFolder, READ_AMPLIFICATION_MAX)),
    t(`read amplification of that restore, S3 <= ${READ_AMPLIFICATION_MAX}`, raS3, fmt(raS3, 3), below(raS3, READ_AMPLIFICATION_MAX)),
    t(`repository bytes after ${d.days} days <= ${REPO_VS_RESTIC_MAX}x restic's`, repo, ratio(repo), below(repo, REPO_VS_RESTIC_MAX)),
  ];
}

function restoreTable(d, { tool, store }) {
  const rows = d.restores.filter((r) => r.tool === tool && r.store === store);
  if (rows.length === 0) return undefined;
  const mbps = (r) => d.imageBytes / 1e6 / r.wallS;
  const first = pick(d, tool, store, { day: 1 }) ?? rows[0];
  const reads = tool === 'snapfleet';
  const s3 = store === STORES.s3;
  const headers = ['restored', 'wall s', 'wall s of each run', 'of it sync s', 'CPU s', 'max RSS MiB', 'MB/s', 'MB/s vs day 1'];
  if (reads) headers.push('data reads', 'data MB read', 'data MB restored', 'read amplification', 'decode amplification', 'blobs beyond the pack list');
  if (s3) headers.push('s3rver CPU s', 'copied before it: objects (MB)');
  return mdTable(
    headers,
    rows.map((r) => {
      const cells = [
        r.when,
        fmt(r.wallS),
        (r.runWallS ?? [r.wallS]).map((w) => fmt(w)).join(', '),
        fmt(r.syncS),
        fmt(r.cpuS),
        mib(r.maxRssKiB),
        fmt(mbps(r), 0),
        fmt(mbps(r) / mbps(first), 2),
      ];
      if (reads) {
        cells.push(
          r.read?.dataReads ?? '-',
          r.read ? mb(r.read.dataBytesRead) : '-',
          r.read ? mb(r.read.dataBytesRestored) : '-',
          r.read ? fmt(r.read.readAmplification, 3) : '-',
          r.read?.decodeAmplification !== undefined ? fmt(r.read.decodeAmplification, 3) : '-',
          r.read?.fallbackBlobs ?? '-',
        );
      }
      if (s3) cells.push(fmt(r.serverCpuS), r.upload ? `${r.upload.objects} (${mb(r.upload.bytes)})` : '-');
      return cells;
    }),
  );
}

function archiveTable(d) {
  return mdTable(
    ['tool', 'archives', 'wall s (sum)', 'of it sync s', 'CPU s (sum)', 'mean wall s', 'peak RSS MiB', `repository MB after day ${d.days}`],
    d.tools.map((n) => {
      const a = d.archives[n];
      return [n, a.count, fmt(a.totalWallS, 1), fmt(a.totalSyncS, 1), fmt(a.totalCpuS, 1), fmt(a.totalWallS / a.count), mib(a.peakRssKiB), mb(d.repoBytes[n])];
    }),
  );
}

function maintenanceText(d) {
  const m = d.maintenance;
  const rows = m.relocations.map((r) => [r.day, fmt(r.decodeAmplification, 3), fmt(r.readsPerGiB, 0), mb(r.copiedBytes), mb(r.storedBytes), fmt(r.wallS)]);
  return [
    `\`snapfleet maintenance\` ran after each of snapfleet's ${m.runs} archives (CLI defaults): ${fmt(m.totalWallS, 1)} s wall and ${fmt(m.totalCpuS, 1)} s CPU in all. ` +
      `It relocated the newest snapshot ${m.relocations.length} time(s), copying ${mb(m.copiedBytes)} MB of plaintext into ${mb(m.storedBytes)} MB of new packs, ` +
      (d.prunes.length
        ? `which the repository bytes above include. \`snapfleet prune\` ran every ${d.pruneEvery} days (${d.prunes.length} times; no snapshot was forgotten, so it drained the old copies of relocated blocks): ` +
          `${fmt(
            d.prunes.reduce((n, p) => n + p.wallS, 0),
            1,
          )} s wall, ${mb(d.prunes.reduce((n, p) => n + p.repackedBytes, 0))} MB repacked, ${mb(d.prunes.reduce((n, p) => n + p.freedBytes, 0))} MB freed in all.`
        : 'which the repository bytes above include (no prune ran: every old copy is still there).'),
    ...(rows.length
      ? ['', mdTable(['day', 'predicted decode amplification before', 'predicted reads per GiB before', 'copied MB', 'stored MB', 'maintenance wall s'], rows)]
      : []),
  ].join('\n');
}

function markdown(d, targetRows) {
  const s3Newest = newest(d, 'snapfleet', STORES.s3);
  const s3Fresh = pick(d, 'snapfleet', STORES.s3, { fresh: true });
  const who = d.tools.includes('restic')
    ? 'by each tool, snapfleet with CLI defaults and restic `backup --compression auto` (repository v2), both into folder repositories, the order alternating by day'
    : 'by snapfleet (CLI defaults) into a folder repository; restic was not among the tools';
  const parts = [
    `Input: \`mkimage.py create IMG ${d.imageMib} ${d.seed}\` (${d.imageBytes} bytes), then ${d.days} daily archives ` +
      `(day 2 on: after \`mkimage.py mutate IMG ${d.mutateFraction} SEED_i\`) ${who}. Restores after days ${d.restoreDays.join(', ')}: the newest snapshot of that moment ` +
      "(on day 1, the full), each checked against the image's sha256. MB = 10^6 bytes; MB/s = image bytes / wall time, which runs until the restored file is on disk " +
      "(the tool's run plus a timed `sync` right after it); CPU = user + sys of the tool's process. " +
      `Each restore ran ${d.restoreRuns ?? 1} time(s) cold (every file of the scenario dropped from the page cache with posix_fadvise, then \`sync\` and a quiet disk), ` +
      'and its row is the run of median wall time ("wall s of each run" lists them all): the shared disk here stalls for seconds now and then.',
    '',
    '### Archives',
    '',
    archiveTable(d),
    '',
    'Each archive started with the image in the page cache, after a `sync` (not a quiet disk: that would add minutes to a long history); its wall time includes the timed trailing `sync`. ' +
      `The fresh full of day ${d.days}'s image (the baseline below) is ${mb(d.freshRepoBytes)} MB in its own repository. ` +
      'Repository bytes are all files under the repository folder after `sync`.',
  ];
  if (d.maintenance) parts.push('', '### Locality maintenance', '', maintenanceText(d));
  for (const g of GROUPS) {
    const table = restoreTable(d, g);
    if (!table) continue;
    parts.push('', `### Restores: ${g.tool}, ${g.store}`, '', table);
  }
  parts.push(
    '',
    '"read amplification" is snapfleet\'s own count (`restore --json`, `read`): bytes of pack data read / bytes of the volume that are not holes; ' +
      'below 1 while the data compresses well, it grows as the newest state scatters over more packs. ' +
      '"decode amplification": plaintext bytes of the frames decoded / the same restored bytes (a frame is decompressed whole, once per 8 MiB window that uses it): ' +
      'the CPU spent on chunks the snapshot no longer uses. ' +
      'At each restore point the restores ran in this order: snapfleet from the folder, restic, snapfleet from S3. ' +
      'Both tools read their repositories from the disk: the page cache was emptied of them before each run. ' +
      `S3: snapfleet's folder repository copied into the bucket \`${d.s3.bucket}\` on ${d.s3.server}, on this machine, at each restore point (the objects new since the last copy, after the folder restore) ` +
      'and the same snapshot restored through the CLI (`--repo s3://...`, endpoint from `AWS_ENDPOINT_URL_S3`); its index cache holds what the earlier S3 restores of the run fetched. ' +
      '"s3rver CPU s" is what the server process spent meanwhile, not counted in the CLI\'s CPU. ' +
      `The fresh full rows archived day ${d.days}'s image once into a repository of its own (copied to its own prefix for S3): what a restore of that data costs without a history.`,
  );
  if (s3Newest && s3Fresh) {
    parts.push('', `Over S3, the newest after day ${d.days} restored at ${ratio(s3Fresh.wallS / s3Newest.wallS)} its fresh full's MB/s (no target).`);
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

export function buildHistoryReport(d) {
  const targetRows = targets(d);
  return { targets: targetRows, markdown: markdown(d, targetRows) };
}
