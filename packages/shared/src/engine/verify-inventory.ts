/**
 * Verify's inventory: the index objects and the packs the store lists, held against each other.
 * Index objects that do not decode are reported and skipped (every pack carries its own header,
 * so nothing is lost with them); packs the index names that are gone or shorter are reported
 * with the blobs they take along, unless another pack holds those too; packs without an index
 * object are read from their own headers.
 */
import type { ObjectInfo } from '../ports/blob-store.js';
import { NotFoundError } from '../errors.js';
import { DATA_PREFIX, idFromKey, packKey } from '../format/layout.js';
import { ID_BYTES } from '../format/ids.js';
import type { IndexedPack } from '../format/index-object.js';
import type { FrameEntry } from '../format/pack-header.js';
import { BlobIndex, idKeyOf } from '../content/blob-index.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';
import { forEachIndexObject } from './index-objects.js';
import type { Repository } from './repository.js';
import { removedDamagedPacks } from './damage-records.js';
import type { DescribedPack, LostBlobs } from './verify-packs.js';
import { isDataVerdict, problem, type Problem } from './verify-report.js';

export interface Inventory {
  /** Every blob that can be read from a present pack (a pack cut short: its whole frames). */
  index: BlobIndex;
  /** The packs the store lists. */
  present: ObjectInfo[];
  /** Blobs lost with missing or cut packs (none that another pack holds). */
  lost: LostBlobs;
  /** Packs gone or cut short, for damage records. */
  damagedPacks: Map<string, 'missing-pack' | 'truncated-pack' | 'corrupt-pack'>;
  /** The index's description of a pack (for one whose own header does not read). */
  describe(packId: string): Promise<DescribedPack | undefined>;
}

export async function takeInventory(repo: Repository, problems: Problem[]): Promise<Inventory> {
  // A damaged pack `repair packs` took out but Object Lock keeps stored until its date is no
  // longer part of the repository: not checked, not reported.
  const retired = await removedDamagedPacks(repo);
  const present = (await collect(repo.store.list(DATA_PREFIX))).filter((o) => idFromKey(o.key) && !retired.has(idFromKey(o.key)!));
  const sizes = new Map(present.map((o) => [idFromKey(o.key)!, o.size]));
  const index = new BlobIndex();
  const indexed = new Set<string>();
  const damagedPacks: Inventory['damagedPacks'] = new Map();
  // Blobs of packs gone or cut, with the problem; judged lost once every pack is indexed.
  const suspects: { ids: Uint8Array; problem: Problem }[] = [];
  // Packs cut short or of the wrong length: their headers will not read, the index's description will.
  const cut = new Map<string, DescribedPack>();

  const classify = (p: IndexedPack, size: number | undefined) => {
    if (size === undefined) {
      const pr = problem('missing-pack', `pack ${p.packId} is in the index but not in the store`, { object: packKey(p.packId) });
      problems.push(pr);
      damagedPacks.set(p.packId, 'missing-pack');
      suspects.push({ ids: allIds(p.frames), problem: pr });
    } else if (size < p.packLength) {
      const pr = problem('truncated-pack', `pack ${p.packId} is ${size} bytes, the index says ${p.packLength}`, { object: packKey(p.packId) });
      problems.push(pr);
      damagedPacks.set(p.packId, 'truncated-pack');
      const whole = wholeFrames(p.frames, size);
      index.addPack({ ...p, frames: whole });
      cut.set(p.packId, { pack: p, problem: pr });
      suspects.push({ ids: allIds(p.frames.slice(whole.length)), problem: pr });
    } else {
      if (size > p.packLength) {
        const pr = problem('corrupt-pack', `pack ${p.packId} is ${size} bytes, the index says ${p.packLength}`, { object: packKey(p.packId) });
        problems.push(pr);
        damagedPacks.set(p.packId, 'corrupt-pack');
        cut.set(p.packId, { pack: p, problem: pr });
      }
      index.addPack(p);
    }
  };
  // Indexed packs the listing did not show: missing, or stored by an archive after the listing
  // (an archive stores a pack, then its index object). Asked for one by one before being called
  // missing, so a verify beside running archives reports (and records) no damage that is not.
  const unlisted: IndexedPack[] = [];
  await forEachIndexObject(
    repo,
    (packs) => {
      for (const p of packs) {
        if (indexed.has(p.packId)) continue;
        indexed.add(p.packId);
        const size = sizes.get(p.packId);
        if (size === undefined) unlisted.push(p);
        else classify(p, size);
      }
    },
    METADATA_READS_IN_FLIGHT,
    (key, err) =>
      problems.push(problem('corrupt-index', `index object ${key} is damaged (${err.message}); its packs are read from their own headers`, { object: key })),
  );
  await mapLimit(unlisted, METADATA_READS_IN_FLIGHT, async (p) => {
    const info = retired.has(p.packId) ? undefined : await repo.store.stat(packKey(p.packId));
    if (info) present.push(info);
    classify(p, info?.size);
  });

  // Packs without an index object (an archive killed between the two puts, or their index
  // object damaged): their own headers say what they hold. Condemned ones are prune's, on their
  // way out (prune drops a pack's index entry before it deletes the pack).
  const condemned = await repo.condemnedPacks();
  const unindexed = present.filter((o) => !indexed.has(idFromKey(o.key)!) && !condemned.has(idFromKey(o.key)!));
  await mapLimit(unindexed, METADATA_READS_IN_FLIGHT, async (o) => {
    const packId = idFromKey(o.key)!;
    try {
      index.addPack({ packId, packLength: o.size, frames: await repo.readPackHeader(o.key, o.size) });
      problems.push(problem('unindexed-pack', `pack ${packId} has no index object; maintenance or \`repair index\` writes one`, { object: o.key }));
    } catch (err) {
      if (err instanceof NotFoundError) return; // deleted by a prune meanwhile
      if (!isDataVerdict(err)) throw err;
      problems.push(problem('corrupt-pack', `pack ${packId} has no index object and its header does not read: ${err.message}`, { object: o.key }));
      damagedPacks.set(packId, 'corrupt-pack');
    }
  });

  const lost: LostBlobs = new Map();
  for (const s of suspects) {
    for (let o = 0; o < s.ids.byteLength; o += ID_BYTES) {
      if (index.has(s.ids, o)) continue; // another pack holds it
      const id = s.ids.slice(o, o + ID_BYTES);
      lost.set(idKeyOf(id), { id, problem: s.problem });
      s.problem.blobs = (s.problem.blobs ?? 0) + 1;
    }
  }
  const describe = async (packId: string): Promise<DescribedPack | undefined> => {
    const known = cut.get(packId);
    if (known) return known;
    const pack = await describeFromIndex(repo, packId);
    return pack ? { pack } : undefined;
  };
  return { index, present, lost, damagedPacks, describe };
}

/** The frames that lie wholly within the first `size` bytes. */
function wholeFrames(frames: readonly FrameEntry[], size: number): FrameEntry[] {
  let end = 0;
  const out: FrameEntry[] = [];
  for (const f of frames) {
    end += f.storedLength;
    if (end > size) break;
    out.push(f);
  }
  return out;
}

function allIds(frames: readonly FrameEntry[]): Uint8Array {
  return Buffer.concat(frames.map((f) => f.ids));
}

/** The pack's description from an index object: a second pass over the index, for the rare pack whose header is damaged. */
async function describeFromIndex(repo: Repository, packId: string): Promise<IndexedPack | undefined> {
  let found: IndexedPack | undefined;
  await forEachIndexObject(
    repo,
    (packs) => {
      found ??= packs.find((p) => p.packId === packId);
    },
    METADATA_READS_IN_FLIGHT,
    () => {},
  );
  return found;
}
