/**
 * The lists readers take a snapshot's blobs from (its layout list, else its own pack list), as
 * prune sees and keeps them true.
 *
 * Prune decides which copy of a duplicated blob stays. Copies in layout packs win, the newest
 * snapshot's layout first: relocation copies the same scattered blocks again at each run, so
 * every older relocated snapshot's layout names an earlier copy of blocks the newest layout
 * holds too, and keeping every layout's copies would keep every relocation's bytes for as long
 * as its snapshot lives. The snapshots whose lists then name a pack prune condemns get a new
 * layout list naming where their blobs are now, so their restores keep reading only their own
 * list instead of falling back to the whole index.
 */
import type { IndexedPack } from '../format/index-object.js';
import { ID_BYTES } from '../format/ids.js';
import { decodeEnvelope, encodeEnvelope } from '../format/envelope.js';
import { decodePackList, encodePackList, type ListedPack } from '../format/pack-list.js';
import { LAYOUTS_PREFIX, newLayoutKey, parseLayoutKey } from '../format/layout-list.js';
import type { SnapshotEntry } from '../format/snapshot.js';
import { NotFoundError } from '../errors.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import { readPackList } from './snapshot-index.js';
import type { Repository } from './repository.js';

export interface SnapshotReadList {
  entry: SnapshotEntry;
  /** The snapshot's layout lists (normally one); empty when readers use its own pack list. */
  layoutKeys: string[];
  /**
   * The packs readers take its blobs from, in precedence order; undefined when it has no list,
   * or (until withOwnLists) when that is its own pack list.
   */
  packs: ListedPack[] | undefined;
}

/**
 * Every snapshot's layout list, the newest snapshot first (`entries` come oldest first): one
 * listing of `layouts/` and a read of each list found. Snapshots without one get their own pack
 * list read by withOwnLists, only when a prune has packs to condemn. Layout lists of snapshots
 * not in `entries` are deleted unless `dryRun`; their count is returned.
 */
export async function loadReadLists(
  repo: Repository,
  entries: readonly SnapshotEntry[],
  dryRun: boolean,
): Promise<{ lists: SnapshotReadList[]; deletedLayouts: number }> {
  const layoutKeys = new Map<string, string[]>();
  let deletedLayouts = 0;
  const existing = new Set(entries.map((e) => e.id));
  for (const { key } of await collect(repo.store.list(LAYOUTS_PREFIX))) {
    const owner = parseLayoutKey(key);
    if (!owner) continue;
    if (existing.has(owner.snapshotId)) {
      layoutKeys.set(owner.snapshotId, [...(layoutKeys.get(owner.snapshotId) ?? []), key]);
    } else if (!dryRun) {
      await repo.store.delete(key);
      deletedLayouts++;
    }
  }
  const newestFirst = [...entries].reverse();
  const lists = await mapLimit(newestFirst, METADATA_READS_IN_FLIGHT, async (entry): Promise<SnapshotReadList> => {
    const keys = (layoutKeys.get(entry.id) ?? []).sort();
    // Readers take the greatest key of two (a relocation or refresh killed between its put and
    // its delete): so does prune.
    for (const key of [...keys].reverse()) {
      const packs = await readList(repo, key);
      if (packs) return { entry, layoutKeys: keys, packs };
    }
    return { entry, layoutKeys: [], packs: undefined };
  });
  return { lists, deletedLayouts };
}

/** The same lists with each snapshot that has no layout list given its own pack list. */
export async function withOwnLists(repo: Repository, lists: readonly SnapshotReadList[]): Promise<SnapshotReadList[]> {
  return mapLimit(lists, METADATA_READS_IN_FLIGHT, async (l) => {
    if (l.packs || !l.entry.snapshot.packList) return l;
    return { ...l, packs: await readPackList(repo, l.entry.snapshot.packList) };
  });
}

async function readList(repo: Repository, key: string): Promise<ListedPack[] | undefined> {
  try {
    return decodePackList(decodeEnvelope(await repo.store.get(key), repo.keys.enc, key), key);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/**
 * The packs whose copies prune keeps first, in the order they claim: the layout lists' packs,
 * the newest snapshot's list first, each list in its own precedence order.
 */
export function claimOrder(lists: readonly SnapshotReadList[]): string[] {
  const order = new Set<string>();
  for (const l of lists) if (l.layoutKeys.length > 0) for (const p of l.packs ?? []) order.add(p.packId);
  return [...order];
}

/** Where a live blob's kept copy is after this prune (the pack holding it), or undefined. */
export type KeptCopy = (ids: Uint8Array, offset: number) => ListedPack | undefined;

/**
 * Writes a new layout list for each snapshot whose list names a pack in `condemned`: the pack
 * replaced, where it stood, by the packs that now hold its live blobs (`kept`), so the list
 * keeps its precedence. Then deletes the snapshot's older layout lists. Returns how many were
 * written. Called only once every pack `kept` names is stored and indexed.
 */
export async function refreshReadLists(
  repo: Repository,
  lists: readonly SnapshotReadList[],
  condemned: ReadonlyMap<string, IndexedPack>,
  kept: KeptCopy,
): Promise<number> {
  const replacements = new Map<string, ListedPack[]>();
  const replacementOf = (pack: IndexedPack): ListedPack[] => {
    let r = replacements.get(pack.packId);
    if (r) return r;
    const found = new Map<string, ListedPack>();
    for (const f of pack.frames) {
      for (let o = 0; o < f.ids.byteLength; o += ID_BYTES) {
        const at = kept(f.ids, o);
        if (at && !found.has(at.packId)) found.set(at.packId, at);
      }
    }
    replacements.set(pack.packId, (r = [...found.values()]));
    return r;
  };
  let written = 0;
  for (const l of lists) {
    if (!l.packs?.some((p) => condemned.has(p.packId))) continue;
    const next: ListedPack[] = [];
    for (const p of l.packs) {
      const gone = condemned.get(p.packId);
      if (gone) next.push(...replacementOf(gone));
      else next.push(p);
    }
    const { volumeId } = l.entry.snapshot;
    await repo.store.put(newLayoutKey(repo.volumeKey(volumeId), l.entry.id), encodeEnvelope(encodePackList(next), repo.keys.enc));
    for (const key of l.layoutKeys) await repo.store.delete(key);
    written++;
  }
  return written;
}
