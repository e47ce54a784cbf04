/**
 * @snapfleet/providers/s3: the S3 BlobStore. A separate entry because the S3 SDK costs every
 * process that imports it about 20 MiB and a fifth of a second; openBlobStore loads it only for
 * `s3://` repositories.
 */
export { S3BlobStore } from './s3-blob-store.js';
export { classifyS3Error, type S3ErrorContext } from './s3-errors.js';
export { S3Credentials } from './s3-credentials.js';
export {
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_PART_SIZE,
  DEFAULT_UPLOAD_CONCURRENCY,
  parseS3Url,
  s3ClientConfig,
  s3OptionsFromEnv,
  validateS3Options,
  type S3ChecksumMode,
  type S3StoreOptions,
} from './s3-options.js';
