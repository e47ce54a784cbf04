/**
 * Classifies AWS SDK and network errors into the engine's error classes at the S3 boundary, so
 * the worker can tell "retry with backoff" (throttled, transient) from "fail now" (permanent)
 * without knowing about S3. Messages name the operation and object, never credentials.
 */
import {
  InvalidInputError,
  isSnapfleetError,
  NotFoundError,
  NotRetrievedError,
  PermanentError,
  type SnapfleetError,
  ThrottledError,
  TransientError,
} from '@snapfleet/shared';
import { describeSdkError, NETWORK_ERROR_CODES, sdkErrorFields, sdkErrorSummary } from '../sdk-errors.js';

export { redact } from '../sdk-errors.js';

export interface S3ErrorContext {
  /** What we were doing: `get`, `put`, `list`… */
  op: string;
  /** The store's location (`s3://bucket/prefix`). */
  location: string;
  key?: string;
  /** Requests sent for this call when the store retried it itself (a body that broke off). */
  attempts?: number;
}

/** Error names S3 and other AWS services use for "slow down". */
const THROTTLING_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'ProvisionedThroughputExceededException',
]);
/**
 * Failures that pass with time. Expired tokens are here because the SDK's credential chain
 * refreshes them on the next attempt; clock-skew errors (RequestTimeTooSkewed) are corrected by
 * the SDK's retry as well.
 */
const TRANSIENT_NAMES = new Set([
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ExpiredToken',
  'ExpiredTokenException',
  'TokenRefreshRequired',
  'RequestTimeTooSkewed',
  'AbortError',
]);
const NOT_FOUND_NAMES = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);
/** HTTP 503 is S3's throttling status (SlowDown); 429 is everyone else's. */
const THROTTLING_STATUSES = new Set([429, 503]);
/** HTTP 416: the requested range starts past the end of the object. */
const RANGE_NOT_SATISFIABLE = 416;

export function classifyS3Error(err: unknown, context: S3ErrorContext): SnapfleetError {
  if (isSnapfleetError(err)) return err;
  const f = sdkErrorFields(err);
  const { name, code, status } = f;
  const where = context.key === undefined ? context.location : `${context.location} key ${context.key}`;
  // How often it was tried tells a reader that the retries ran out (and how many there were).
  const attempts = context.attempts ?? f.attempts;
  const tried = attempts !== undefined && attempts > 1 ? ` after ${attempts} attempts` : '';
  const message = `S3 ${context.op} ${where} failed${tried} (${describeSdkError(f)}): ${f.message}`;
  // A summary instead of the raw SDK error: the raw one carries request internals we do not want in logs.
  const cause = sdkErrorSummary(f);

  if (name === 'NoSuchBucket' || code === 'NoSuchBucket') {
    return new PermanentError(`S3 ${context.op}: bucket of ${context.location} does not exist`, { cause });
  }
  if (NOT_FOUND_NAMES.has(name) || NOT_FOUND_NAMES.has(code) || status === 404) return new NotFoundError(message, { cause });
  // A GET of an object in GLACIER or DEEP_ARCHIVE without a retrieved copy (403).
  if (name === 'InvalidObjectState' || code === 'InvalidObjectState') {
    return new NotRetrievedError(
      `S3 ${context.op} ${where}: the object is in an archive storage class and not retrieved; restore with --retrieve`,
      context.key ?? '',
      { cause },
    );
  }
  if (name === 'InvalidRange' || status === RANGE_NOT_SATISFIABLE) return new InvalidInputError(message, 'range', { cause });
  if (THROTTLING_NAMES.has(name) || THROTTLING_NAMES.has(code) || f.throttling || (status !== undefined && THROTTLING_STATUSES.has(status))) {
    return new ThrottledError(message, { cause });
  }
  if (TRANSIENT_NAMES.has(name) || TRANSIENT_NAMES.has(code) || NETWORK_ERROR_CODES.has(code) || (status !== undefined && status >= 500)) {
    return new TransientError(message, { cause });
  }
  if (name === 'CredentialsProviderError') {
    return new PermanentError(`S3 ${context.op} ${context.location}: no AWS credentials found (${f.message})`, { cause });
  }
  // Access denied (403), bad requests (4xx), and anything unrecognised: retrying the same request
  // cannot help, and an unknown error retried forever hides a bug.
  return new PermanentError(message, { cause });
}
