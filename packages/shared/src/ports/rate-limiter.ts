/**
 * RateLimiter: a budget of `points` operations per `durationMs` shared by every caller that uses
 * the same key (an AWS account and region, a policy).
 * Backed by Redis it is shared by the whole fleet (every worker on every host), which is what
 * provider quotas need: AWS counts requests per account and region, not per process.
 */
export interface RateLimiter {
  /** Operations granted per key in any window of `durationMs`. */
  readonly points: number;
  readonly durationMs: number;

  /**
   * Waits until `cost` operations (default 1) of `key` fit the budget, then takes them. Rejects
   * with the signal's reason when `signal` aborts first. A cost above `points` is an error.
   */
  take(key: string, cost?: number, signal?: AbortSignal): Promise<void>;

  /**
   * Takes `cost` operations of `key` if they fit now and returns 0; otherwise takes nothing and
   * returns the milliseconds until they may fit (for callers that re-delay a job, not wait).
   */
  tryTake(key: string, cost?: number): Promise<number>;
}
