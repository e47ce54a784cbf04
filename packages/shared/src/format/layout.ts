/**
 * Object keys inside a repository. Every key but `config` names its content (a hash) or is
 * random, so writers on many hosts never collide and never overwrite one another.
 */

export const CONFIG_KEY = 'config';
export const KEYS_PREFIX = 'keys/';
export const DATA_PREFIX = 'data/';
export const INDEX_PREFIX = 'index/';
export const SNAPSHOTS_PREFIX = 'snapshots/';
/** Leases of running archives, so that prune knows whom to wait for. */
export const LOCKS_PREFIX = 'locks/';
/** Deletion markers: packs prune has condemned and will delete once it is safe. */
export const PRUNE_PREFIX = 'prune/';
/** Damage records: packs found damaged, which archives must not deduplicate against. */
export const DAMAGED_PREFIX = 'damaged/';

const HEX_ID = /^[0-9a-f]{64}$/;

export function keyFileKey(id: string): string {
  return `${KEYS_PREFIX}${id}`;
}

/** Packs fan out over 256 folders so that a folder store's directories stay small. */
export function packKey(packId: string): string {
  return `${DATA_PREFIX}${packId.slice(0, 2)}/${packId}`;
}

export function indexKey(id: string): string {
  return `${INDEX_PREFIX}${id}`;
}

export function lockKey(id: string): string {
  return `${LOCKS_PREFIX}${id}`;
}

export function damageRecordKey(id: string): string {
  return `${DAMAGED_PREFIX}${id}`;
}

export function pruneMarkerKey(id: string): string {
  return `${PRUNE_PREFIX}${id}`;
}

/**
 * A snapshot object's key: `snapshots/<volume key>/<id>` (format 2), or the flat
 * `snapshots/<id>` of format 1 when no volume key is given.
 */
export function snapshotKey(id: string, volumeKey?: string): string {
  return volumeKey === undefined ? `${SNAPSHOTS_PREFIX}${id}` : `${volumeSnapshotsPrefix(volumeKey)}${id}`;
}

/** Where one volume's snapshot objects live (format 2). */
export function volumeSnapshotsPrefix(volumeKey: string): string {
  return `${SNAPSHOTS_PREFIX}${volumeKey}/`;
}

export interface SnapshotKey {
  key: string;
  id: string;
  /** The volume key of a per-volume key; undefined for a flat (format 1) key. */
  volumeKey: string | undefined;
}

const FLAT_SNAPSHOT_KEY = /^snapshots\/([0-9a-f]{64})$/;
const VOLUME_SNAPSHOT_KEY = /^snapshots\/([0-9a-f]{32})\/([0-9a-f]{64})$/;

/** Parses either form of snapshot key; undefined for anything else under snapshots/. */
export function parseSnapshotKey(key: string): SnapshotKey | undefined {
  const flat = FLAT_SNAPSHOT_KEY.exec(key);
  if (flat) return { key, id: flat[1]!, volumeKey: undefined };
  const perVolume = VOLUME_SNAPSHOT_KEY.exec(key);
  return perVolume ? { key, id: perVolume[2]!, volumeKey: perVolume[1]! } : undefined;
}

/** The id at the end of a data/, index/ or snapshots/ key, or undefined for foreign objects. */
export function idFromKey(key: string): string | undefined {
  const id = key.slice(key.lastIndexOf('/') + 1);
  return HEX_ID.test(id) ? id : undefined;
}
