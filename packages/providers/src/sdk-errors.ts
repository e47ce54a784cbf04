/**
 * What the AWS SDK v3 puts on a service exception, read defensively (anything may be thrown), for
 * the S3 and the EC2/EBS classifiers alike; and `redact`, which every SDK message passes through
 * before it reaches an error, a log line or a job's failed reason.
 */

/** Node and undici codes that mean "the connection broke", not "you asked wrong": retry. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export interface SdkErrorFields {
  name: string;
  /** The service's error code where it differs from the name (EC2's `Code`, Node's `ECONNRESET`). */
  code: string;
  status: number | undefined;
  requestId: string | undefined;
  /** The EBS direct APIs' `Reason` (e.g. INVALID_BLOCK_TOKEN). */
  reason: string | undefined;
  /** The SDK's own verdict that this was throttling. */
  throttling: boolean;
  /** The SDK's message, redacted. */
  message: string;
  /** Attempts the SDK made, retries included (`$metadata.attempts`), when it says. */
  attempts: number | undefined;
}

/** A small summary kept as an error's cause instead of the raw SDK error and its request internals. */
export interface SdkErrorSummary {
  name: string;
  code: string | undefined;
  httpStatusCode: number | undefined;
  requestId: string | undefined;
  reason?: string | undefined;
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  Reason?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
  $retryable?: { throttling?: boolean };
}

export function sdkErrorFields(err: unknown): SdkErrorFields {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  return {
    name: stringOr(e.name, 'Error'),
    code: stringOr(e.Code, stringOr(e.code, '')),
    status: e.$metadata?.httpStatusCode,
    requestId: e.$metadata?.requestId,
    reason: stringOr(e.Reason, '') || undefined,
    throttling: e.$retryable?.throttling === true,
    message: redact(stringOr(e.message, String(err))),
    attempts: typeof e.$metadata?.attempts === 'number' ? e.$metadata.attempts : undefined,
  };
}

export function sdkErrorSummary(f: SdkErrorFields): SdkErrorSummary {
  return { name: f.name, code: f.code || undefined, httpStatusCode: f.status, requestId: f.requestId, ...(f.reason ? { reason: f.reason } : {}) };
}

/** "NoSuchKey, HTTP 404": name, code and reason where they add something, and the status. */
export function describeSdkError(f: SdkErrorFields): string {
  // The SDK's HTTP handler renames a reset or refused connection (ECONNRESET, EPIPE...) to
  // TimeoutError; "TimeoutError, ECONNRESET" would send a reader after a timeout that never was.
  const renamed = f.name === 'TimeoutError' && NETWORK_ERROR_CODES.has(f.code) && f.code !== 'ETIMEDOUT';
  return [renamed ? '' : f.name, f.code && f.code !== f.name ? f.code : '', f.reason ?? '', f.status !== undefined ? `HTTP ${f.status}` : '']
    .filter(Boolean)
    .join(', ');
}

/** Access key ids (AKIA…/ASIA…) and presigned-URL signature parts are cut from SDK messages. */
export function redact(text: string): string {
  return text
    .replace(/\b(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b/g, '[redacted-key-id]')
    .replace(/(X-Amz-(?:Credential|Signature|Security-Token)=)[^&\s"']+/gi, '$1[redacted]')
    .replace(/(Credential=|Signature=)[^,\s"']+/g, '$1[redacted]');
}

export function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}
