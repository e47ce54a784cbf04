/**
 * The index a restore of one snapshot needs: the headers of the packs its pack list names
 * (format/pack-list.ts), read from the packs' tails, instead of every index object of the
 * repository. Its cost follows the snapshot's own size, whatever the repository holds.
 *
 * The pack list is a hint, never trusted for correctness: a blob not found in the listed packs
 * (prune repacked it since, or the list is gone) is looked up in the whole index, loaded then
 * and only then, and the pack holding it is added. Every chunk is still checked against its id
 * where it lands.
 */
import { CorruptDataError, InvalidInputError, NotFoundError } from '../errors.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { packKey } from '../format/layout.js';
import { decodeEnvelope } from '../format/envelope.js';
import { decodePackList, packListKey, type ListedPack } from '../format/pack-list.js';
import { BlobType } from '../format/codec-ids.js';
import { BlobIndex } from '../content/blob-index.js';
import { mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
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
}

export interface SnapshotIndexOptions {
  /**
   * Index only the manifest's nodes (map frames), not the data: what an archive reading its
   * parent's manifest needs, in memory that follows the manifest, not the volume's data.
   */
  mapsOnly?: boolean;
}

export async function loadSnapshotIndex(repo: Repository, entry: SnapshotEntry, options: SnapshotIndexOptions = {}): Promise<ScopedIndex> {
  const listId = entry.snapshot.packList;
  const listed = listId ? await readPackList(repo, listId) : undefined;
  const only = options.mapsOnly ? BlobType.Map : undefined;
  if (!listed) {
    const index = await repo.loadIndex();
    return { index, ensure: async () => false, stats: { listedPacks: 0, fallbackBlobs: 0 }, damaged: [] };
  }
  const index = new BlobIndex();
  const damaged: { packId: string; message: string }[] = [];
  await mapLimit(listed, METADATA_READS_IN_FLIGHT, async (p) => {
    try {
      const frames = await readPackTail(repo, p.packId, p.packLength);
      if (frames) index.addPack({ packId: p.packId, packLength: p.packLength, frames }, only);
    } catch (err) {
      // A damaged pack (or a truncated one: its range is past the end) is verify's to report;
      // a restore still finds its blobs through the index if another pack holds them.
      if (!(err instanceof CorruptDataError || err instanceof InvalidInputError)) throw err;
      damaged.push({ packId: p.packId, message: err.message });
    }
  });
  const stats = { listedPacks: listed.length, fallbackBlobs: 0 };
  let whole: Promise<BlobIndex> | undefined;
  const ensure = async (ids: Uint8Array, offset: number): Promise<boolean> => {
    if (index.has(ids, offset)) return true;
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
  return { index, ensure, stats, damaged };
}

/** A snapshot's pack list, or undefined when it is gone. */
export async function readPackList(repo: Repository, id: string): Promise<ListedPack[] | undefined> {
  const key = packListKey(id);
  try {
    return decodePackList(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined; // removed with a damaged snapshot, or by hand: the index still has everything
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
