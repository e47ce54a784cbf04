// Opens a repository and loads its index the way a job does, counting the store requests it
// takes; run as a child process of the scale scenario (its own process, so its peak RSS is the
// open's alone). Prints one JSON line on stdout.
//
//   node scale-open.mjs --repo DIR [--view read|write] [--cache-dir DIR] [--table-root DIR]   (SNAPFLEET_PASSWORD)
//   node scale-open.mjs --repo DIR --census    index objects, packs and blobs, counted
//
// The write view is what an archive opens: with --table-root (a cache root, as
// SNAPFLEET_CACHE_DIR names one) and a providers package that has the host index table, it is
// the table refreshed against the repository (`openWriteIndex`), as the CLI's archive does;
// otherwise the index loaded into memory (`repo.loadIndex({ view: 'write' })`).
//
// The requests are counted under the host's index cache (CachingBlobStore from
// @snapfleet/providers, in front of the store as openBlobStore puts it in front of S3), so they
// are those an S3 bucket would see. Without --cache-dir, or while the providers package has no
// CachingBlobStore, the store is read directly.
import process from 'node:process';
import { parseArgs } from 'node:util';
import { CountingBlobStore } from './counting-store.mjs';

const INDEX_PREFIX = 'index/';

const { values: args } = parseArgs({
  options: {
    repo: { type: 'string' },
    view: { type: 'string', default: 'read' },
    'cache-dir': { type: 'string' },
    'table-root': { type: 'string' },
    census: { type: 'boolean', default: false },
  },
});
if (!args.repo) throw new Error('--repo is required');
if (args.view !== 'read' && args.view !== 'write') throw new Error(`--view must be read or write, got ${args.view}`);

const shared = await import('@snapfleet/shared');
const providers = await import('@snapfleet/providers');
const password = process.env.SNAPFLEET_PASSWORD;

const counting = new CountingBlobStore(new providers.FolderBlobStore(args.repo));
let store = counting;
let cache = 'none';
const warnings = [];
if (args['cache-dir'] && typeof providers.CachingBlobStore === 'function') {
  store = new providers.CachingBlobStore(counting, { dir: args['cache-dir'], onWarning: (m) => warnings.push(m) });
  cache = 'CachingBlobStore';
}

const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

if (args.census) {
  // Every indexed pack once, one index object in memory at a time (Repository.indexedPacks).
  const repo = await shared.openRepository(store, { password });
  const census = { packs: 0, frames: 0, blobs: 0, dataBlobs: 0, mapBlobs: 0, packBytes: 0 };
  for await (const pack of repo.indexedPacks()) {
    census.packs++;
    census.packBytes += pack.packLength;
    for (const f of pack.frames) {
      census.frames++;
      census.blobs += f.lengths.length;
      if (f.type === shared.BlobType.Data) census.dataBlobs += f.lengths.length;
      else census.mapBlobs += f.lengths.length;
    }
  }
  const indexListing = counting.listings.filter((l) => l.prefix === INDEX_PREFIX).at(-1);
  process.stdout.write(`${JSON.stringify({ ...census, indexObjects: indexListing?.keys ?? 0 })}\n`);
} else {
  // The table lives where the CLI puts it for this repository: the store's folder of the cache root.
  const dedupCache =
    args.view === 'write' && args['table-root'] && typeof providers.hostIndexTableFor === 'function'
      ? providers.hostIndexTableFor(
          new providers.FolderBlobStore(args.repo),
          { SNAPFLEET_CACHE_DIR: args['table-root'] },
          { onWarning: (m) => warnings.push(m) },
        )
      : undefined;
  const t0 = process.hrtime.bigint();
  const repo = await shared.openRepository(store, { password, ...(dedupCache ? { dedupCache } : {}) });
  const openS = seconds(t0);
  const requestsAfterOpen = counting.summary().total;
  const t1 = process.hrtime.bigint();
  let table;
  if (dedupCache) {
    const view = await shared.openWriteIndex(repo);
    table = { ...view.table };
    await view.close();
  } else {
    await repo.loadIndex({ view: args.view });
  }
  const loadS = seconds(t1);
  const indexListings = counting.listings.filter((l) => l.prefix === INDEX_PREFIX);
  process.stdout.write(
    `${JSON.stringify({
      view: args.view,
      cache,
      // The host index table's figures (write view with --table-root), else absent: index in memory.
      ...(table ? { table } : {}),
      requests: counting.summary(),
      requestsForKeys: requestsAfterOpen,
      listings: counting.listings,
      indexObjectsListed: indexListings.at(-1)?.keys ?? 0,
      wallS: openS + loadS,
      openS,
      loadS,
      // process.resourceUsage().maxRSS is in KiB, like GNU time's %M.
      maxRssKiB: process.resourceUsage().maxRSS,
      heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20,
      warnings,
    })}\n`,
  );
}
