/**
 * @snapfleet/providers: the adapters behind the engine's ports (the only package that touches
 * node:fs and the AWS SDK, and the one that starts the codec threads, codec/), and
 * openBlobStore, which picks a store from a repository URL. The S3 store and the AWS provider
 * are the separate entries `@snapfleet/providers/s3` and
 * `@snapfleet/providers/aws`: their SDK clients are large, and only processes that use them
 * should load them. What only the fleet needs (the local volume provider with its config
 * schema, the rate limiters) is `@snapfleet/providers/fleet`, so that a CLI archive or restore
 * does not load it (about 50 ms a start). openBlobStore puts the host's index cache
 * (caching/) in front of remote stores.
 */
import { InvalidInputError, type BlobStore } from '@snapfleet/shared';
import { fileURLToPath } from 'node:url';
import { FolderBlobStore } from './local/folder-blob-store.js';
import { CachingBlobStore } from './caching/caching-blob-store.js';
import { cacheRootFromEnv, storeCacheDir } from './caching/caching-options.js';
import { HostIndexTable } from './caching/index-table/index.js';

export { validateBlobKey, validateListPrefix } from './blob-key.js';
export { FolderBlobStore } from './local/folder-blob-store.js';
export { CACHE_DIR_ENV, CACHE_OFF, CachingBlobStore, DEFAULT_CACHED_PREFIXES, cacheRootFromEnv, storeCacheDir, type CachingOptions } from './caching/index.js';
export { HostIndexTable, DEFAULT_BUILD_RECORDS, DEFAULT_MAX_DISK_RUNS, RunReader, RunWriter, type HostIndexTableOptions } from './caching/index-table/index.js';
export { LocalVolumeSource, DEFAULT_LOCAL_BLOCK_SIZE, type LocalVolumeSourceOptions } from './local/local-volume-source.js';
export { LocalVolumeTarget } from './local/local-volume-target.js';
export { localScratchFile, localScratchFiles } from './local/local-scratch-file.js';
export { openDrillDevice, type DrillDeviceRequest } from './local/local-drill-device.js';
export { localProcessIdentity } from './local/local-process-identity.js';
export { translateFsError } from './local/fs-errors.js';
export { createThreadCodecPool, defaultThreadCount, startCodecThreads } from './codec/thread-codec-pool.js';

export interface OpenBlobStoreOptions {
  /**
   * Whether to put the host's index cache in front of the store (when `env` gives it a place,
   * see cacheRootFromEnv). By default only remote stores get it: a folder store reads its index
   * objects from local files already.
   * @defaultValue true for S3, false for folders
   */
  cache?: boolean;
  /** Where the cache's warnings go (a damaged cache file, an unusable cache folder). */
  onWarning?: (message: string) => void;
}

/**
 * The store a repository URL names: `s3://bucket/prefix` is an S3 bucket (configured from `env`),
 * `file:///path` or a plain path is a local folder. Other schemes are rejected.
 */
export async function openBlobStore(
  repoUrl: string,
  env: Readonly<Record<string, string | undefined>>,
  options: OpenBlobStoreOptions = {},
): Promise<BlobStore> {
  const store = await openUncached(repoUrl, env);
  const root = (options.cache ?? !(store instanceof FolderBlobStore)) ? cacheRootFromEnv(env) : undefined;
  if (root === undefined) return store;
  return new CachingBlobStore(store, { dir: storeCacheDir(root, store.location), ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
}

async function openUncached(repoUrl: string, env: Readonly<Record<string, string | undefined>>): Promise<BlobStore> {
  if (repoUrl.startsWith('s3://')) return (await import('./s3/index.js')).S3BlobStore.fromEnv(repoUrl, env);
  if (repoUrl.startsWith('file://')) {
    let path: string;
    try {
      path = fileURLToPath(repoUrl);
    } catch {
      throw new InvalidInputError('file:// repository URL must be an absolute local path (file:///srv/backups)', 'repo');
    }
    return new FolderBlobStore(path, folderOptions(env));
  }
  // Other URL schemes (`gs://`, `http://`) are not folder names: refuse rather than mkdir them.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repoUrl)) {
    const scheme = repoUrl.slice(0, repoUrl.indexOf(':'));
    throw new InvalidInputError(`unsupported repository scheme ${scheme}: use a folder path, file:// or s3://`, 'repo');
  }
  return new FolderBlobStore(repoUrl, folderOptions(env));
}

function folderOptions(env: Readonly<Record<string, string | undefined>>): { directIo?: boolean } {
  const directIo = directIoFromEnv(env);
  return directIo === undefined ? {} : { directIo };
}

/**
 * SNAPFLEET_DIRECT_IO: `1` writes packs of a folder repository and restored volumes with
 * O_DIRECT, `0` through the page cache; unset, packs and restores to files go through the page
 * cache and restores to block devices direct.
 */
export function directIoFromEnv(env: Readonly<Record<string, string | undefined>>): boolean | undefined {
  const v = env.SNAPFLEET_DIRECT_IO;
  if (v === undefined || v === '') return undefined;
  if (v === '1') return true;
  if (v === '0') return false;
  throw new InvalidInputError(`SNAPFLEET_DIRECT_IO must be 1 or 0, not "${v}"`, 'SNAPFLEET_DIRECT_IO');
}

/**
 * The host index table for a store (caching/index-table), in the store's folder of the host's
 * cache root: archives look blobs up there instead of loading the repository's index. Every
 * store gets one, a folder store too; undefined when `env` gives the cache no place (or `off`).
 */
export function hostIndexTableFor(
  store: BlobStore,
  env: Readonly<Record<string, string | undefined>>,
  options: { onWarning?: (message: string) => void } = {},
): HostIndexTable | undefined {
  const root = cacheRootFromEnv(env);
  if (root === undefined) return undefined;
  return new HostIndexTable({ dir: storeCacheDir(root, store.location), ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
}
