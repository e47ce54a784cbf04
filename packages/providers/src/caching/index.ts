/**
 * The host-local cache of immutable objects (index objects) in front of a BlobStore, and where a
 * host keeps it. docs/operations.md, "The index cache", is the operator's side of it.
 */
export { CachingBlobStore } from './caching-blob-store.js';
export { CACHE_DIR_ENV, CACHE_OFF, DEFAULT_CACHED_PREFIXES, cacheRootFromEnv, storeCacheDir, type CachingOptions } from './caching-options.js';
