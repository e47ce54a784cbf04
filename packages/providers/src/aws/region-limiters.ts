/**
 * One limiter per API family, with other rates for some regions. AWS quotas are per account and
 * region, and a raised quota is raised in one region only, so a region may be given its own
 * rates (`provider.regionLimits`). Every AWS limiter key has the shape
 * `<family>:<account>:<region>[:<more>]` (ec2-api.ts, ebs-api.ts), which is how a take is routed
 * to its region's limiter.
 */
import type { RateLimiter } from '@snapfleet/shared';

export function regionOfLimitKey(key: string): string | undefined {
  return key.split(':')[2];
}

/** `fallback` for every region not in `byRegion`. */
export function routeByRegion(fallback: RateLimiter, byRegion: ReadonlyMap<string, RateLimiter>): RateLimiter {
  if (byRegion.size === 0) return fallback;
  const pick = (key: string) => byRegion.get(regionOfLimitKey(key) ?? '') ?? fallback;
  return {
    points: fallback.points,
    durationMs: fallback.durationMs,
    take: (key, cost, signal) => pick(key).take(key, cost, signal),
    tryTake: (key, cost) => pick(key).tryTake(key, cost),
  };
}
