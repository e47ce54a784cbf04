/**
 * The index a restore of one snapshot needs: the headers of the packs its pack list names
 * (format/pack-list.ts), read from the packs' tails, instead of every index object of the
 * repository. Its cost follows the snapshot's own size, whatever the repository holds.
 *
 * The pack list is a hint, never trusted for correctness: a blob not found in the listed packs
 * (prune repacked it since, or the list is gone) is looked up in the host index table where the
 * host has one (ports/dedup-index.ts: local files, memory that does not grow with the
 * repository), else in the whole index, loaded then and only then; the pack holding it is added.
 * Every chunk is still checked against its id where it lands.
 */
import { CorruptDataError, InvalidInputError, NotFoundError, NotRetrievedError } from '../errors.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { packKey } from '../format/layout.js';
import { decodeEnvelope } from '../format/envelope.js';
import { decodePackList, packListKey, type ListedPack } from '../format/pack-list.js';
import { BlobType } from '../format/codec-ids.js';
import { BlobIndex } from '../content/blob-index.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import { snapshotLayoutsPrefix } from '../format/layout-list.js';
import type { DedupIndex } from '../ports/dedup-index.js';
import type { Repository } from './repository.js';

export interface ScopedIndex {
  index: BlobIndex;
  /**
   * Makes the blob at `ids[offset..]` findable in `index` if the repository has it anywhere:
   * true when it now is. Loads the whole index on its first call.
   */
  ensure(ids: Uint8Array, offset: number): Promise<boolean>;
  /** Packs read from the pack list, and blobs looked up beyond it (a stale or missing list). */
  readonly stats: { listedPacks: number; fallbackBlobs: number };
  /** Listed packs whose header could not be read: left out (their blobs are looked up instead). */
  readonly damaged: { packId: string; message: string }[];
  /** Closes the host index table if a lookup opened it. */
  close(): Promise<void>;
}

export interface SnapshotIndexOptions {
  /**
   * Index only the manifest's nodes (map frames), not the data: what an archive reading its
   * parent's manifest needs, in memory that follows the manifest, not the volume's data.
   */
  mapsOnly?: boolean;
}

export async function loadSnapshotIndex(repo: Repository, entry: SnapshotEntry, options: SnapshotIndexOptions = {}): Promise<ScopedIndex> {
  const listed = await snapshotPackList(repo, entry);
  const only = options.mapsOnly ? BlobType.Map : undefined;
  if (!listed) {
    const index = await repo.loadIndex();
    return { index, ensure: async () => false, stats: { listedPacks: 0, fallbackBlobs: 0 }, damaged: [], close: async () => {} };
  }
  const damaged: { packId: string; message: string }[] = [];
  const tails = await mapLimit(listed, METADATA_READS_IN_FLIGHT, async (p) => {
    try {
      return await readPackTail(repo, p.packId, p.packLength);
    } catch (err) {
      // A damaged pack (or a truncated one: its range is past the end) is verify's to report;
      // a restore still finds its blobs through the index if another pack holds them.
      // Not retrieved (an archive storage class): unreadable now, as a damaged one is.
      if (!(err instanceof CorruptDataError || err instanceof InvalidInputError || err instanceof NotRetrievedError)) throw err;
      damaged.push({ packId: p.packId, message: err.message });
      return undefined;
    }
  });
  // Sized for every blob the headers list: a restore of 1 GiB adds ~300,000 at once.
  let blobs = 0;
  for (const frames of tails) for (const f of frames ?? []) if (only === undefined || f.type === only) blobs += f.lengths.length;
  const index = new BlobIndex({ presize: blobs });
  // In list order, not in the order the headers arrived: a blob held by two listed packs is read
  // from the one listed first (docs/format.md, "Pack list"). Lists put the packs that keep the
  // snapshot's data together first (a layout's, the parent's taken over) ahead of the old packs
  // a deduplication hit named, so a restore keeps reading the relocated copies.
  listed.forEach((p, i) => {
    const frames = tails[i];
    if (frames) index.addPack({ packId: p.packId, packLength: p.packLength, frames }, only);
  });
  const stats = { listedPacks: listed.length, fallbackBlobs: 0 };
  let table: Promise<DedupIndex | undefined> | undefined;
  let whole: Promise<BlobIndex> | undefined;
  /** Packs being added for lookups: windows decoded at once may miss blobs of the same pack. */
  const adding = new Map<string, Promise<boolean>>();
  /** Adds the pack's frames to the index; false when it is gone or its header is damaged. */
  const addPack = (p: ListedPack): Promise<boolean> => {
    if (index.hasPack(p.packId)) return Promise.resolve(true);
    let added = adding.get(p.packId);
    if (!added) {
      added = readPackTail(repo, p.packId, p.packLength).then(
        (frames) => {
          if (frames && !index.hasPack(p.packId)) index.addPack({ packId: p.packId, packLength: p.packLength, frames }, only);
          return frames !== undefined;
        },
        (err: unknown) => {
          if (err instanceof CorruptDataError || err instanceof InvalidInputError || err instanceof NotRetrievedError) return false; // verify reports it
          throw err;
        },
      );
      adding.set(p.packId, added);
    }
    return added;
  };
  const ensure = async (ids: Uint8Array, offset: number): Promise<boolean> => {
    if (index.has(ids, offset)) return true;
    if (repo.dedupCache) {
      // Packs prune has condemned are skipped: they may be deleted while this reads them.
      table ??= repo.condemnedPacks().then((condemned) => repo.dedupCache!.open(repo.indexObjectView(), { exclude: condemned }));
      const pack = (await table)?.find(ids, offset);
      if (pack && (await addPack(pack)) && index.has(ids, offset)) {
        stats.fallbackBlobs++;
        return true;
      }
    }
    // No table on this host, or it does not know the blob: the whole index decides.
    whole ??= repo.buildIndex();
    const loc = (await whole).lookup(ids, offset);
    if (!loc) return false;
    if (!index.hasPack(loc.frame.packId)) {
      const pack = await repo.describePack(loc.frame.packId);
      if (!pack) return false;
      index.addPack(pack, only);
    }
    stats.fallbackBlobs++;
    return index.has(ids, offset);
  };
  const close = async () => {
    const t = table;
    table = undefined;
    await (await t?.catch(() => undefined))?.close();
  };
  return { index, ensure, stats, damaged, close };
}

/**
 * The packs to read a snapshot from: the layout list locality maintenance wrote for it (its
 * blobs laid out in volume order) if there is one, else the pack list it names; undefined when
 * it has neither (an older snapshot, or a list removed by hand). One listing of the snapshot's
 * own layout prefix: its cost does not grow with the repository.
 */
export async function snapshotPackList(repo: Repository, entry: SnapshotEntry): Promise<ListedPack[] | undefined> {
  const layout = await readLayoutList(repo, entry);
  if (layout) return layout;
  return entry.snapshot.packList ? readPackList(repo, entry.snapshot.packList) : undefined;
}

/**
 * The snapshot's layout list, undefined when it has none. Maintenance deletes an older layout
 * list of a snapshot once it stored a newer one; should both be seen, either is a valid hint.
 */
export async function readLayoutList(repo: Repository, entry: SnapshotEntry): Promise<ListedPack[] | undefined> {
  const keys = (await collect(repo.store.list(snapshotLayoutsPrefix(repo.volumeKey(entry.snapshot.volumeId), entry.id)))).map((o) => o.key).sort();
  for (const key of keys.reverse()) {
    try {
      return decodePackList(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key);
    } catch (err) {
      if (err instanceof NotFoundError) continue; // replaced by a newer one meanwhile
      throw err;
    }
  }
  return undefined;
}

/**
 * A snapshot's pack list, or undefined when it is gone or damaged: it is a hint, and without it
 * the index still has everything (verify reports a damaged one as corrupt-packlist).
 */
export async function readPackList(repo: Repository, id: string): Promise<ListedPack[] | undefined> {
  const key = packListKey(id);
  try {
    return decodePackList(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined; // removed with a damaged snapshot, or by hand
    if (err instanceof CorruptDataError) return undefined;
    throw err;
  }
}

/** A pack's frames from its tail; undefined if the pack is gone. */
async function readPackTail(repo: Repository, packId: string, packLength: number) {
  try {
    return await repo.readPackHeader(packKey(packId), packLength);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined; // deleted by prune after a repack
    throw err;
  }
}
