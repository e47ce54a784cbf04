/**
 * A RateLimiter over rate-limiter-flexible, in Redis for the whole fleet or in memory for one
 * process.
 *
 * rate-limiter-flexible counts points in fixed windows: a window opens at its first request and
 * lasts `durationMs`, and the next opens at the first request after it closed. Granting a window's
 * points at once would let a window's burst follow the previous one's closely, and a fleet would
 * exceed the rate over any span shorter than a few windows. So `take` paces: the c-th point of a
 * window may be used only at `windowStart + (c - 1) * durationMs / points`. Points within a window
 * are then `durationMs / points` apart, and the last of one window and the first of the next are at
 * least that far apart too (windows never overlap), so requests made as soon as `take` resolves
 * never run faster than `points` per `durationMs`, across every process that shares the store.
 * The window start is derived from the store's remaining TTL, a duration, so hosts' clocks do not
 * have to agree. Network latency and late timers still blur each host's idea of it by a few
 * milliseconds, so `take` uses 98% of a window's points (all of them below 50): a fleet stays
 * under a provider's hard limit instead of grazing it.
 *
 * `tryTake` does not pace: it is for coarse budgets (archives per minute of one policy), where a
 * job that fits starts now and one that does not is re-delayed until the window closes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { InvalidInputError, TransientError, type RateLimiter } from '@snapfleet/shared';

export interface RateLimitOptions {
  /** Operations granted per key in a window of `durationMs`. */
  points: number;
  /** Whole seconds: rate-limiter-flexible keeps windows as Redis TTLs in seconds. */
  durationMs: number;
}

export interface RedisRateLimitOptions extends RateLimitOptions {
  /** What is limited, for keys and messages ("ebs-block", "policy-archives"). */
  name: string;
  /** The fleet's Redis namespace. */
  prefix: string;
}

export function createRedisRateLimiter(redis: Redis, options: RedisRateLimitOptions): RateLimiter {
  checkOptions(options);
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${options.prefix}:ratelimit:${options.name}`,
    points: options.points,
    duration: options.durationMs / 1000,
  });
  return new PacedRateLimiter(limiter, options);
}

export function createMemoryRateLimiter(options: RateLimitOptions): RateLimiter {
  checkOptions(options);
  return new PacedRateLimiter(new RateLimiterMemory({ points: options.points, duration: options.durationMs / 1000 }), options);
}

class PacedRateLimiter implements RateLimiter {
  readonly points: number;
  readonly durationMs: number;
  /** Points per window that `take` hands out (see the headroom note above). */
  private readonly pacedPoints: number;

  constructor(
    private readonly limiter: RateLimiterAbstract,
    options: RateLimitOptions,
  ) {
    this.points = options.points;
    this.durationMs = options.durationMs;
    this.pacedPoints = options.points - Math.floor(options.points / 50);
  }

  async take(key: string, cost = 1, signal?: AbortSignal): Promise<void> {
    this.checkCost(cost);
    if (cost > this.pacedPoints) throw new InvalidInputError(`rate limit cost must be at most ${this.pacedPoints} per take, got ${cost}`, 'cost');
    for (;;) {
      signal?.throwIfAborted();
      const res = await this.consume(key, cost);
      const before = Date.now();
      if (res.granted && res.consumedPoints <= this.pacedPoints) {
        // The window opened durationMs before it ends; this grant's points are the last `cost`
        // of `consumedPoints`, so it may start where the first of them is due.
        const windowStart = before + res.msBeforeNext - this.durationMs;
        const due = windowStart + ((res.consumedPoints - cost) * this.durationMs) / this.pacedPoints;
        if (due > before) await wait(due - before, signal);
        return;
      }
      await wait(Math.max(1, res.msBeforeNext), signal);
    }
  }

  async tryTake(key: string, cost = 1): Promise<number> {
    this.checkCost(cost);
    const res = await this.consume(key, cost);
    return res.granted ? 0 : Math.max(1, res.msBeforeNext);
  }

  private async consume(key: string, cost: number): Promise<{ granted: boolean; consumedPoints: number; msBeforeNext: number }> {
    try {
      const r = await this.limiter.consume(key, cost);
      return { granted: true, consumedPoints: r.consumedPoints, msBeforeNext: r.msBeforeNext };
    } catch (err) {
      // Rejections are RateLimiterRes (the window is full); anything else is the store failing.
      if (err instanceof RateLimiterRes) return { granted: false, consumedPoints: err.consumedPoints, msBeforeNext: err.msBeforeNext };
      throw new TransientError(`rate limiter store unavailable: ${(err as Error).message}`, { cause: err });
    }
  }

  private checkCost(cost: number): void {
    if (!Number.isInteger(cost) || cost < 1 || cost > this.points) {
      throw new InvalidInputError(`rate limit cost must be a whole number from 1 to ${this.points}, got ${cost}`, 'cost');
    }
  }
}

/** Sleeps, rejecting with the signal's own reason (timers/promises would give a generic AbortError). */
async function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}

function checkOptions(o: RateLimitOptions): void {
  if (!Number.isInteger(o.points) || o.points < 1) throw new InvalidInputError(`rate limit points must be a whole number >= 1, got ${o.points}`, 'points');
  if (!Number.isInteger(o.durationMs / 1000) || o.durationMs < 1000) {
    throw new InvalidInputError(`rate limit duration must be whole seconds, got ${o.durationMs} ms`, 'durationMs');
  }
}
