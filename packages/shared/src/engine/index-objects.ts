/**
 * Reading and writing index objects as a set. An index object describes one pack (as archives
 * write it, named after the pack) or many (as compaction writes it, under a random name); a
 * pack may be listed by several objects at once, and readers take each pack once.
 *
 * Objects vanish while they are read: compaction deletes the objects it merged (after storing
 * the merged one) and prune deletes or rewrites the objects of packs it deletes. A reader that
 * finds an object gone lists again and reads what is new: whatever the vanished object held
 * that still exists was stored under another name before it was deleted.
 */
import { randomBytes } from 'node:crypto';
import type { BlobStore, ObjectInfo } from '../ports/blob-store.js';
import type { MasterKeys } from '../format/master-keys.js';
import { CorruptDataError, NotFoundError, PermanentError, TransientError } from '../errors.js';
import { decodeEnvelope, encodeEnvelope } from '../format/envelope.js';
import { INDEX_PREFIX, idFromKey, indexKey } from '../format/layout.js';
import { decodeIndexPayload, encodeIndexPayload, type IndexedPack } from '../format/index-object.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';

/**
 * Listings retried after objects vanished mid-read. Each retry needs a compaction or prune to
 * finish a step between a listing and the reads that follow it; five in a row means the
 * store is not behaving as a store should.
 */
const MAX_RELISTS = 5;

export interface IndexObjectSource {
  readonly store: BlobStore;
  readonly keys: MasterKeys;
}

/** The index objects the store lists now (foreign keys left out). */
export async function listIndexObjects(repo: IndexObjectSource): Promise<ObjectInfo[]> {
  return (await collect(repo.store.list(INDEX_PREFIX))).filter((o) => idFromKey(o.key) !== undefined);
}

/** One index object's packs, or undefined when it is gone. */
export async function readIndexObject(repo: IndexObjectSource, key: string): Promise<IndexedPack[] | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await repo.store.get(key);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  try {
    return decodeIndexPayload(decodeEnvelope(bytes, repo.keys.enc, key), key);
  } catch (err) {
    if (!(err instanceof CorruptDataError)) throw err;
    throw new CorruptDataError(
      `index object ${key} is damaged (${err.message}); \`snapfleet repair index\` rebuilds it from the packs' own headers`,
      { object: key },
      { cause: err },
    );
  }
}

/** Stores an index object describing `packs` under a new random name; returns its key. */
export async function writeIndexObject(repo: IndexObjectSource, packs: readonly IndexedPack[]): Promise<string> {
  const key = indexKey(randomBytes(32).toString('hex'));
  await repo.store.put(key, encodeEnvelope(encodeIndexPayload(packs), repo.keys.enc));
  return key;
}

/**
 * The listing rounds of a full read: each yields the index objects not read yet (`done`); the
 * caller reads them, adding what it read to `done` and counting in `vanished()` what was gone.
 * Another round follows only when something vanished.
 */
async function* unreadObjects(repo: IndexObjectSource, done: ReadonlySet<string>, vanished: () => number): AsyncGenerator<string[]> {
  for (let round = 0; ; round++) {
    const before = vanished();
    yield (await listIndexObjects(repo)).map((o) => o.key).filter((k) => !done.has(k));
    if (vanished() === before) return;
    if (round >= MAX_RELISTS) {
      throw new TransientError(`index objects of ${repo.store.location} kept vanishing while being read (a compaction or prune is running); try again`);
    }
  }
}

/**
 * Calls `visit` once for every index object, `concurrency` reads at a time, listing again when
 * objects vanished under it. Objects are visited in no particular order.
 */
export async function forEachIndexObject(
  repo: IndexObjectSource,
  visit: (packs: IndexedPack[], key: string) => void | Promise<void>,
  concurrency = METADATA_READS_IN_FLIGHT,
  /**
   * Given, an object that does not decode is handed to it and skipped; else the read fails.
   * Junk reads as damage or as an envelope of a newer version: either way this release cannot
   * use it.
   */
  onDamaged?: (key: string, err: CorruptDataError | PermanentError) => void,
): Promise<void> {
  const done = new Set<string>();
  let vanished = 0;
  for await (const keys of unreadObjects(repo, done, () => vanished)) {
    await mapLimit(keys, concurrency, async (key) => {
      let packs;
      try {
        packs = await readIndexObject(repo, key);
      } catch (err) {
        if (!onDamaged || !(err instanceof CorruptDataError || err instanceof PermanentError)) throw err;
        done.add(key);
        onDamaged(key, err);
        return;
      }
      if (!packs) {
        vanished++;
        return;
      }
      done.add(key);
      await visit(packs, key);
    });
  }
}

/**
 * Every indexed pack once, one index object in memory at a time, listing again when objects
 * vanished under it.
 */
export async function* eachIndexedPack(repo: IndexObjectSource): AsyncGenerator<IndexedPack> {
  const done = new Set<string>();
  const seen = new Set<string>();
  let vanished = 0;
  for await (const keys of unreadObjects(repo, done, () => vanished)) {
    for (const key of keys) {
      const packs = await readIndexObject(repo, key);
      if (!packs) {
        vanished++;
        continue;
      }
      done.add(key);
      for (const p of packs) {
        if (seen.has(p.packId)) continue;
        seen.add(p.packId);
        yield p;
      }
    }
  }
}
