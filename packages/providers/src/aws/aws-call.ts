/**
 * callAws: the one way this package calls an AWS API (EC2 or the EBS direct APIs). Each attempt
 * takes one point from the fleet-wide rate limiter (AWS counts requests per account and region,
 * across every worker), runs under its own timeout, and retryable failures are retried with
 * full-jitter exponential backoff; what is left is thrown as an engine error (aws-errors.ts).
 * Request-rate throttling has its own budget of retries, apart from the one for errors: a
 * throttled request was refused before it ran, so a retry is always safe, and a quota shared with
 * other clients of the account can refuse many attempts in a row while the service is healthy.
 *
 * Clients must be built with `maxAttempts: 1` (see ec2-clients.ts): the SDK's own retries would
 * send requests the limiter never saw, and would multiply with the retries here.
 */
import { TransientError, type RateLimiter } from '@snapfleet/shared';
import { classifyAwsError, isQuotaThrottle } from './aws-errors.js';

export interface AwsRetryOptions {
  /** Attempts that may fail with something other than request-rate throttling, counting the first (1 = no retry). */
  attempts: number;
  /** Retries that may follow request-rate throttling, apart from `attempts` (0 = throttles spend `attempts` too). */
  throttledRetries: number;
  /** Backoff cap of the first retry; doubles per attempt. */
  baseMs: number;
  /** Largest backoff cap. */
  maxMs: number;
}

export interface AwsCallContext {
  limiter: RateLimiter;
  /** The limiter bucket, e.g. `ec2:<account>:<region>`: one per API family, account and region. */
  limitKey: string;
  /** Each attempt is aborted after this long. */
  timeoutMs: number;
  retry: AwsRetryOptions;
  /** The caller's cancellation (a job being shut down). Never retried past. */
  signal?: AbortSignal;
  /** Waits between attempts; tests pass a recorder. */
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) for the jitter; tests pass a fixed one. */
  random?: () => number;
  /**
   * False for calls that create something without a client token (CreateSnapshot, CopySnapshot):
   * a timeout or 5xx may have run the request, so only throttling (refused, never run) is retried
   * here, and the caller looks for what the lost attempt made before trying again.
   * @defaultValue true
   */
  idempotent?: boolean;
}

/**
 * Defaults for a job's calls: 6 attempts against errors spread over up to ~40 s (base 200 ms
 * doubling to 20 s); 8 more retries after throttles, so a burst of many block requests against a
 * quota the account shares (a restore next to a fleet, or other tools) is paced out rather than
 * failed. The backoff grows with every failed attempt of either kind, so a call that only meets
 * throttles waits at most ~2 minutes in all before it fails.
 */
export const DEFAULT_AWS_RETRY: AwsRetryOptions = { attempts: 6, throttledRetries: 8, baseMs: 200, maxMs: 20_000 };

/**
 * Runs `send` (which must hand `abortSignal` to `client.send(cmd, { abortSignal })`) until it
 * succeeds, fails for good, or the attempts run out. `what` names the API call and resource for
 * messages ("EC2 CreateSnapshot of vol-0a1b in us-east-1").
 */
export async function callAws<T>(what: string, ctx: AwsCallContext, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const attempts = Math.max(1, Math.floor(ctx.retry.attempts));
  const throttledRetries = Math.max(0, Math.floor(ctx.retry.throttledRetries));
  const sleep = ctx.sleep ?? ((ms: number) => abortableSleep(ms, ctx.signal));
  const random = ctx.random ?? Math.random;
  let failed = 0;
  let throttled = 0;
  for (;;) {
    ctx.signal?.throwIfAborted();
    await ctx.limiter.take(ctx.limitKey, 1, ctx.signal);
    let error;
    try {
      return await attemptOnce(what, ctx, send);
    } catch (err) {
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      error = classifyAwsError(err, what);
    }
    // A snapshot quota clears in minutes, not seconds: hand the delay to the job (re-delay).
    if (!error.retryable || isQuotaThrottle(error)) throw error;
    if (error.kind === 'throttled' && throttled < throttledRetries) throttled++;
    else if (++failed >= attempts) throw error;
    if (ctx.idempotent === false && error.kind !== 'throttled') throw error;
    await sleep(backoffMs(failed + throttled, ctx.retry, random));
  }
}

/** Full jitter (uniform in [0, cap]) keeps many workers throttled together from retrying in step. */
export function backoffMs(attempt: number, retry: AwsRetryOptions, random: () => number = Math.random): number {
  const cap = Math.min(retry.maxMs, retry.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

async function attemptOnce<T>(what: string, ctx: AwsCallContext, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
  // Raced against the signal as well, so a send that ignores its signal still cannot hang a job.
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([send(signal), aborted]);
  } catch (err) {
    if (timeout.aborted && !ctx.signal?.aborted) {
      throw new TransientError(`${what} timed out after ${ctx.timeoutMs} ms`, { cause: { name: 'TimeoutError' } });
    }
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort!);
    aborted.catch(() => {}); // never observed once the race is decided
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
