/**
 * The limiter against a real Redis, shared by several connections the way workers on several hosts
 * share it: the rate they achieve together stays at the limit, and never above.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '@snapfleet/shared';
import { createMemoryRateLimiter, createRedisRateLimiter } from './paced-rate-limiter.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `sf-test-ratelimit-${randomUUID()}`;
const clients: Redis[] = [];

afterAll(async () => {
  const r = clients[0];
  if (r) {
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
  }
  clients.forEach((c) => c.disconnect());
});

function connect(): Redis {
  const c = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  clients.push(c);
  return c;
}

/** Takes `n` points from each limiter concurrently (`inFlight` callers each) and records when each take resolved. */
async function hammer(limiters: { take(key: string): Promise<void> }[], key: string, n: number, inFlight: number): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(
    limiters.flatMap((l) => {
      let left = n;
      return Array.from({ length: inFlight }, async () => {
        while (left-- > 0) {
          await l.take(key);
          times.push(performance.now());
        }
      });
    }),
  );
  return times.sort((a, b) => a - b);
}

/** Grants per second over the run: (count - 1) gaps over the time from the first grant to the last. */
function rateOf(times: number[]): number {
  return ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!);
}

describe('Redis rate limiter', () => {
  it('holds three clients together to the limit over several windows, and lets them reach it', async () => {
    const opts = { name: 'blocks', prefix, points: 100, durationMs: 1000 };
    const limiters = [connect(), connect(), connect()].map((r) => createRedisRateLimiter(r, opts));
    const times = await hammer(limiters, 'acct-1:us-east-1', 120, 8); // 360 grants: 3.6 windows' worth
    expect(times).toHaveLength(360);
    const rate = rateOf(times);
    expect(rate).toBeLessThanOrEqual(100);
    expect(rate).toBeGreaterThan(70);
  });

  it('keeps separate budgets per key', async () => {
    const limiter = createRedisRateLimiter(connect(), { name: 'keys', prefix, points: 5, durationMs: 1000 });
    for (let i = 0; i < 5; i++) expect(await limiter.tryTake('a')).toBe(0);
    expect(await limiter.tryTake('a')).toBeGreaterThan(0);
    expect(await limiter.tryTake('b')).toBe(0);
  });

  it('tryTake refuses past the budget and says how long until the window closes', async () => {
    const limiter = createRedisRateLimiter(connect(), { name: 'policy', prefix, points: 2, durationMs: 60_000 });
    expect(await limiter.tryTake('p', 2)).toBe(0);
    const wait = await limiter.tryTake('p');
    expect(wait).toBeGreaterThan(55_000);
    expect(wait).toBeLessThanOrEqual(60_000);
  });

  it('stops waiting when the signal aborts', async () => {
    const limiter = createRedisRateLimiter(connect(), { name: 'abort', prefix, points: 1, durationMs: 10_000 });
    await limiter.take('x');
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('shutting down')), 50);
    await expect(limiter.take('x', 1, ac.signal)).rejects.toThrow('shutting down');
  });

  it('rejects bad options and costs, naming the field', () => {
    const r = connect();
    expect(() => createRedisRateLimiter(r, { name: 'x', prefix, points: 0, durationMs: 1000 })).toThrow(InvalidInputError);
    expect(() => createRedisRateLimiter(r, { name: 'x', prefix, points: 1, durationMs: 1500 })).toThrow(/durationMs|whole seconds/);
    const limiter = createMemoryRateLimiter({ points: 3, durationMs: 1000 });
    return expect(limiter.take('k', 4)).rejects.toThrow(/cost must be a whole number from 1 to 3/);
  });

  it('reports the store failing as a transient error', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    dead.on('error', () => {}); // the refused connection is the point of this test
    clients.push(dead);
    const limiter = createRedisRateLimiter(dead, { name: 'dead', prefix, points: 1, durationMs: 1000 });
    await expect(limiter.tryTake('k')).rejects.toMatchObject({ kind: 'transient' });
  });
});

describe('memory rate limiter', () => {
  it('paces one process to the limit', async () => {
    const limiter = createMemoryRateLimiter({ points: 50, durationMs: 1000 });
    const times = await hammer([limiter], 'k', 120, 4);
    const rate = rateOf(times);
    expect(rate).toBeLessThanOrEqual(50);
    expect(rate).toBeGreaterThan(35);
  });
});
