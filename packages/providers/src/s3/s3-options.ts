/**
 * S3 store options: parsed once, at the edge, from an `s3://bucket/prefix` URL and an env map the
 * caller passes in (this module never reads process.env). Credentials found in that map are used
 * as static credentials, the same first step as the SDK's own chain; otherwise the SDK's default
 * chain (profiles, SSO, web identity, ECS, IMDS) finds them. They are never logged.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { InvalidInputError } from '@snapfleet/shared';
import { validateBlobKey } from '../blob-key.js';
import { S3Credentials } from './s3-credentials.js';

/**
 * When the SDK adds and checks CRC checksums. `when-supported` (the SDK default) suits AWS;
 * s3rver and many MinIO-style servers need `when-required`: with the default, a streamed body is
 * sent aws-chunked and such servers store the chunk framing as data (silent corruption).
 */
export type S3ChecksumMode = 'when-required' | 'when-supported';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix of the repository inside the bucket: '' or ending in '/'. */
  prefix: string;
  /** A custom endpoint (s3rver, MinIO, Ceph); undefined means AWS. */
  endpoint?: string;
  /** Undefined lets the SDK's chain decide (AWS_REGION, profile). */
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`). @defaultValue true with a custom endpoint, else false */
  forcePathStyle: boolean;
  /** @defaultValue 'when-required' with a custom endpoint, else 'when-supported' */
  checksum: S3ChecksumMode;
  /** Objects larger than this go up as multipart uploads. @defaultValue 16 MiB */
  multipartThresholdBytes: number;
  /** @defaultValue 8 MiB */
  partSizeBytes: number;
  /** Parts in flight per multipart upload. @defaultValue 4 */
  uploadConcurrency: number;
  /** Undefined: the SDK's default credential chain. */
  credentials?: S3Credentials;
  /**
   * Attempts per request, the first included, by the SDK's retry strategy (AWS_MAX_ATTEMPTS), and
   * the store's own attempts at a GET whose body breaks off (which the SDK does not retry).
   * @defaultValue 6 (DEFAULT_MAX_ATTEMPTS)
   */
  maxAttempts?: number;
}

const MiB = 1024 * 1024;
/**
 * 16 MiB: below it one PutObject is a single request and a retry resends at most 16 MiB; above it
 * parts upload in parallel and a failure resends one part only.
 */
export const DEFAULT_MULTIPART_THRESHOLD = 16 * MiB;
/**
 * 8 MiB parts: above S3's 5 MiB minimum, 4 in flight hold 32 MiB, and S3's 10,000-part limit
 * still allows 78 GiB objects, far beyond a pack (tens of MiB).
 */
export const DEFAULT_PART_SIZE = 8 * MiB;
/** The SDK's own default for lib-storage Upload. */
export const DEFAULT_UPLOAD_CONCURRENCY = 4;
/**
 * Six attempts per request where the SDK's default is three. Measured through the fault proxy
 * (the 10% scenario of test/e2e/fault-proxy.test.ts run at 30% faults, ~400 requests): with
 * three, 3 runs of 3 failed, each in its first archive (a pack put that failed three times), and
 * one lost request fails a whole archive or prune; with six, 4 runs of 4 passed. At 10% faults six
 * leave about one request in a million failing every attempt. The SDK's backoff (full jitter)
 * waits up to 50 ms x 2^n (n = 0..4) after a 5xx or a reset, 1.55 s in all, and up to
 * 1 s x 2^n after a SlowDown, 31 s in all. Its retry quota (500 tokens per client; a retry costs
 * 5 after a SlowDown and 14 after anything else, a success gives back 1 or what its retry cost)
 * runs dry after about 35 failed retries without a success (100 of SlowDowns), after which
 * requests are not retried at all: an outage still fails fast.
 */
export const DEFAULT_MAX_ATTEMPTS = 6;
/** More would only prolong an outage: the quota above stops the retries long before. */
const MAX_ATTEMPTS_LIMIT = 20;
/** S3's minimum size for every part but the last. */
const MIN_PART_SIZE = 5 * MiB;
/** S3's maximum part size (5 GiB). */
const MAX_PART_SIZE = 5 * 1024 * MiB;
/** Bucket names: 3-63 characters of lowercase letters, digits, dots and dashes (legacy: up to 255, more characters). */
const BUCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/;
/** A TCP connect slower than this is a network fault, not a slow server. */
const CONNECTION_TIMEOUT_MS = 10_000;
/** A socket idle this long mid-request is dead; transfers of any size keep sockets busy. */
const SOCKET_IDLE_TIMEOUT_MS = 120_000;

/** Splits `s3://bucket/some/prefix` into the bucket and a normalized prefix (`some/prefix/`). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/?#]*)(?:\/([^?#]*))?$/.exec(url);
  if (match === null) throw new InvalidInputError('repository URL must look like s3://bucket/prefix (no query or fragment)', 'repo');
  const host = match[1] ?? '';
  // Never echo the URL here: `s3://key:secret@bucket` would put the secret in a log line.
  if (host.includes('@')) throw new InvalidInputError('credentials in the repository URL are not supported: use the AWS credential chain', 'repo');
  if (!BUCKET_NAME.test(host)) throw new InvalidInputError(`invalid bucket name ${JSON.stringify(host)} in the repository URL`, 'repo');
  const path = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (path !== '') {
    try {
      validateBlobKey(path);
    } catch {
      throw new InvalidInputError(`invalid prefix ${JSON.stringify(path)} in the repository URL`, 'repo');
    }
  }
  return { bucket: host, prefix: path === '' ? '' : `${path}/` };
}

/**
 * Options from the repository URL and an env map: AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL),
 * AWS_REGION (or AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, AWS_MAX_ATTEMPTS, and SNAPFLEET_S3_CHECKSUM, SNAPFLEET_S3_FORCE_PATH_STYLE,
 * SNAPFLEET_S3_MULTIPART_THRESHOLD, SNAPFLEET_S3_PART_SIZE (bytes, or with a KiB/MiB/GiB suffix).
 */
export function s3OptionsFromEnv(repoUrl: string, env: Record<string, string | undefined>): S3StoreOptions {
  const { bucket, prefix } = parseS3Url(repoUrl);
  const endpoint = parseEndpoint(nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL));
  const custom = endpoint !== undefined;
  const options: S3StoreOptions = {
    bucket,
    prefix,
    forcePathStyle: parseBoolean(env.SNAPFLEET_S3_FORCE_PATH_STYLE, 'SNAPFLEET_S3_FORCE_PATH_STYLE') ?? custom,
    checksum: parseChecksum(env.SNAPFLEET_S3_CHECKSUM) ?? (custom ? 'when-required' : 'when-supported'),
    multipartThresholdBytes: parseBytes(env.SNAPFLEET_S3_MULTIPART_THRESHOLD, 'SNAPFLEET_S3_MULTIPART_THRESHOLD') ?? DEFAULT_MULTIPART_THRESHOLD,
    partSizeBytes: parseBytes(env.SNAPFLEET_S3_PART_SIZE, 'SNAPFLEET_S3_PART_SIZE') ?? DEFAULT_PART_SIZE,
    uploadConcurrency: DEFAULT_UPLOAD_CONCURRENCY,
  };
  if (endpoint !== undefined) options.endpoint = endpoint;
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? (custom ? 'us-east-1' : undefined);
  if (region !== undefined) options.region = region;
  const maxAttempts = parseMaxAttempts(env.AWS_MAX_ATTEMPTS);
  if (maxAttempts !== undefined) options.maxAttempts = maxAttempts;
  const credentials = credentialsFromEnv(env);
  if (credentials !== undefined) options.credentials = credentials;
  validateS3Options(options);
  return options;
}

export function validateS3Options(options: S3StoreOptions): void {
  const { partSizeBytes, multipartThresholdBytes, uploadConcurrency } = options;
  if (!Number.isSafeInteger(partSizeBytes) || partSizeBytes < MIN_PART_SIZE || partSizeBytes > MAX_PART_SIZE) {
    throw new InvalidInputError(`part size ${partSizeBytes} must be between 5 MiB and 5 GiB (S3 limits)`, 'partSizeBytes');
  }
  if (!Number.isSafeInteger(multipartThresholdBytes) || multipartThresholdBytes < partSizeBytes) {
    throw new InvalidInputError(`multipart threshold ${multipartThresholdBytes} must be at least the part size ${partSizeBytes}`, 'multipartThresholdBytes');
  }
  if (!Number.isSafeInteger(uploadConcurrency) || uploadConcurrency < 1) {
    throw new InvalidInputError(`upload concurrency ${uploadConcurrency} must be a positive integer`, 'uploadConcurrency');
  }
  const { maxAttempts } = options;
  if (maxAttempts !== undefined && (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT)) {
    throw new InvalidInputError(`max attempts ${maxAttempts} must be a whole number from 1 to ${MAX_ATTEMPTS_LIMIT}`, 'AWS_MAX_ATTEMPTS');
  }
}

/** The S3Client configuration these options stand for. */
export function s3ClientConfig(options: S3StoreOptions): S3ClientConfig {
  const checksum = options.checksum === 'when-required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  return {
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials.toSdk() } : {}),
    forcePathStyle: options.forcePathStyle,
    requestChecksumCalculation: checksum,
    responseChecksumValidation: checksum,
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, socketTimeout: SOCKET_IDLE_TIMEOUT_MS },
    // Given explicitly, this replaces the SDK's own reading of AWS_MAX_ATTEMPTS (parsed above from
    // the env map instead) and of a profile's max_attempts. The retry mode stays the SDK's
    // (standard, or AWS_RETRY_MODE).
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
  };
}

function credentialsFromEnv(env: Record<string, string | undefined>): S3Credentials | undefined {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new InvalidInputError('set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither', 'AWS_ACCESS_KEY_ID');
  }
  return new S3Credentials(accessKeyId, secretAccessKey, nonEmpty(env.AWS_SESSION_TOKEN));
}

function parseMaxAttempts(value: string | undefined): number | undefined {
  const v = nonEmpty(value);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new InvalidInputError(`AWS_MAX_ATTEMPTS must be a whole number, not ${JSON.stringify(value)}`, 'AWS_MAX_ATTEMPTS');
  return Number(v);
}

function parseEndpoint(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError('the S3 endpoint is not a valid URL', 'AWS_ENDPOINT_URL_S3');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInputError('the S3 endpoint must be http(s)', 'AWS_ENDPOINT_URL_S3');
  if (url.username || url.password) throw new InvalidInputError('the S3 endpoint must not contain credentials', 'AWS_ENDPOINT_URL_S3');
  return value.replace(/\/+$/, '');
}

function parseChecksum(value: string | undefined): S3ChecksumMode | undefined {
  const v = nonEmpty(value)?.toLowerCase();
  if (v === undefined) return undefined;
  if (v === 'when-required' || v === 'when-supported') return v;
  throw new InvalidInputError(`SNAPFLEET_S3_CHECKSUM must be when-required or when-supported, not ${JSON.stringify(value)}`, 'SNAPFLEET_S3_CHECKSUM');
}

function parseBoolean(value: string | undefined, field: string): boolean | undefined {
  const v = nonEmpty(value)?.toLowerCase();
  if (v === undefined) return undefined;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new InvalidInputError(`${field} must be true or false, not ${JSON.stringify(value)}`, field);
}

const UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB };

function parseBytes(value: string | undefined, field: string): number | undefined {
  const v = nonEmpty(value);
  if (v === undefined) return undefined;
  const match = /^(\d+)\s*(KiB|MiB|GiB)?$/.exec(v);
  if (match === null) throw new InvalidInputError(`${field} must be a byte count such as 8388608 or 8MiB, not ${JSON.stringify(value)}`, field);
  return Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
