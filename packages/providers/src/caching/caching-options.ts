/**
 * What a CachingBlobStore is given, and where a host keeps its cache by default. The default is
 * resolved from an environment map handed in by a composition root, never from process.env.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';

export interface CachingOptions {
  /**
   * This store's cache folder; created on the first write, recreated when removed. Several
   * processes on a host may share it (they should, that is its point).
   */
  dir: string;
  /**
   * Key prefixes whose objects are cached. Every object under them MUST be immutable and
   * uniquely named, as index objects are (docs/format.md, "Object layout"): a cached copy is
   * served without asking the store whether it changed.
   * @defaultValue DEFAULT_CACHED_PREFIXES
   */
  prefixes?: readonly string[];
  /** Receives a message when a cache file was damaged, or when the cache cannot be used. */
  onWarning?: (message: string) => void;
}

/** Index objects: every archive, restore and verify reads all of them. */
export const DEFAULT_CACHED_PREFIXES: readonly string[] = ['index/'];

/** The variable that names the cache root; `off` turns the cache off. */
export const CACHE_DIR_ENV = 'SNAPFLEET_CACHE_DIR';
export const CACHE_OFF = 'off';

/**
 * Hex digits of the SHA-256 of a store's location that name its folder: 64 bits, so two stores
 * on one host never share a folder by accident, in a name short enough to read.
 */
const STORE_FOLDER_HEX = 16;

/**
 * The host's cache root from `env`: SNAPFLEET_CACHE_DIR (`off`: no cache), else
 * $XDG_CACHE_HOME/snapfleet, else $HOME/.cache/snapfleet; undefined when there is none.
 */
export function cacheRootFromEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const explicit = env[CACHE_DIR_ENV];
  if (explicit) return explicit === CACHE_OFF ? undefined : resolve(explicit);
  // The XDG base directory specification says to ignore a relative XDG_CACHE_HOME.
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'snapfleet');
  const home = env.HOME;
  if (home && isAbsolute(home)) return join(home, '.cache', 'snapfleet');
  return undefined;
}

/** The folder of one store inside the cache root, named after the store's location. */
export function storeCacheDir(root: string, location: string): string {
  return join(root, createHash('sha256').update(location).digest('hex').slice(0, STORE_FOLDER_HEX));
}
