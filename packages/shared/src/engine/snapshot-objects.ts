/**
 * Reading snapshot objects as a set. A snapshot lives at `snapshots/<volume key>/<id>` (format 2)
 * or at the flat `snapshots/<id>` (format 1). A repository that `migrate` is upgrading, or that a
 * killed migrate left half-upgraded, holds both forms, one id possibly under both keys at once:
 * readers list both and take each id once (docs/format.md, "Snapshot").
 *
 * Objects vanish while they are read: forget deletes them, and migrate deletes a flat key once
 * the same bytes are stored under the volume key. A reader that finds every flat key of an id
 * gone lists once more and reads that id under the keys found then, so a snapshot being moved is
 * never missed.
 */
import type { BlobStore } from '../ports/blob-store.js';
import type { MasterKeys } from '../format/master-keys.js';
import { CorruptDataError, NotFoundError } from '../errors.js';
import { decodeEnvelope } from '../format/envelope.js';
import { parseSnapshotKey, type SnapshotKey } from '../format/layout.js';
import { decodeSnapshot, type Snapshot, type SnapshotEntry } from '../format/snapshot.js';
import { collect, mapLimit, METADATA_READS_IN_FLIGHT } from '../content/map-limit.js';

export interface SnapshotObjectSource {
  readonly store: BlobStore;
  readonly keys: MasterKeys;
}

export interface SnapshotListOptions {
  /** A damaged object is an error instead of being reported and left out. */
  strict?: boolean;
  onDamaged?: (id: string, err: CorruptDataError) => void;
  /**
   * Only ids that start with this are read (the others are left out by their keys alone): looking
   * a snapshot up by id or prefix reads one object, not every snapshot in scope.
   */
  idPrefix?: string;
}

/** Which ids to read, judged by the keys each is stored under (before any object is read). */
export type SnapshotKeyFilter = (keys: readonly SnapshotKey[]) => boolean;

/** The snapshot keys under `prefix`, by id; an id's per-volume key comes before a flat one. */
export async function listSnapshotKeys(store: BlobStore, prefix: string): Promise<Map<string, SnapshotKey[]>> {
  const byId = new Map<string, SnapshotKey[]>();
  for (const o of await collect(store.list(prefix))) {
    const parsed = parseSnapshotKey(o.key);
    if (!parsed) continue;
    const keys = byId.get(parsed.id);
    if (!keys) byId.set(parsed.id, [parsed]);
    else if (parsed.volumeKey === undefined) keys.push(parsed);
    else keys.unshift(parsed);
  }
  return byId;
}

/** Reads and checks the snapshot object at `key` (NotFoundError when it is gone). */
export async function readSnapshotAt(src: SnapshotObjectSource, key: string, id: string): Promise<Snapshot> {
  return decodeSnapshot(decodeEnvelope(await src.store.get(key), src.keys.enc, key), id, key);
}

/**
 * Every readable snapshot under `prefix` whose keys pass `filter`, each id once, oldest first (by
 * time, then id, for a stable order). A damaged object is passed to `onDamaged` and left out, so
 * one bad object never hides the others; with `strict` it is an error instead.
 */
export async function readSnapshots(
  src: SnapshotObjectSource,
  prefix: string,
  options: SnapshotListOptions = {},
  filter: SnapshotKeyFilter = () => true,
): Promise<SnapshotEntry[]> {
  const wanted = (id: string, keys: readonly SnapshotKey[]) => (options.idPrefix === undefined || id.startsWith(options.idPrefix)) && filter(keys);
  const listed = [...(await listSnapshotKeys(src.store, prefix))].filter(([id, keys]) => wanted(id, keys));
  const { entries, lost } = await readListed(src, listed, options);
  if (lost.length > 0) {
    // Gone from every flat key: forgotten, or moved by migrate (which stores the per-volume
    // copy before it deletes the flat one). A listing taken now shows the moved ones.
    const relisted = await listSnapshotKeys(src.store, prefix);
    const again: [string, SnapshotKey[]][] = [];
    for (const [id, tried] of lost) {
      const fresh = (relisted.get(id) ?? []).filter((k) => !tried.some((t) => t.key === k.key));
      if (fresh.length > 0 && wanted(id, fresh)) again.push([id, fresh]);
    }
    entries.push(...(await readListed(src, again, options)).entries);
  }
  return entries.sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id));
}

interface ReadOutcome {
  entries: SnapshotEntry[];
  /** Ids stored only under flat keys, all of which were gone when read. */
  lost: [string, SnapshotKey[]][];
}

async function readListed(src: SnapshotObjectSource, listed: [string, SnapshotKey[]][], options: SnapshotListOptions): Promise<ReadOutcome> {
  const outcome: ReadOutcome = { entries: [], lost: [] };
  await mapLimit(listed, METADATA_READS_IN_FLIGHT, async ([id, keys]) => {
    for (const { key } of keys) {
      try {
        outcome.entries.push({ id, key, snapshot: await readSnapshotAt(src, key, id) });
        return;
      } catch (err) {
        if (err instanceof NotFoundError) continue;
        if (options.strict || !(err instanceof CorruptDataError)) throw err;
        options.onDamaged?.(id, err);
        return;
      }
    }
    if (keys.every((k) => k.volumeKey === undefined)) outcome.lost.push([id, keys]);
  });
  return outcome;
}
