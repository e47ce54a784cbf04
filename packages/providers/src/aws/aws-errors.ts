/**
 * Classifies AWS SDK errors of the EC2 and EBS direct APIs into the engine's error classes, so the
 * worker can tell "retry with backoff" (throttled, transient) from "fail now" (permanent, not
 * found) without knowing about AWS. Messages name the API call and the resource, never
 * credentials: SDK messages are passed through `redact`, and the cause is a small summary rather
 * than the raw SDK error (which carries request internals).
 */
import { isSnapfleetError, NotFoundError, PermanentError, type SnapfleetError, ThrottledError, TransientError } from '@snapfleet/shared';
import { describeSdkError, NETWORK_ERROR_CODES, sdkErrorFields, sdkErrorSummary, stringOr, type SdkErrorSummary } from '../sdk-errors.js';

/** Request-rate throttling: the same call succeeds after a short, jittered wait. */
const THROTTLING_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'RequestThrottledException', // EBS direct APIs
  'RequestLimitExceeded', // EC2
  'SlowDown',
  'TooManyRequestsException',
  'ConcurrentLimitExceededException', // EBS: too many concurrent PutSnapshotBlock on one snapshot
]);

/**
 * Quota throttling: a limit on snapshots in flight, not on request rate. Seconds of backoff do not
 * help; minutes do, so the fleet re-delays the job instead of retrying inside the call
 * (see `isQuotaThrottle`). Still a ThrottledError: a delay, never a failure.
 */
const QUOTA_NAMES = new Set([
  'ConcurrentSnapshotLimitExceeded', // EC2: snapshots in progress per account/region
  'SnapshotCreationPerVolumeRateExceeded', // EC2: one snapshot start per volume every few seconds
  'ServiceQuotaExceededException', // EBS StartSnapshot: too many snapshots being written
  'ResourceLimitExceeded', // EC2 CopySnapshot: too many copies in flight to one region
]);

/** Failures that pass with time: server-side errors, timeouts, refreshed credentials. */
const TRANSIENT_NAMES = new Set([
  'InternalError',
  'InternalFailure',
  'InternalServerException', // EBS
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'Unavailable', // EC2
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError', // our per-call timeout fired (callAws tells it apart from a caller's abort)
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired', // EC2: signature older than 5 min, e.g. after a long event-loop stall
  'RequestTimeTooSkewed',
  'IDPCommunicationError',
]);

/** A resource that does not exist. EC2 names them `Invalid<Kind>.NotFound` (and `.Malformed`). */
const NOT_FOUND = /^Invalid[A-Za-z]+(?:ID)?\.NotFound$|^ResourceNotFoundException$|^NotFound$/;

/** What the cause of a classified error holds: enough to debug, nothing secret. */
export type AwsErrorSummary = SdkErrorSummary;

/**
 * The engine error for an AWS SDK error raised by `what` (e.g. "EC2 CreateSnapshot of vol-0a1b in
 * us-east-1"). A not-found error is a NotFoundError; callers for which absence is success
 * (DeleteSnapshot) check for it themselves.
 */
export function classifyAwsError(err: unknown, what: string): SnapfleetError {
  if (isSnapfleetError(err)) return err;
  const f = sdkErrorFields(err);
  const { name, code, status } = f;
  const cause = sdkErrorSummary(f);
  const message = `${what} failed (${describeSdkError(f)}): ${f.message}`;
  const is = (names: Set<string>) => names.has(name) || names.has(code);

  if (is(QUOTA_NAMES)) return new ThrottledError(message, { cause });
  if (is(THROTTLING_NAMES) || f.throttling || status === 429) return new ThrottledError(message, { cause });
  if (NOT_FOUND.test(name) || NOT_FOUND.test(code)) return new NotFoundError(message, { cause });
  if (is(TRANSIENT_NAMES) || NETWORK_ERROR_CODES.has(code) || (status !== undefined && status >= 500)) {
    return new TransientError(message, { cause });
  }
  if (name === 'CredentialsProviderError') {
    return new PermanentError(`${what}: no AWS credentials found (${f.message})`, { cause });
  }
  // UnauthorizedOperation, AccessDenied(Exception), ValidationException, InvalidParameterValue,
  // IncorrectState and anything unrecognised: the same request fails the same way again, and an
  // unknown error retried forever hides a bug.
  return new PermanentError(message, { cause });
}

/** The AWS error name behind a classified error (or a raw SDK error), if there is one. */
export function awsErrorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const cause = (err as { cause?: unknown }).cause;
  if (isSnapfleetError(err)) return typeof cause === 'object' && cause !== null ? stringOr((cause as AwsErrorSummary).name, '') || undefined : undefined;
  return stringOr((err as { name?: unknown }).name, '') || undefined;
}

/** A snapshot-quota throttle: re-delay the job for minutes rather than retry the call now. */
export function isQuotaThrottle(err: unknown): boolean {
  const name = awsErrorName(err);
  return name !== undefined && QUOTA_NAMES.has(name);
}

/** Whether the error says the resource does not exist (for calls where absence is success). */
export function isAwsNotFound(err: unknown): boolean {
  if (err instanceof NotFoundError) return true;
  const name = awsErrorName(err);
  return name !== undefined && NOT_FOUND.test(name);
}
