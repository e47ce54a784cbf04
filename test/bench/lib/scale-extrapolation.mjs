// The scale scenario's extrapolation: per-blob and per-pack costs measured on the large
// repository against the empty one, and what one job would cost at 1, 10 and 100 TiB of
// repository from them (lib/scale-report.mjs tabulates it).
import { listRequests } from './counting-store.mjs';
import { fmt } from './format.mjs';

export const TIB = 2 ** 40;
export const CHUNK_BYTES = 4096; // the default chunk size: one blob per 4 KiB of unique data
export const PACK_BYTES = 16 * 2 ** 20; // the default pack size
const EXTRAPOLATE_TIB = [1, 10, 100];

const perBlob = (delta, blobs) => (blobs > 0 ? delta / blobs : undefined);

// Listings whose length grows with the repository: one index object per pack (or per ~512 Ki
// blobs once compacted), one object per pack under data/. Other listings (keys/, prune/) stay as
// measured.
const GROWING_PREFIXES = ['index/', 'data/'];

/**
 * How one open's requests grow with the repository: requests other than listings as a fixed part
 * (the empty repository's) plus a part per pack, and each listing's keys per pack, billed by page.
 */
function requestModel(emptyOpen, largeOpen, packs) {
  const nonList = (o) => o.requests.total - o.requests.list;
  return {
    base: nonList(emptyOpen),
    perPack: (nonList(largeOpen) - nonList(emptyOpen)) / packs,
    listings: largeOpen.listings.map((l) =>
      GROWING_PREFIXES.includes(l.prefix) ? { prefix: l.prefix, keysPerPack: l.keys / packs } : { prefix: l.prefix, keys: l.keys },
    ),
  };
}

function requestsAt(model, packs) {
  const pages = model.listings.reduce((a, l) => a + listRequests(l.keysPerPack === undefined ? l.keys : Math.round(l.keysPerPack * packs)), 0);
  return model.base + model.perPack * packs + pages;
}

export function describeModel(m) {
  const lists = m.listings
    .map((l) => (l.keysPerPack === undefined ? `${l.prefix} ${l.keys} keys` : `${l.prefix} ${fmt(l.keysPerPack, 4)} keys/pack`))
    .join(', ');
  return `${m.base} + ${fmt(m.perPack, 4)} x packs(D); listings: ${lists}`;
}

/** Per-blob and per-pack costs measured on the large repository, against the empty one. */
export function unitCosts(d) {
  const blobs = d.large.blobs;
  const packs = d.large.packs;
  const { empty, large, compacted } = d.open;
  const models = [];
  const model = (label, state, statePacks, view, pass) => models.push({ label, model: requestModel(empty[view][pass], state[view][pass], statePacks) });
  model('cold, read view, as archives leave it', large, packs, 'read', 'cold');
  // Once compacted the index is what a maintained repository has; without compaction, as written.
  const [state, statePacks, name] = compacted ? [compacted, d.compaction.report.packs, 'after `maintenance`'] : [large, packs, 'as archives leave it'];
  if (compacted) model(`cold, read view, ${name}`, state, statePacks, 'read', 'cold');
  model(`warm, read view, ${name}`, state, statePacks, 'read', 'warm');
  model(`cold, write view (archive), ${name}`, state, statePacks, 'write', 'cold');
  model(`warm, write view (archive), ${name}`, state, statePacks, 'write', 'warm');
  return {
    blobs,
    packs,
    archiveRssEmptyBytes: d.jobs.empty.archive.maxRssKiB * 1024,
    archiveRssPerBlob: perBlob((d.jobs.large.archive.maxRssKiB - d.jobs.empty.archive.maxRssKiB) * 1024, blobs),
    archiveWallPerBlob: perBlob(d.jobs.large.archive.wallS - d.jobs.empty.archive.wallS, blobs),
    openRssPerBlob: perBlob((large.read.cold.maxRssKiB - empty.read.cold.maxRssKiB) * 1024, blobs),
    openEmptyS: empty.read.cold.wallS,
    openSPerBlob: perBlob(large.read.cold.wallS - empty.read.cold.wallS, blobs),
    requestModels: models,
    table: tableUnits(d),
  };
}

/** The host index table's per-entry costs: disk and build time from the large repository's table, lookups from the index-only test. */
function tableUnits(d) {
  const t = d.tables?.large;
  if (!t?.table) return undefined;
  const lookup = d.indexOnly?.available ? d.indexOnly.lookup : undefined;
  return {
    entries: t.table.entries,
    bytesPerEntry: t.table.bytes / t.table.entries,
    buildSPerEntry: t.wallS / t.table.entries,
    buildRssKiB: t.maxRssKiB,
    // A miss with the table in the page cache, and as found (partly on disk).
    missUs: lookup?.warm?.missUs ?? lookup?.missUs,
    missColdUs: lookup?.asFound?.missUs,
  };
}

/** Fanout bits of a run of n entries (packages/providers/src/caching/index-table/run-format.ts). */
const fanoutBits = (n) => Math.min(24, Math.max(4, Math.ceil(Math.log2(Math.max(1, n / 16)))));
/** Largest run the table holds: 2^32 - 1 entries (a u32 count); more entries are more runs. */
const MAX_RUN_ENTRIES = 2 ** 32 - 1;

export function extrapolate(u) {
  return EXTRAPOLATE_TIB.map((tib) => {
    const blobs = (tib * TIB) / CHUNK_BYTES;
    const packs = (tib * TIB) / PACK_BYTES;
    return {
      tib,
      blobs,
      packs,
      // With the host table the archive holds no index: its memory is the measured archive's
      // plus the open table's (fanouts and packs); without it, the measured growth per blob.
      archiveRssBytes: u.archiveRssEmptyBytes + (u.table ? 0 : Math.max(0, u.archiveRssPerBlob) * blobs),
      openS: u.openEmptyS + u.openSPerBlob * blobs,
      ...(u.table
        ? (() => {
            const runs = Math.ceil(blobs / MAX_RUN_ENTRIES);
            const perRun = blobs / runs;
            return {
              tableBytes: u.table.bytesPerEntry * blobs,
              // What an open table holds in memory: each run's fanout (4 bytes a bucket) and packs (40 bytes each).
              tableMemoryBytes: runs * 4 * 2 ** fanoutBits(perRun) + 40 * packs,
              tableBuildS: u.table.buildSPerEntry * blobs,
              tableRuns: runs,
              // A new chunk is a miss in every run on disk: at most 2 (DEFAULT_MAX_DISK_RUNS) once consolidated, plus the size cap's extra runs.
              missUs: u.table.missUs === undefined ? undefined : u.table.missUs * Math.max(runs, 2),
              missColdUs: u.table.missColdUs === undefined ? undefined : u.table.missColdUs * Math.max(runs, 2),
            };
          })()
        : {}),
      requests: u.requestModels.map((m) => ({ label: m.label, requests: requestsAt(m.model, packs) })),
    };
  }).map((x) => (x.tableMemoryBytes === undefined ? x : { ...x, archiveRssBytes: x.archiveRssBytes + x.tableMemoryBytes }));
}
