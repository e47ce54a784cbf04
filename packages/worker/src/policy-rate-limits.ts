/**
 * Policy rate limits: at most `max` archive jobs of a policy start per `duration` across the whole
 * fleet (`policies[].rateLimit`). The budget is a RateLimiter shared through Redis, keyed by the
 * policy, so every worker on every host draws on the same points. A job asks once, when it is
 * about to start, and learns how long to wait when the budget is spent: the caller re-delays it
 * rather than holding a worker slot.
 */
import type { RateLimiter } from '@snapfleet/shared';
import type { PolicyConfig } from '@snapfleet/shared/config';
import { encodePolicyPart } from '@snapfleet/shared/jobs';

export type RateLimiterFactory = (spec: { points: number; durationMs: number }) => RateLimiter;

export interface PolicyRateLimits {
  /** 0 when an archive of the policy may start now (and takes a point); else the ms to wait. */
  tryStart(policy: PolicyConfig & { rateLimit: NonNullable<PolicyConfig['rateLimit']> }): Promise<number>;
}

export function createPolicyRateLimits(make: RateLimiterFactory): PolicyRateLimits {
  // One limiter per budget shape: a reload that changes max or duration gets a new one, and the
  // count already spent in the current window carries over (the Redis key is the policy's).
  const limiters = new Map<string, RateLimiter>();
  return {
    async tryStart(policy) {
      const { max, duration } = policy.rateLimit;
      const shape = `${max}/${duration}`;
      let limiter = limiters.get(shape);
      if (!limiter) {
        limiter = make({ points: max, durationMs: duration });
        limiters.set(shape, limiter);
      }
      return limiter.tryTake(encodePolicyPart(policy.name));
    },
  };
}
