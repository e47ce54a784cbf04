/**
 * Loads manifest nodes (map blobs) by id. Nodes written by one archive sit together in map
 * frames, so the last few decoded frames are kept: a sequential walk decodes each frame once.
 */
import type { BlobIndex } from '../content/blob-index.js';
import type { MasterKeys } from '../format/master-keys.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { CodecPool } from '../parallel/codec-pool.js';
import { CorruptDataError, NotFoundError } from '../errors.js';
import { blobId, toHex } from '../format/ids.js';
import { decodeFrames, frameError } from '../content/frame-decoder.js';

/** Decoded map frames kept (256 KiB each at most): a walk moves forward, a few suffice. */
const CACHED_FRAMES = 8;

/**
 * What nodes are read through: the engine's Repository is one. Named here, by the parts the
 * loader reads, because manifest/ sits below engine/ and may not import it.
 */
export interface NodeRepository {
  readonly store: BlobStore;
  readonly keys: Pick<MasterKeys, 'id'>;
  /** The index nodes are looked up in unless the caller passes another. */
  readonly index: BlobIndex;
}

/**
 * `missing` says what a node absent from the loaded index is: corruption for readers of the
 * whole repository, merely unavailable (NotFoundError) for an archive, whose index leaves out
 * packs that prune has condemned.
 */
export function createNodeLoader(
  repo: NodeRepository,
  pool: CodecPool,
  missing: 'corrupt' | 'unavailable' = 'corrupt',
  index: BlobIndex = repo.index,
  /** Makes a node missing from `index` findable there if it can (a snapshot-scoped index). */
  ensure?: (ids: Uint8Array, offset: number) => Promise<boolean>,
): (id: Uint8Array) => Promise<Uint8Array> {
  const frames = new Map<number, Uint8Array>();
  return async (id) => {
    let loc = index.lookup(id);
    if (!loc && ensure && (await ensure(id, 0))) loc = index.lookup(id);
    if (!loc && missing === 'unavailable') throw new NotFoundError(`manifest node ${toHex(id)} is not in this index view`);
    if (!loc) throw new CorruptDataError(`manifest node ${toHex(id)} is missing from the index`, { blobId: toHex(id) });
    let raw = frames.get(loc.frameNo);
    if (!raw) {
      const ref = { frameNo: loc.frameNo, frame: loc.frame };
      const decoded = await decodeFrames(repo.store, pool, new Map([[loc.frameNo, { ref, spans: [loc.offset, loc.length], ids: [id] }]]));
      const failure = decoded.failures[0];
      if (failure) throw frameError(failure, { blobId: toHex(id) });
      raw = decoded.raw.get(loc.frameNo)!;
      if (frames.size >= CACHED_FRAMES) frames.delete(frames.keys().next().value!);
      frames.set(loc.frameNo, raw);
    }
    const node = raw.subarray(loc.offset, loc.offset + loc.length);
    // Nodes read from a cached frame were not part of that frame's check: check them here.
    if (!blobId(repo.keys.id, node).equals(id)) throw new CorruptDataError(`manifest node ${toHex(id)} does not match its id`, { blobId: toHex(id) });
    return node;
  };
}
