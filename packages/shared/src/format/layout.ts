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

export function pruneMarkerKey(id: string): string {
  return `${PRUNE_PREFIX}${id}`;
}

export function snapshotKey(id: string): string {
  return `${SNAPSHOTS_PREFIX}${id}`;
}

/** The id at the end of a data/, index/ or snapshots/ key, or undefined for foreign objects. */
export function idFromKey(key: string): string | undefined {
  const id = key.slice(key.lastIndexOf('/') + 1);
  return HEX_ID.test(id) ? id : undefined;
}
