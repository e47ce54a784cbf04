/**
 * A RateLimiter for the AWS fakes: it never waits and records every key it was asked for, so a
 * test can check which budget each call took from.
 */
import type { RateLimiter } from '@snapfleet/shared';

/** A limiter that never waits and records every key it was asked for. */
export class RecordingLimiter implements RateLimiter {
  readonly points = 1_000_000;
  readonly durationMs = 1000;
  readonly taken: string[] = [];
  async take(key: string, cost = 1): Promise<void> {
    for (let i = 0; i < cost; i++) this.taken.push(key);
  }
  async tryTake(key: string, cost = 1): Promise<number> {
    await this.take(key, cost);
    return 0;
  }
}
