/**
 * @snapfleet/providers: the adapters behind the engine's ports (the only package that touches
 * node:fs and the AWS SDK), and openBlobStore, which picks a store from a repository URL. The AWS
 * provider is the separate entry `@snapfleet/providers/aws`: its SDK clients are large, and only
 * processes that call AWS should load them.
 */
import { InvalidInputError, type BlobStore } from '@snapfleet/shared';
import { fileURLToPath } from 'node:url';
import { FolderBlobStore } from './local/folder-blob-store.js';
import { S3BlobStore } from './s3/s3-blob-store.js';

export { validateBlobKey, validateListPrefix } from './blob-key.js';
export { FolderBlobStore } from './local/folder-blob-store.js';
export { LocalVolumeSource, DEFAULT_LOCAL_BLOCK_SIZE, type LocalVolumeSourceOptions } from './local/local-volume-source.js';
export { LocalVolumeTarget } from './local/local-volume-target.js';
export { LocalVolumeProvider, type LocalVolumeSpec } from './local/local-volume-provider.js';
export { localProcessIdentity } from './local/local-process-identity.js';
export { translateFsError } from './local/fs-errors.js';
export { S3BlobStore } from './s3/s3-blob-store.js';
export { classifyS3Error, type S3ErrorContext } from './s3/s3-errors.js';
export { S3Credentials } from './s3/s3-credentials.js';
export {
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_PART_SIZE,
  DEFAULT_UPLOAD_CONCURRENCY,
  parseS3Url,
  s3ClientConfig,
  s3OptionsFromEnv,
  validateS3Options,
  type S3ChecksumMode,
  type S3StoreOptions,
} from './s3/s3-options.js';

/**
 * The store a repository URL names: `s3://bucket/prefix` is an S3 bucket (configured from `env`),
 * `file:///path` or a plain path is a local folder. Other schemes are rejected.
 */
export function openBlobStore(repoUrl: string, env: Record<string, string | undefined>): BlobStore {
  if (repoUrl.startsWith('s3://')) return S3BlobStore.fromEnv(repoUrl, env);
  if (repoUrl.startsWith('file://')) {
    let path: string;
    try {
      path = fileURLToPath(repoUrl);
    } catch {
      throw new InvalidInputError('file:// repository URL must be an absolute local path (file:///srv/backups)', 'repo');
    }
    return new FolderBlobStore(path);
  }
  // Other URL schemes (`gs://`, `http://`) are not folder names: refuse rather than mkdir them.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repoUrl)) {
    const scheme = repoUrl.slice(0, repoUrl.indexOf(':'));
    throw new InvalidInputError(`unsupported repository scheme ${scheme}: use a folder path, file:// or s3://`, 'repo');
  }
  return new FolderBlobStore(repoUrl);
}
export { createMemoryRateLimiter, createRedisRateLimiter, type RateLimitOptions, type RedisRateLimitOptions } from './limits/index.js';
