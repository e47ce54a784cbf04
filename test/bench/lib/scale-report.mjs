// The scale scenario's numbers as ratios, targets, per-blob costs and an extrapolation, as data
// and as markdown (lib/scenario-scale.mjs measures them).
import { fmt, mb, mdTable, mib, ratio } from './format.mjs';
import { CHUNK_BYTES, PACK_BYTES, TIB, describeModel, extrapolate, unitCosts } from './scale-extrapolation.mjs';

// The targets: a job costs what its own volume costs, whatever the repository holds.
const JOB_WALL_MAX = 1.25;
const JOB_RSS_MAX = 1.25;
const COLD_OPEN_MAX_REQUESTS = 50;
const WARM_OPEN_MAX_REQUESTS = 5;
const BIG_VOLUME_RSS_MAX = 1.15;

const verdict = (pass) => (pass === undefined ? '-' : pass ? 'PASS' : 'MISS');
const gib = (bytes) => fmt(bytes / 2 ** 30, 2);
const int = (n) => (n === undefined || Number.isNaN(n) ? '-' : Math.round(n).toLocaleString('en-US'));

function jobRows(d) {
  const scope = d.verifyScoped ? 'verify (of that snapshot)' : 'verify (whole repository: `verify` has no option scoping it to one snapshot)';
  return [
    ['archive', d.jobs.empty.archive, d.jobs.large.archive],
    ['restore', d.jobs.empty.restore, d.jobs.large.restore],
    [scope, d.jobs.empty.verify, d.jobs.large.verify],
  ].map(([step, e, l]) => {
    const wall = l.wallS / e.wallS;
    const rss = l.maxRssKiB / e.maxRssKiB;
    return { step, empty: e, large: l, wallRatio: wall, rssRatio: rss, wallPass: wall <= JOB_WALL_MAX, rssPass: rss <= JOB_RSS_MAX };
  });
}

function openRows(d) {
  const rows = [];
  const states = [
    ['empty', 'empty', d.open.empty],
    ['large', 'large, as archives leave it', d.open.large],
    ['compacted', 'large, after `maintenance`', d.open.compacted],
  ];
  for (const [key, label, byView] of states) {
    if (!byView) continue;
    for (const view of ['read', 'write']) {
      for (const pass of ['cold', 'warm']) {
        const o = byView[view][pass];
        const max = pass === 'cold' ? COLD_OPEN_MAX_REQUESTS : WARM_OPEN_MAX_REQUESTS;
        rows.push({ key, label, view, pass, o, max, pass_: o.requests.total <= max });
      }
    }
  }
  return rows;
}

export function buildScaleReport(d) {
  const jobs = jobRows(d);
  const opens = openRows(d);
  const units = unitCosts(d);
  const extra = extrapolate(units);
  const big = {
    rssRatio: d.bigArchive.maxRssKiB / d.jobs.empty.archive.maxRssKiB,
  };
  big.pass = big.rssRatio <= BIG_VOLUME_RSS_MAX;
  const derived = {
    jobs: jobs.map(({ step, wallRatio, rssRatio, wallPass, rssPass }) => ({ step, wallRatio, rssRatio, wallPass, rssPass })),
    opens: opens.map((r) => ({ repo: r.key, view: r.view, pass: r.pass, requests: r.o.requests.total, target: r.max, met: r.pass_ })),
    units,
    extrapolation: extra,
    big,
  };
  return { derived, markdown: markdown(d, { jobs, opens, units, extra, big }) };
}

function markdown(d, { jobs, opens, units, extra, big }) {
  const L = d.large;
  const c = d.config;
  const cpu = (t) => fmt(t.cpuS);
  const out = [
    `Input: a large repository of ${c.gib} GiB of unique data, written by ${c.volumes} archives of seeded random volumes ` +
      `(AES-128-CTR keystream; each volume deleted once archived), encrypted, CLI defaults (4 KiB chunks, 16 MiB packs); ` +
      `${L.reused ? `built ${L.builtAt} and reused (stamp matched)` : 'built in this run'}, measured through a hard-linked scratch copy. ` +
      `The measured job: \`mkimage.py create IMG ${d.image.mib} ${c.seed}\` (${d.image.sizeBytes} bytes). ` +
      "Steps under GNU time (`%e %U %S %M`) after a `sync` and a quiet disk (lib/disk-settle.mjs), with the image and the repository's `index/` objects in the page cache. " +
      'One run each: single numbers, not medians. MB = 10^6 bytes.',
    '',
    '### Repositories',
    '',
    mdTable(
      ['repository', 'unique data GiB', 'packs', 'index objects', 'blobs (data + map)', 'bytes on disk MB'],
      [
        ['empty (`init`)', '0', '0', '0', '0', '-'],
        [
          `large (${c.volumes} random volumes)`,
          gib(L.uniqueBytes),
          int(L.packs),
          int(L.indexObjects),
          `${int(L.blobs)} (${int(L.census.dataBlobs)} + ${int(L.census.mapBlobs)})`,
          mb(L.bytes),
        ],
      ],
    ),
    '',
    `### The same job in an empty and in the large repository (${d.image.mib} MiB volume)`,
    '',
    mdTable(
      [
        'step',
        'wall s empty',
        'wall s large',
        'wall large/empty',
        'CPU s empty',
        'CPU s large',
        'RSS MiB empty',
        'RSS MiB large',
        'RSS large/empty',
        `wall <= ${JOB_WALL_MAX}x`,
        `RSS <= ${JOB_RSS_MAX}x`,
      ],
      jobs.map((j) => [
        j.step,
        fmt(j.empty.wallS),
        fmt(j.large.wallS),
        ratio(j.wallRatio),
        cpu(j.empty),
        cpu(j.large),
        mib(j.empty.maxRssKiB),
        mib(j.large.maxRssKiB),
        ratio(j.rssRatio),
        verdict(j.wallPass),
        verdict(j.rssPass),
      ]),
    ),
    '',
    "Restores were checked against the image's sha256; verify reported no problems. CPU = user + sys.",
    '',
    '### Opening the repository and loading its index, requests as S3 would bill them',
    '',
    'lib/scale-open.mjs: `openRepository` then `repo.loadIndex({ view })` through a counting store ' +
      '(each get, ranged get, put, stat and delete is one request; each listing ceil(max(1, keys)/1000)), ' +
      `under the host's index cache (${opens[0]?.o.cache === 'CachingBlobStore' ? '`CachingBlobStore`' : 'none: @snapfleet/providers has no `CachingBlobStore`'}): ` +
      '"cold" with an empty cache folder, "warm" a second process over the folder the cold one filled, nothing new in between. ' +
      'The `read` view is what a whole-repository verify and a restore of a snapshot without a pack list load; `write` is what an archive opens: the host index table, ' +
      'built ("cold") or refreshed ("warm"), and the listing of `prune/` (condemned packs). ' +
      "Each open is its own process (node with the launcher's flags); its peak RSS includes Node itself.",
    '',
    mdTable(
      [
        'repository',
        'view',
        'cache',
        'index objects listed',
        'gets',
        'ranged gets',
        'list requests',
        'puts/stats/deletes',
        'requests',
        'wall s',
        'peak RSS MiB',
        'index held as',
        'target',
        '',
      ],
      opens.map((r) => [
        r.label,
        r.view,
        r.pass,
        int(r.o.indexObjectsListed),
        int(r.o.requests.get),
        int(r.o.requests.rangedGet),
        int(r.o.requests.list),
        `${r.o.requests.put}/${r.o.requests.stat}/${r.o.requests.delete}`,
        int(r.o.requests.total),
        fmt(r.o.wallS),
        mib(r.o.maxRssKiB),
        r.o.table ? `host table: ${int(r.o.table.entries)} entries, ${r.o.table.runs} runs, ${int(r.o.table.objectsRead)} objects read` : 'memory',
        `<= ${r.max}`,
        verdict(r.pass_),
      ]),
    ),
    '',
  ];
  if (d.compaction.available) {
    const k = d.compaction;
    out.push(
      `Compaction (\`snapfleet maintenance\`, run once on the scratch copy after the job): ${fmt(k.wallS)} s wall, ${fmt(k.cpuS)} s CPU, ` +
        `${mib(k.maxRssKiB)} MiB peak RSS; index objects ${int(k.report.objectsBefore)} -> ${int(k.report.objectsAfter)} ` +
        `(merged ${int(k.report.merged)} into ${int(k.report.written)}; ${int(k.report.packs)} packs, ${int(k.report.blobs)} blobs).`,
      '',
    );
  } else {
    out.push(`Compaction: not measured (${d.compaction.note}).`, '');
  }
  if (d.tables?.large?.table) {
    out.push(
      '### The host index table (archives look blobs up here: packages/providers/src/caching/index-table)',
      '',
      'Built once per repository per host, before the jobs above ran, by `openWriteIndex` as the first archive on a host builds it ' +
        '(lib/scale-open.mjs, reading the index objects from local files: the cost of an S3 host is the cold write-view open above). ' +
        'Later archives only refresh it with what is new. "large, after `maintenance`" is the same table (built before the jobs, refreshed by the ' +
        'archive) refreshed once more after compaction replaced every index object it was built from: it reads the merged objects and hands ' +
        'the packs over to them (pack owners) instead of rebuilding its runs.',
      '',
      mdTable(
        ['repository', 'entries', 'runs (resident)', 'disk MiB', 'bytes/entry', 'index objects read', 'wall s', 'peak RSS MiB'],
        [
          ['empty', 'empty'],
          ['large', 'large'],
          ['afterMaintenance', 'large, after `maintenance`'],
        ]
          .map(([k, label]) => [label, d.tables[k]])
          .filter(([, t]) => t?.table)
          .map(([k, t]) => [
            k,
            int(t.table.entries),
            `${t.table.runs} (${t.table.residentRuns})`,
            fmt(t.table.bytes / 2 ** 20, 0),
            t.table.entries ? fmt(t.table.bytes / t.table.entries, 1) : '-',
            int(t.table.objectsRead ?? 0),
            fmt(t.wallS),
            mib(t.maxRssKiB),
          ]),
      ),
      '',
    );
  }
  if (d.indexOnly?.available) {
    const { build: ib, lookup: il } = d.indexOnly;
    out.push(
      `### Index-only: a host index table of ${int(ib.entries)} entries (1 TiB of 4 KiB chunks when 268,435,456)`,
      '',
      'lib/index-table-scale.mjs: one run file of synthetic sorted ids (what keyed hashes look like to the table), built with `RunWriter`, ' +
        `then opened in a fresh process and looked up one id at a time with \`RunReader.find\`, as an archive does: ${int(il.samples)} ids present and ${int(il.samples)} random (absent), ` +
        'twice: with the file as its build left it (the page cache holds what the rest of the run left room for), and after reading it through once ' +
        `(${il.warmRead ? `${fmt(il.warmRead.bytes / 1e9, 2)} GB in ${fmt(il.warmRead.s, 1)} s` : '-'}; cached if the machine has the memory: "MiB available" is /proc/meminfo's MemAvailable before the pass). ` +
        'A lookup is one positioned read of one bucket (~16 entries, ~600 bytes) and a binary search: a system call when the bucket is cached, a disk read when not.',
      '',
      mdTable(
        ['entries', 'packs', 'file GB', 'bytes/entry', 'fanout bits', 'build s', 'open s', 'RSS before open MiB', 'RSS open MiB', 'peak RSS MiB'],
        [
          [
            int(ib.entries),
            int(ib.packs),
            fmt(ib.bytes / 1e9, 2),
            fmt(ib.bytes / ib.entries, 1),
            ib.fanoutBits,
            fmt(ib.buildS, 1),
            fmt(il.openS, 3),
            fmt(il.baseRssMiB, 0),
            fmt(il.openRssMiB, 0),
            fmt(il.maxRssMiB, 0),
          ],
        ],
      ),
      '',
      mdTable(
        ['pass', 'MiB available', 'µs a hit', 'µs a miss', 'lookups/s'],
        (il.asFound
          ? [
              ['as the build left it', il.asFound],
              ['after one read through', il.warm],
            ]
          : [['single pass', il]]
        ).map(([label, p]) => [
          label,
          p.memAvailableMiB === undefined ? '-' : fmt(p.memAvailableMiB, 0),
          fmt(p.hitUs, 2),
          fmt(p.missUs, 2),
          int(p.lookupsPerS),
        ]),
      ),
      '',
    );
  }
  const b = d.bigArchive;
  const e = d.jobs.empty.archive;
  out.push(
    '### A large volume against the measured one (each archived into an empty repository)',
    '',
    mdTable(
      ['volume', 'wall s', 'MB/s', 'CPU s', 'peak RSS MiB', `RSS vs ${d.image.mib} MiB`, `target <= ${BIG_VOLUME_RSS_MAX}x`],
      [
        [`\`mkimage.py create IMG ${d.image.mib} ${c.seed}\``, fmt(e.wallS), fmt(d.image.sizeBytes / 1e6 / e.wallS, 0), cpu(e), mib(e.maxRssKiB), '1.00x', ''],
        [
          `\`mkimage.py create IMG ${d.bigImage.mib} ${c.seed}\``,
          fmt(b.wallS),
          fmt(d.bigImage.sizeBytes / 1e6 / b.wallS, 0),
          cpu(b),
          mib(b.maxRssKiB),
          ratio(big.rssRatio),
          verdict(big.pass),
        ],
      ],
    ),
    '',
  );
  if (L.volumesDone?.length) {
    out.push(
      `### Building the large repository (${L.reused ? `recorded when it was built, ${L.builtAt}` : 'this run'})`,
      '',
      "Each random volume's archive, with the repository as large as the volumes archived before it: the same job, a growing repository. These archives run with the host index table off (`SNAPFLEET_CACHE_DIR=off`, so that no table exists before the measured jobs): each loads the whole index into memory, which is why their peak RSS grows with the repository; the measured jobs above use the table.",
      '',
      mdTable(
        ['volume', 'repository before GiB', 'volume MiB', 'wall s', 'CPU s', 'peak RSS MiB'],
        L.volumesDone.map((v) => [v.volume + 1, gib(v.repoBytesBefore), fmt(v.sizeBytes / 2 ** 20, 0), fmt(v.wallS), fmt(v.cpuS), mib(v.maxRssKiB)]),
      ),
      '',
    );
  }
  const u = units;
  const us = (s) => fmt(s * 1e6, 3);
  out.push(
    '### Extrapolation (not measured)',
    '',
    `Per-unit costs measured above on the large repository (${int(u.blobs)} blobs, ${int(u.packs)} packs), each against the empty repository:`,
    '',
    mdTable(
      ['cost', 'formula', 'value'],
      [
        ['archive peak RSS per blob', '(RSS archive large - RSS archive empty) / blobs', `${fmt(u.archiveRssPerBlob, 1)} B`],
        ['open peak RSS per blob (read view, cold)', '(RSS open large - RSS open empty) / blobs', `${fmt(u.openRssPerBlob, 1)} B`],
        ['archive wall per blob', '(wall archive large - wall archive empty) / blobs', `${us(u.archiveWallPerBlob)} µs`],
        ['open wall per blob (read view, cold)', '(wall open large - wall open empty) / blobs', `${us(u.openSPerBlob)} µs`],
        ...u.requestModels.map((m) => [
          `open requests, ${m.label}`,
          'measured: empty + (large - empty) / packs, listings by keys per pack',
          describeModel(m.model),
        ]),
        ...(u.table
          ? [
              ['host index table on disk per blob', 'table bytes / entries (large repository)', `${fmt(u.table.bytesPerEntry, 1)} B`],
              ['host index table build per blob (once per host)', 'build wall / entries (large repository)', `${us(u.table.buildSPerEntry)} µs`],
              [
                'lookup of a new chunk, per run on disk, table in the page cache',
                'index-only test, µs a miss after one read through',
                u.table.missUs === undefined ? '-' : `${fmt(u.table.missUs, 2)} µs`,
              ],
              [
                'lookup of a new chunk, per run on disk, table as found',
                'index-only test, µs a miss as the build left it',
                u.table.missColdUs === undefined ? '-' : `${fmt(u.table.missColdUs, 2)} µs`,
              ],
            ]
          : []),
      ],
    ),
    '',
    `At D bytes of unique repository data: blobs(D) = D / 4 KiB (${int(TIB / CHUNK_BYTES)} per TiB; map blobs add ~0.1%, left out), ` +
      `packs(D) = D / 16 MiB (${int(TIB / PACK_BYTES)} per TiB). ` +
      `Archive RSS(D) = ${mib(u.archiveRssEmptyBytes / 1024)} MiB (archive into the empty repository) + ${fmt(u.archiveRssPerBlob, 1)} B x blobs(D); ` +
      `open s(D) = ${fmt(u.openEmptyS)} s + ${us(u.openSPerBlob)} µs x blobs(D) (local folder: no network latency); ` +
      'requests(D) = requests other than listings (empty repository) + their growth per pack x packs(D) + for each listing ' +
      'ceil(max(1, keys(D)) / 1000), where keys(D) = keys per pack x packs(D) for `index/` and `data/` and the measured count for the others.',
    '',
    u.table
      ? 'With the host index table: table on disk(D) = bytes/entry x blobs(D); table memory(D) = 4 bytes x 2^bits per run (bits = ceil(log2(entries/16)), at most 24) + 40 bytes a pack; ' +
          'table build(D) = build per blob x blobs(D), once per host and repository (a refresh reads only what is new); ' +
          'lookup of a new chunk = µs a miss x runs on disk (2 once consolidated; a run holds at most 2^32 - 1 entries). ' +
          "Archive peak RSS(D) is the archive into the empty repository plus the open table's memory: with the table the archive holds no index (the per-blob growth measured above is noise around 0). " +
          "Open s is the read view's (restore and verify read a snapshot's own packs instead, measured in the job table)."
      : '',
    '',
    mdTable(
      [
        'unique data',
        'blobs',
        'packs',
        'archive peak RSS GiB',
        ...(u.table
          ? [
              'host table on disk GB',
              'host table memory MiB',
              'host table build min (once per host)',
              'µs per new chunk: table cached',
              'µs per new chunk: as found',
            ]
          : []),
        'open s (read view, cold)',
        ...u.requestModels.map((m) => `requests: ${m.label}`),
      ],
      extra.map((x) => [
        `${x.tib} TiB`,
        int(x.blobs),
        int(x.packs),
        gib(x.archiveRssBytes),
        ...(u.table
          ? [
              fmt(x.tableBytes / 1e9, 1),
              fmt(x.tableMemoryBytes / 2 ** 20, 0),
              fmt(x.tableBuildS / 60, 1),
              x.missUs === undefined ? '-' : fmt(x.missUs, 2),
              x.missColdUs === undefined ? '-' : fmt(x.missColdUs, 2),
            ]
          : []),
        fmt(x.openS, 0),
        ...x.requests.map((r) => int(r.requests)),
      ]),
    ),
  );
  return out.join('\n');
}
